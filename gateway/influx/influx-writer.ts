/**
 * The only module that writes to InfluxDB, through the official client's transport (v1 mapped by
 * `V1Transport`). The InfluxDB sink uses `writeBatch` (a batch as requests of `batchSize` lines,
 * gzip, resolved on a 2xx for every request) and `writeIsolated` (one request, for finding refused
 * lines); it retries failed batches itself. `write()` is the client's WriteApi (batching, retries;
 * resolves only once `writeSuccess` reported every line): no longer used by the gateway, kept with
 * its tests until it is removed together with `influx.flushIntervalMs`, `maxRetries`, `maxRetryDelayMs`.
 */
import { HttpError, InfluxDB, setLogger, type Transport, type WriteApi, type WriteOptions } from '@influxdata/influxdb-client';

import type { InfluxConfig } from '../../config/schema.js';
import { InfluxWriteError } from './influx-errors.js';
import type { Logger } from '../../lib/logger.js';
import type { GatewayMetrics } from '../metrics.js';
import { RateLimitedLog } from '../../lib/rate-limited-log.js';
import { InfluxQuery, basicAuth, quoteIdentifier } from './influx-query.js';
import { V1Transport, createV2Transport, parseRetryAfterMs } from './v1-transport.js';

export interface InfluxWriterDeps {
  log: Logger;
  metrics: GatewayMetrics;
}

export interface StopOptions {
  /** Longest wait for outstanding write() calls to settle before closing; default 10 s. */
  timeoutMs?: number;
}

/** Why lines were given up on; the `reason` label of storeloop_points_dropped_total. */
export type DropReason = 'partial_write' | 'rejected' | 'retries_exhausted' | 'retry_time_exceeded' | 'retry_buffer_full' | 'stopped';

/** One write() call: settles once all its lines are reported written, or on the first given-up line. */
interface WriteCall {
  readonly size: number;
  readonly startedAt: number;
  remaining: number;
  settled: boolean;
  resolve(): void;
  reject(err: InfluxWriteError): void;
}

const DEFAULT_STOP_TIMEOUT_MS = 10_000;
const PING_TIMEOUT_MS = 2_000;
/** First retry delay; the client's default (5 s) ignores a smaller maxRetryDelay, so it is capped by it. */
const MIN_RETRY_DELAY_MS = 1_000;
const RETRY_JITTER_MS = 200;
/** The client's default retry buffer (32 000 lines), grown so a few full batches always fit. */
const MIN_RETRY_BUFFER_LINES = 32_000;
const MAX_SERVER_MESSAGE_CHARS = 200;
const LOG_WINDOW_MS = 10_000;
/** The client's own error for lines whose retry time ran out (WriteApiImpl.sendBatch). */
const RETRY_TIME_EXCEEDED = 'Max retry time exceeded.';

export class InfluxWriter {
  private readonly log: Logger;
  private readonly query: InfluxQuery;
  private readonly warnings: RateLimitedLog;
  private writeApi: WriteApi | undefined;
  private transport: Transport | undefined;
  private state: 'new' | 'started' | 'stopping' | 'stopped' = 'new';
  private stopping: Promise<void> | undefined;
  /** Line → the write() calls waiting for one accepted copy of it, one entry per copy sent. */
  private readonly waiters = new Map<string, WriteCall[]>();
  private readonly pending = new Set<WriteCall>();
  private idleListeners: Array<() => void> = [];
  private databaseReady: boolean;
  private creatingDatabase: Promise<boolean> | undefined;

  /** Stores its arguments; nothing talks to InfluxDB before start(). */
  constructor(
    private readonly config: InfluxConfig,
    private readonly deps: InfluxWriterDeps,
  ) {
    this.log = deps.log.child({ module: 'influx' });
    this.warnings = new RateLimitedLog(this.log, LOG_WINDOW_MS);
    this.query = new InfluxQuery(config);
    this.databaseReady = !this.needsDatabase();
  }

