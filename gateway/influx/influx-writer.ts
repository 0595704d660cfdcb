/**
 * The only module that writes to InfluxDB, through the official client's transport (v1 mapped by
 * `V1Transport`). The InfluxDB sink uses `writeBodies` (bodies its encoder made, sent together, gzip
 * from `gzipThreshold`; resolved on a 2xx for every request) and `writeIsolated` (one request, for
 * finding refused lines); `writeBatch` makes the bodies from lines itself. No retries and no
 * buffering here: the sink retries a failed batch, and a retried point overwrites itself.
 */
import { HttpError, setLogger, type Transport } from '@influxdata/influxdb-client';

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
  /** Longest wait for requests in flight to settle; default 10 s. */
  timeoutMs?: number;
}

const DEFAULT_STOP_TIMEOUT_MS = 10_000;
const PING_TIMEOUT_MS = 2_000;
const MAX_SERVER_MESSAGE_CHARS = 200;
const LOG_WINDOW_MS = 10_000;

export class InfluxWriter {
  private readonly log: Logger;
  private readonly query: InfluxQuery;
  private readonly warnings: RateLimitedLog;
  private transport: Transport | undefined;
  private state: 'new' | 'started' | 'stopped' = 'new';
  private stopping: Promise<void> | undefined;
  /** Requests sent and not yet answered; stop() waits for them (bounded). */
  private readonly inFlight = new Set<Promise<void>>();
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

  /** Creates the transport and the v1 database (when configured; never throws if InfluxDB is down). */
  async start(): Promise<void> {
    if (this.state !== 'new') return;
    this.state = 'started';
    // The client logs through one process-wide logger; route it here instead of console.
    setLogger(clientLogger(this.log));
    const { api, url, database, retentionPolicy, username, password, token, timeoutMs } = this.config;
    this.transport =
      api === 'v1' ? new V1Transport({ url, database, retentionPolicy, username, password, timeoutMs }) : createV2Transport({ url, token, timeoutMs });
    this.log.info({ api, batchSize: this.config.batchSize }, 'influx writer started');
    await this.ensureDatabase();
  }

  /**
   * Sends exactly these lines in one request: no batching with other calls, no retries. For finding
   * the lines of a rejected batch (bisecting) and for draining the legacy spool; rejects with
   * InfluxWriteError carrying the HTTP status.
   */
  async writeIsolated(lines: string[]): Promise<void> {
    if (lines.length === 0) return;
    await this.postBody(lines.join('\n'), lines.length, false);
  }

  /**
   * Writes a batch: its lines in requests of at most `batchSize` lines, sent together, gzip-
   * compressed from `gzipThreshold` bytes (on libuv's thread pool). Resolves once InfluxDB answered
   * 2xx to every request; rejects with InfluxWriteError (the HTTP status in its context) otherwise.
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

  /** One POST of a body of `lineCount` lines, tracked for stop(); throws InfluxWriteError. */
  private postBody(body: string, lineCount: number, gzip: boolean): Promise<void> {
    const transport = this.transport;
    if (this.state !== 'started' || transport === undefined) {
      const message = this.state === 'new' ? 'InfluxDB writer not started' : 'InfluxDB writer stopped';
      return Promise.reject(new InfluxWriteError(message, { context: { api: this.config.api, lines: lineCount, reason: this.state } }));
    }
    if (lineCount === 0) return Promise.resolve();
    const request = this.send(transport, body, lineCount, gzip);
    this.inFlight.add(request);
    const forget = () => this.inFlight.delete(request);
    request.then(forget, forget);
    return request;
  }

  /** Sends through the transport (v1 mapped to /write); counts the outcome in the metrics. */
  private async send(transport: Transport, body: string, lineCount: number, gzip: boolean): Promise<void> {
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
      const databaseMissing = status === 404 && /database not found/i.test(message);
      if (databaseMissing) await this.recreateDatabase();
      const retryAfter = err instanceof HttpError ? err.headers?.['retry-after'] : undefined;
      const retryAfterMs = parseRetryAfterMs(Array.isArray(retryAfter) ? retryAfter[0] : retryAfter);
      throw new InfluxWriteError(`InfluxDB write failed${status === undefined ? '' : ` (HTTP ${status})`}: ${message}`, {
        cause: err,
        context: {
          api,
          status: databaseMissing ? 503 : status,
          lines: lineCount,
          serverMessage: message,
          ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
        },
      });
    }
    const { metrics } = this.deps;
    metrics.pointsWritten.inc(lineCount);
    metrics.batchPoints.observe(lineCount);
    metrics.writeLatency.observe((performance.now() - startedAt) / 1000);
    metrics.influxUp.set(1);
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

  /** Refuses new writes, then waits (bounded) for the requests in flight to be answered. */
  stop(opts: StopOptions = {}): Promise<void> {
    this.stopping ??= this.doStop(opts.timeoutMs ?? DEFAULT_STOP_TIMEOUT_MS);
    return this.stopping;
  }

  private async doStop(timeoutMs: number): Promise<void> {
    const wasStarted = this.state === 'started';
    this.state = 'stopped';
    if (!wasStarted) return;
    const inFlight = this.inFlight.size;
    let timer: NodeJS.Timeout | undefined;
    const settledInTime = await Promise.race([
      Promise.allSettled([...this.inFlight]).then(() => true),
      new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs))),
    ]);
    clearTimeout(timer);
    if (!settledInTime) this.log.warn({ inFlight, timeoutMs }, 'influx writer stopped with requests still unanswered');
    this.log.info({ settledInTime }, 'influx writer stopped');
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