  /** Creates the v1 database (when configured; never throws if InfluxDB is down) and the WriteApi. */
  async start(): Promise<void> {
    if (this.state !== 'new') return;
    this.state = 'started';
    // The client logs through one process-wide logger; route it here instead of console.
    setLogger(clientLogger(this.log));
    const { api, url, database, bucket, org, retentionPolicy, username, password, token, timeoutMs } = this.config;
    const transport =
      api === 'v1'
        ? new V1Transport({ url, database, retentionPolicy, username, password, timeoutMs, onDatabaseNotFound: () => this.recreateDatabase() })
        : createV2Transport({ url, token, timeoutMs });
    this.transport = transport;
    this.writeApi = new InfluxDB({ url, transport }).getWriteApi(api === 'v1' ? '' : org, api === 'v1' ? database : bucket, 'ns', this.writeOptions());
    this.log.info(
      { api, batchSize: this.config.batchSize, flushIntervalMs: this.config.flushIntervalMs, maxRetries: this.config.maxRetries },
      'influx writer started',
    );
    await this.ensureDatabase();
  }

  /**
   * Queues line-protocol lines (ns timestamps). Resolves once InfluxDB accepted every one of them;
   * rejects with InfluxWriteError when the client gives up on any of them.
   */
  write(lines: string[]): Promise<void> {
    const writeApi = this.writeApi;
    if (this.state !== 'started' || writeApi === undefined) {
      const message = this.state === 'new' ? 'InfluxDB writer not started' : 'InfluxDB writer stopped';
      return Promise.reject(new InfluxWriteError(message, { context: { api: this.config.api, lines: lines.length, reason: this.state } }));
    }
    if (lines.length === 0) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const call: WriteCall = { size: lines.length, startedAt: performance.now(), remaining: lines.length, settled: false, resolve, reject };
      this.pending.add(call);
      for (const line of lines) {
        const list = this.waiters.get(line);
        if (list === undefined) this.waiters.set(line, [call]);
        else list.push(call);
      }
      try {
        writeApi.writeRecords(lines);
      } catch (err) {
        this.forget(call, lines);
        this.settle(call, new InfluxWriteError('InfluxDB writer refused the lines', { cause: err, context: { api: this.config.api, lines: lines.length } }));
      }
    });
  }

  /**
   * Sends exactly these lines in one request: no batching with other calls, no retries. For finding
   * the lines of a rejected batch (bisecting) and for draining the spool in known batches; rejects
   * with InfluxWriteError carrying the HTTP status.
   */
  async writeIsolated(lines: string[]): Promise<void> {
    if (lines.length === 0) return;
    await this.postBody(lines.join('\n'), lines.length, false);
  }

  /** One POST of a body of `lineCount` lines through the transport (v1 mapped to /write); counts it; throws InfluxWriteError. */
  private async postBody(body: string, lineCount: number, gzip: boolean): Promise<void> {
    const transport = this.transport;
    if (this.state !== 'started' || transport === undefined) {
      throw new InfluxWriteError('InfluxDB writer not started', { context: { api: this.config.api, lines: lineCount, reason: this.state } });
    }
    if (lineCount === 0) return;
    const { api, org, bucket, database } = this.config;
    const params = new URLSearchParams({ org: api === 'v1' ? '' : org, bucket: api === 'v1' ? database : bucket, precision: 'ns' });
    const startedAt = performance.now();
    const options = { method: 'POST', headers: { 'content-type': 'text/plain; charset=utf-8' }, ...(gzip ? { gzipThreshold: this.config.gzipThreshold } : {}) };
    try {
      await transport.request(`/api/v2/write?${params.toString()}`, body, options);
    } catch (err) {
      const status = err instanceof HttpError ? err.statusCode : undefined;
      this.deps.metrics.writeFailures.inc({ status: status === undefined ? 'network' : String(status) });
      if (status === undefined || status >= 500) this.deps.metrics.influxUp.set(0);
      const message = err instanceof Error ? serverMessage(err) : String(err);
      // 1.x answers 404 "database not found" when the database was dropped: create it, the retry lands
      if (status === 404 && /database not found/i.test(message)) await this.recreateDatabase();
      const retryable = status === 404 && /database not found/i.test(message);
      const retryAfter = err instanceof HttpError ? err.headers?.['retry-after'] : undefined;
      const retryAfterMs = parseRetryAfterMs(Array.isArray(retryAfter) ? retryAfter[0] : retryAfter);
      throw new InfluxWriteError(`InfluxDB write failed${status === undefined ? '' : ` (HTTP ${status})`}: ${message}`, {
        cause: err,
        context: { api, status: retryable ? 503 : status, lines: lineCount, serverMessage: message, ...(retryAfterMs === undefined ? {} : { retryAfterMs }) },
      });
    }
    const { metrics } = this.deps;
    metrics.pointsWritten.inc(lineCount);
    metrics.batchPoints.observe(lineCount);
    metrics.writeLatency.observe((performance.now() - startedAt) / 1000);
    metrics.influxUp.set(1);
  }

  /**
   * Writes a sink batch: its lines in requests of at most `batchSize` lines, sent together, gzip-
   * compressed from `gzipThreshold` bytes (on libuv's thread pool). Resolves once InfluxDB answered
   * 2xx to every request; rejects with InfluxWriteError (the HTTP status in its context) otherwise.
   * No retries here: the sink runner retries the whole batch, and points overwrite themselves.
   */
  async writeBatch(lines: string[]): Promise<void> {
    if (lines.length === 0) return;
    const { batchSize } = this.config;
    const bodies: string[] = [];
    const counts: number[] = [];
    for (let from = 0; from < lines.length; from += batchSize) {
      const part = lines.slice(from, from + batchSize);
      bodies.push(part.join('\n'));
      counts.push(part.length);
    }
    await this.writeBodies(bodies, counts);
  }

  /** Writes request bodies made already (`bodyLines[i]` lines in `bodies[i]`), together, gzip as configured. */
  async writeBodies(bodies: string[], bodyLines: number[]): Promise<void> {
    const results = await Promise.allSettled(bodies.map((body, i) => this.postBody(body, bodyLines[i] ?? 0, true)));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
  }

  /** GET /ping (1.x and 2.x answer 204); updates influxUp and creates a missing v1 database once up. */
  async ping(): Promise<boolean> {
    let up = false;
    try {
      const res = await fetch(`${this.config.url.replace(/\/+$/, '')}/ping`, { headers: this.authHeaders(), signal: AbortSignal.timeout(PING_TIMEOUT_MS) });
      await res.body?.cancel();
      up = res.ok;
    } catch {
      up = false; // refused, reset or timed out: all mean "down" here
    }
    this.deps.metrics.influxUp.set(up ? 1 : 0);
    if (up && !this.databaseReady) await this.ensureDatabase();
    return up;
  }

  /** Flushes, waits for outstanding write() calls (bounded), closes; calls still open are rejected. */
  stop(opts: StopOptions = {}): Promise<void> {
    this.stopping ??= this.doStop(opts.timeoutMs ?? DEFAULT_STOP_TIMEOUT_MS);
    return this.stopping;
  }

  private async doStop(timeoutMs: number): Promise<void> {
    const writeApi = this.writeApi;
    if (this.state === 'new' || writeApi === undefined) {
      this.state = 'stopped';
      return;
    }
    this.state = 'stopping';
    // A failed flush has already been reported through writeFailed; retries go on while we wait.
    await writeApi.flush().catch(() => undefined);
    const settledInTime = await this.waitUntilIdle(timeoutMs);
    this.state = 'stopped';
    await writeApi.close().catch(() => undefined);
    const open = [...this.pending];
    const lines = open.reduce((sum, call) => sum + call.remaining, 0);
    if (open.length > 0) {
      this.deps.metrics.pointsDropped.inc({ reason: 'stopped' }, lines);
      this.log.error({ calls: open.length, lines, timeoutMs }, 'influx writer stopped with unconfirmed lines');
    }
    for (const call of open) {
      this.settle(
        call,
        new InfluxWriteError('InfluxDB writer stopped before the lines were confirmed', {
          context: { api: this.config.api, lines: call.size, reason: 'stopped' },
        }),
      );
    }
    this.waiters.clear();
    this.log.info({ settledInTime }, 'influx writer stopped');
  }

  private writeOptions(): Partial<WriteOptions> {
    const { batchSize, flushIntervalMs, maxRetries, maxRetryDelayMs, gzipThreshold } = this.config;
    return {
      batchSize,
      flushInterval: flushIntervalMs,
      maxRetries,
      maxRetryDelay: maxRetryDelayMs,
      minRetryDelay: Math.min(MIN_RETRY_DELAY_MS, maxRetryDelayMs),
      retryJitter: Math.min(RETRY_JITTER_MS, maxRetryDelayMs),
      gzipThreshold,
      maxBufferLines: Math.max(MIN_RETRY_BUFFER_LINES, batchSize * 4),
      writeSuccess: (lines) => this.onWriteSuccess(lines),
      writeFailed: (error, lines, attempt) => this.onWriteFailed(error, lines, attempt),
      writeRetrySkipped: (entry) => this.giveUp(entry.lines, 'retry_buffer_full'),
    };
  }

  private onWriteSuccess(lines: string[]): void {
    const { metrics } = this.deps;
    metrics.pointsWritten.inc(lines.length);
    metrics.batchPoints.observe(lines.length);
    metrics.influxUp.set(1);
    let unmatched = 0;
    for (const line of lines) {
      const call = this.takeWaiter(line, 'success');
      if (call === undefined) unmatched++;
      else if (!call.settled && --call.remaining === 0) this.settle(call);
    }
    if (unmatched > 0) this.log.debug({ lines: lines.length, unmatched }, 'influx batch had lines without a waiting write()');
    this.log.debug({ lines: lines.length }, 'influx batch written');
  }

  private onWriteFailed(error: Error, lines: string[], attempt: number): void {
    // InfluxDB Enterprise's "hinted handoff queue not empty" is a success; the client calls writeSuccess next.
    if (error instanceof HttpError && /hinted handoff queue not empty/.test(error.message)) return;
    if (!(error instanceof HttpError) && error.message === RETRY_TIME_EXCEEDED) {
      this.giveUp(lines, 'retry_time_exceeded', error);
      return;
    }
    const status = error instanceof HttpError ? error.statusCode : undefined;
    this.deps.metrics.writeFailures.inc({ status: status === undefined ? 'network' : String(status) });
    if (status === undefined || status >= 500) this.deps.metrics.influxUp.set(0);
    // Mirrors WriteApiImpl: network errors and HTTP >= 429 are retried while attempts remain.
    const willRetry = this.state !== 'stopped' && attempt <= this.config.maxRetries && (status === undefined || status >= 429);
    if (willRetry) {
      this.warnings.run(`retry:${status ?? 'network'}`, (suppressed) =>
        this.log.warn(
          { status: status ?? 'network', attempt, lines: lines.length, suppressed, serverMessage: serverMessage(error) },
          'influx write failed, will retry',
        ),
      );
      return;
    }
    const reason: DropReason =
      status !== undefined && status < 429 ? (/partial write/i.test(error.message) ? 'partial_write' : 'rejected') : 'retries_exhausted';
    this.giveUp(lines, reason, error, attempt);
  }

  /** The client has given up on `lines`: count, log, and reject the write() calls they belong to. */
  private giveUp(lines: string[], reason: DropReason, error?: Error, attempt?: number): void {
    const status = error instanceof HttpError ? error.statusCode : undefined;
    const message = error === undefined ? undefined : serverMessage(error);
    this.countDropped(lines.length, reason, message);
    this.warnings.run(`drop:${reason}:${status ?? ''}`, (suppressed) =>
      this.log.error({ status, reason, attempt, lines: lines.length, suppressed, serverMessage: message }, 'influx write given up, lines dropped'),
    );
    const rejected = new Set<WriteCall>();
    for (const line of lines) {
      const call = this.takeWaiter(line, 'failure');
      if (call !== undefined && !call.settled) rejected.add(call);
    }
    for (const call of rejected) {
      const text = `InfluxDB write failed (${reason}${status === undefined ? '' : `, HTTP ${status}`})${message === undefined ? '' : `: ${message}`}`;
      this.settle(
        call,
        new InfluxWriteError(text, {
          cause: error,
          context: { api: this.config.api, status, lines: call.size, batchLines: lines.length, reason, serverMessage: message },
        }),
      );
    }
  }

  /** 1.x reports `dropped=N` (type conflicts) and one "unable to parse" per bad line; the rest was written. */
  private countDropped(batchLines: number, reason: DropReason, message: string | undefined): void {
    const { metrics } = this.deps;
    if (reason === 'partial_write' && message !== undefined) {
      const dropped = Number(/dropped=(\d+)/.exec(message)?.[1] ?? 0) + (message.match(/unable to parse/g)?.length ?? 0);
      if (dropped > 0 && dropped < batchLines) {
        metrics.pointsDropped.inc({ reason }, dropped);
        metrics.pointsWritten.inc(batchLines - dropped);
        return;
      }
    }
    metrics.pointsDropped.inc({ reason }, batchLines);
  }

  /**
   * Removes one waiter for one reported copy of `line`. Identical lines are identical data, so any
   * call waiting for it may be credited: successes go to a call still open, failures to one that is
   * already settled if there is one, so a copy written elsewhere does not fail an open call.
   */
  private takeWaiter(line: string, outcome: 'success' | 'failure'): WriteCall | undefined {
    const list = this.waiters.get(line);
    if (list === undefined) return undefined;
    const wantSettled = outcome === 'failure';
    const index = Math.max(
      0,
      list.findIndex((call) => call.settled === wantSettled),
    );
    const [call] = list.splice(index, 1);
    if (list.length === 0) this.waiters.delete(line);
    return call;
  }

  private forget(call: WriteCall, lines: string[]): void {
    for (const line of lines) {
      const list = this.waiters.get(line);
      const index = list?.indexOf(call) ?? -1;
      if (list === undefined || index < 0) continue;
      list.splice(index, 1);
      if (list.length === 0) this.waiters.delete(line);
    }
  }

  private settle(call: WriteCall, err?: InfluxWriteError): void {
    if (call.settled) return;
    call.settled = true;
    this.pending.delete(call);
    if (err === undefined) {
      this.deps.metrics.writeLatency.observe((performance.now() - call.startedAt) / 1000);
      call.resolve();
    } else {
      call.reject(err);
    }
    if (this.pending.size === 0) {
      const listeners = this.idleListeners;
      this.idleListeners = [];
      for (const listener of listeners) listener();
    }
  }

  /** Resolves true once no write() call is open, false when `timeoutMs` passed first. */
  private waitUntilIdle(timeoutMs: number): Promise<boolean> {
    if (this.pending.size === 0) return Promise.resolve(true);
    return new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), timeoutMs);
      this.idleListeners.push(() => {
        clearTimeout(timer);
        resolve(true);
      });
    });
  }

  private needsDatabase(): boolean {
    return this.config.api === 'v1' && this.config.createDatabase;
  }

  /** CREATE DATABASE once (1.x: harmless when it exists); false and a warning when InfluxDB is unreachable. */
  private ensureDatabase(): Promise<boolean> {
    if (this.databaseReady) return Promise.resolve(true);
    this.creatingDatabase ??= this.createDatabase().finally(() => (this.creatingDatabase = undefined));
    return this.creatingDatabase;
  }

  /** A write got `database not found` (dropped at runtime, or down at start): create it again. */
  private recreateDatabase(): Promise<boolean> {
    if (!this.needsDatabase()) return Promise.resolve(false);
    this.databaseReady = false;
    return this.ensureDatabase();
  }

  private async createDatabase(): Promise<boolean> {
    const { database } = this.config;
    try {
      await this.query.query(`CREATE DATABASE ${quoteIdentifier(database)}`);
      this.databaseReady = true;
      this.log.info({ database }, 'influx database ready');
      return true;
    } catch (err) {
      this.warnings.run('create-database', (suppressed) =>
        this.log.warn({ database, suppressed, err }, 'could not create the influx database, will retry when InfluxDB answers'),
      );
      return false;
    }
  }

  private authHeaders(): Record<string, string> {
    const { api, token, username, password } = this.config;
    if (api === 'v2' && token !== undefined) return { authorization: `Token ${token}` };
    if (api === 'v1' && username !== undefined) return { authorization: basicAuth(username, password ?? '') };
    return {};
  }
}

/**
 * The server's error text for logs and errors: at most 200 characters, with the line InfluxDB quotes
 * in "unable to parse '<line>'" cut out, as lines hold pseudonymous ids.
 */
export function serverMessage(error: Error): string {
  const code = (error as { code?: unknown }).code;
  const text = error instanceof HttpError || typeof code !== 'string' ? error.message : `${code}: ${error.message}`;
  return text.replace(/unable to parse '.*'(: )/g, "unable to parse '[line]'$1").slice(0, MAX_SERVER_MESSAGE_CHARS);
}

/** The client's Log, at debug level: storeloop logs the same failures itself, with structure. */
function clientLogger(log: Logger): { error(message: string, err?: unknown): void; warn(message: string, err?: unknown): void } {
  const summary = (err: unknown) => (err instanceof HttpError ? { status: err.statusCode } : err instanceof Error ? { name: err.name } : undefined);
  return {
    error: (message, err) => log.debug({ client: summary(err) }, `influxdb-client: ${message}`),
    warn: (message, err) => log.debug({ client: summary(err) }, `influxdb-client: ${message}`),
  };
}
