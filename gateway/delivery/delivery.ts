/**
 * Delivery makes acknowledged points durable: InfluxDB when it answers, else the on-disk spool.
 *
 * - direct: points go to InfluxDB through the writer; the caller learns `written` on 2xx.
 * - spooling: InfluxDB failed, was too slow (directTimeoutMs) or too far behind (maxDirectLines in
 *   flight): points are appended to the spool and fsynced; the caller learns `spooled`. A probe pings
 *   InfluxDB every probeIntervalMs and switches back to direct when it answers.
 * - the drainer empties the spool oldest first in isolated batches at a bounded rate (drainLinesPerSecond)
 *   while live traffic goes direct, so a backlog never starves live data.
 * - a batch InfluxDB refuses for good (4xx) is bisected down to the offending lines, which are
 *   dead-lettered with the server's reason; the other lines are written.
 * - a full spool while InfluxDB is down is backpressure: deliver() rejects with BackpressureError and
 *   the caller stops acknowledging. Nothing acknowledged is ever dropped.
 * Points are idempotent (docs/schema.md), so a line that reaches InfluxDB twice (a slow direct write
 * that also got spooled, a checkpoint replayed after a crash) changes nothing.
 */
import { Gauge } from 'prom-client';

import type { Logger } from '../../lib/logger.js';
import type { GatewayMetrics } from '../metrics.js';
import { StoreloopError } from '../../lib/errors.js';
import { withTimeout } from '../../lib/with-timeout.js';
import { isPermanentWriteFailure } from '../ingest/write-failure.js';
import { SpoolFullError, type Spool, type SpoolRecord } from '../../lib/spool/spool.js';
import type { DeadLetter, DeadLetterStore } from './dead-letters.js';
import type { Ledger } from './ledger.js';

export type DeliveryResult = 'written' | 'spooled' | 'dead_lettered';

export interface DeliveryEntry {
  store: string;
  kind: string;
  lines: string[];
  /** QoS 0: never held, spooled only while the spool is less than half full, else shed. */
  bestEffort?: boolean;
}

export interface DeliveryWriter {
  write(lines: string[]): Promise<void>;
  writeIsolated(lines: string[]): Promise<void>;
  ping(): Promise<boolean>;
}

export interface DeliveryOptions {
  directTimeoutMs: number;
  maxDirectLines: number;
  probeIntervalMs: number;
  drainBatchRecords: number;
  drainLinesPerSecond: number;
  /** How long a QoS 1 delivery waits for room when InfluxDB is down and the spool full. */
  backpressureHoldMs: number;
}

export const DEFAULT_DELIVERY_OPTIONS: DeliveryOptions = {
  directTimeoutMs: 2_000,
  maxDirectLines: 200_000,
  probeIntervalMs: 1_000,
  drainBatchRecords: 500,
  drainLinesPerSecond: 100_000,
  backpressureHoldMs: 5_000,
};
const BACKPRESSURE_POLL_MS = 250;

export class BackpressureError extends StoreloopError {
  constructor(message: string, context: Record<string, unknown>, cause?: unknown) {
    super('SL_ERR_BACKPRESSURE', message, context, { cause });
  }
}

interface SpooledPayload {
  s: string;
  k: string;
  l: string[];
}

type Mode = 'direct' | 'spooling';

export interface DeliveryStatus {
  /** direct: points go to InfluxDB; spooling: InfluxDB is down or slow, points go to the spool. */
  mode: Mode;
  spool: { pendingMessages: number; pendingBytes: number; quotaBytes: number; oldestAgeSeconds: number; drainLinesPerSecond: number; full: boolean };
  deadLetters: number;
}

export class Delivery {
  private mode: Mode = 'direct';
  private directLines = 0;
  private stopped = false;
  private probeTimer: NodeJS.Timeout | undefined;
  private draining: Promise<void> | undefined;
  private drainedLines = 0;
  private drainRate = 0;
  private readonly log: Logger;

  constructor(
    private readonly deps: { writer: DeliveryWriter; spool: Spool; ledger: Ledger; deadLetters: DeadLetterStore; metrics: GatewayMetrics; log: Logger },
    private readonly options: DeliveryOptions = DEFAULT_DELIVERY_OPTIONS,
  ) {
    this.log = deps.log.child({ module: 'delivery' });
    this.registerSpoolGauges();
  }

  /** Spool state for /metrics, read when Prometheus scrapes. */
  private registerSpoolGauges(): void {
    const registers = [this.deps.metrics.registry];
    const stats = () => this.deps.spool.stats();
    new Gauge({ name: 'storeloop_spool_pending_bytes', help: 'Bytes in the outage spool waiting for InfluxDB', registers, collect() { this.set(stats().pendingBytes); } });
    new Gauge({ name: 'storeloop_spool_pending_messages', help: 'Messages in the outage spool waiting for InfluxDB', registers, collect() { this.set(stats().pendingRecords); } });
    new Gauge({ name: 'storeloop_spool_quota_bytes', help: 'The spool quota (spool.quotaBytes)', registers, collect() { this.set(stats().quotaBytes); } });
    new Gauge({
      name: 'storeloop_spool_oldest_age_seconds',
      help: 'Age of the oldest message in the spool (0 when empty)',
      registers,
      collect() {
        const oldest = stats().oldestAppendedAt;
        this.set(oldest === null ? 0 : (Date.now() - oldest) / 1000);
      },
    });
    const drainRate = () => this.drainRate;
    new Gauge({ name: 'storeloop_spool_drain_lines_per_second', help: 'Current drain rate of the spool into InfluxDB', registers, collect() { this.set(drainRate()); } });
  }

  /** What /readyz and the API show about delivery. */
  status(): DeliveryStatus {
    const stats = this.deps.spool.stats();
    return {
      mode: this.mode,
      spool: {
        pendingMessages: stats.pendingRecords,
        pendingBytes: stats.pendingBytes,
        quotaBytes: stats.quotaBytes,
        oldestAgeSeconds: stats.oldestAppendedAt === null ? 0 : Math.round((Date.now() - stats.oldestAppendedAt) / 100) / 10,
        drainLinesPerSecond: this.drainRate,
        full: stats.pendingBytes >= stats.quotaBytes * 0.99,
      },
      deadLetters: this.deps.deadLetters.count,
    };
  }

  /** Opens the spool, enters what an earlier run left in it into the ledger, starts the drainer. */
  async start(): Promise<void> {
    const report = await this.deps.spool.open();
    for (const torn of report.tornTails) this.log.error({ ...torn }, 'spool: a torn record was set aside (power loss while writing?)');
    let next = this.deps.spool.firstPendingSeq();
    let recovered = 0;
    while (next !== null) {
      const records = await this.deps.spool.read(next, 1000, 16 * 1024 * 1024);
      if (records.length === 0) break;
      for (const record of records) {
        const payload = decode(record);
        this.deps.ledger.recover(payload.s, payload.k);
        recovered++;
      }
      next = (records[records.length - 1] as SpoolRecord).seq + 1;
    }
    if (recovered > 0) this.log.warn({ records: recovered }, 'spool: messages from an earlier run will be drained into InfluxDB');
    this.probeTimer = setInterval(() => void this.probe(), this.options.probeIntervalMs);
    this.probeTimer.unref();
    void this.probe();
  }

  /**
   * Makes the entry's lines durable; resolves with where they went. When InfluxDB is down and the
   * spool full, waits up to backpressureHoldMs for room (QoS 1), then rejects with BackpressureError.
   */
  async deliver(entry: DeliveryEntry): Promise<DeliveryResult> {
    if (entry.lines.length === 0) return 'written';
    const deadline = Date.now() + (entry.bestEffort ? 0 : this.options.backpressureHoldMs);
    for (;;) {
      try {
        return await this.deliverOnce(entry);
      } catch (err) {
        if (!(err instanceof BackpressureError) || this.stopped || Date.now() >= deadline) throw err;
        await new Promise((r) => setTimeout(r, BACKPRESSURE_POLL_MS));
      }
    }
  }

  private async deliverOnce(entry: DeliveryEntry): Promise<DeliveryResult> {
    if (this.stopped) throw new BackpressureError('the gateway is stopping', { reason: 'stopping' });
    if (this.mode === 'spooling' || this.directLines + entry.lines.length > this.options.maxDirectLines) return this.spool(entry);
    this.directLines += entry.lines.length;
    const write = this.deps.writer.write(entry.lines);
    try {
      await withTimeout(write, this.options.directTimeoutMs, () => new StoreloopError('SL_ERR_INFLUX_TIMEOUT', `InfluxDB did not confirm the write within ${this.options.directTimeoutMs} ms`));
      return 'written';
    } catch (err) {
      if (isPermanentWriteFailure(err)) return this.bisectAndDeadLetter(entry);
      write.catch(() => undefined); // the writer may still land it later: harmless, points are idempotent
      this.enterSpooling(err);
      return this.spool(entry);
    } finally {
      this.directLines -= entry.lines.length;
    }
  }

  /** Stops probing and draining; the spool keeps what is pending for the next start. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.probeTimer) clearInterval(this.probeTimer);
    await this.draining;
    await this.deps.spool.close();
  }

  private async spool(entry: DeliveryEntry): Promise<DeliveryResult> {
    const stats = this.deps.spool.stats();
    if (entry.bestEffort && stats.pendingBytes > stats.quotaBytes / 2) {
      throw new BackpressureError('QoS 0 shed: the spool is more than half full', { reason: 'shed', pendingBytes: stats.pendingBytes });
    }
    const payload: SpooledPayload = { s: entry.store, k: entry.kind, l: entry.lines };
    try {
      await this.deps.spool.append([Buffer.from(JSON.stringify(payload))]);
      this.deps.metrics.spoolAppends.inc();
      return 'spooled';
    } catch (err) {
      if (err instanceof SpoolFullError) {
        this.deps.metrics.backpressure.inc();
        this.warnFull(err);
        throw new BackpressureError('InfluxDB is unavailable and the spool is full', { ...err.context }, err);
      }
      throw err;
    }
  }

  private lastFullWarningAt = 0;

  /** Says so loudly, at most every 10 s: a full spool means acknowledgements have stopped. */
  private warnFull(err: SpoolFullError): void {
    const now = Date.now();
    if (now - this.lastFullWarningAt < 10_000) return;
    this.lastFullWarningAt = now;
    this.log.error({ ...err.context }, 'SPOOL FULL: InfluxDB is down and the spool reached its quota; QoS 1 publishes are no longer acknowledged (publishers keep and resend them), QoS 0 is shed');
  }

  private enterSpooling(err: unknown): void {
    if (this.mode === 'spooling') return;
    this.mode = 'spooling';
    this.deps.metrics.deliveryMode.set(1);
    this.log.warn({ err: err instanceof Error ? err.message : String(err) }, 'InfluxDB unavailable or slow: spooling to disk');
  }

  private async probe(): Promise<void> {
    if (this.stopped) return;
    if (this.mode === 'spooling') {
      if (!(await this.deps.writer.ping())) return;
      this.mode = 'direct';
      this.deps.metrics.deliveryMode.set(0);
      this.log.info(this.deps.spool.stats(), 'InfluxDB is back: writing direct, draining the spool');
    }
    if (this.deps.spool.firstPendingSeq() !== null && this.draining === undefined) {
      this.draining = this.drain().finally(() => (this.draining = undefined));
    }
  }

  /** Oldest first, isolated batches, at most drainLinesPerSecond; stops on the first transient failure. */
  private async drain(): Promise<void> {
    const { spool, writer, ledger, metrics } = this.deps;
    const startedAt = Date.now();
    const linesAtStart = this.drainedLines;
    while (!this.stopped && this.mode === 'direct') {
      const first = spool.firstPendingSeq();
      if (first === null) break;
      const records = await spool.read(first, this.options.drainBatchRecords, 8 * 1024 * 1024);
      if (records.length === 0) break;
      const payloads = records.map(decode);
      const lines = payloads.flatMap((p) => p.l);
      const batchStartedAt = Date.now();
      const outcomes: DeliveryResult[] = [];
      try {
        await writer.writeIsolated(lines);
        outcomes.push(...payloads.map((): DeliveryResult => 'written'));
      } catch (err) {
        if (!isPermanentWriteFailure(err)) {
          this.enterSpooling(err);
          break;
        }
        try {
          for (const p of payloads) outcomes.push(await this.bisectAndDeadLetter({ store: p.s, kind: p.k, lines: p.l }));
        } catch (retryErr) {
          this.enterSpooling(retryErr);
          break;
        }
      }
      await spool.ack((records[records.length - 1] as SpoolRecord).seq);
      payloads.forEach((p, i) => ledger.move(p.s, p.k, 'spooled', outcomes[i] === 'dead_lettered' ? 'dead_lettered' : 'written'));
      metrics.spoolDrained.inc(records.length);
      this.drainedLines += lines.length;
      this.drainRate = Math.round(((this.drainedLines - linesAtStart) * 1000) / Math.max(1, Date.now() - startedAt));
      // bounded rate: leave InfluxDB room for live traffic
      const minMs = (lines.length * 1000) / this.options.drainLinesPerSecond;
      const waitMs = minMs - (Date.now() - batchStartedAt);
      if (waitMs > 0) await new Promise((r) => setTimeout(r, waitMs));
    }
    this.drainRate = 0;
  }

  /** Finds the lines InfluxDB refuses by halving, dead-letters them and writes the rest. */
  private async bisectAndDeadLetter(entry: DeliveryEntry): Promise<DeliveryResult> {
    const dead: DeadLetter[] = [];
    const visit = async (lines: string[], knownBad: unknown): Promise<void> => {
      let error = knownBad;
      if (error === undefined) {
        try {
          await this.deps.writer.writeIsolated(lines);
          return;
        } catch (err) {
          if (!isPermanentWriteFailure(err)) throw err;
          error = err;
        }
      }
      if (lines.length === 1) {
        const context = (error as { context?: { status?: number; serverMessage?: string } }).context;
        dead.push({ time: new Date().toISOString(), store: entry.store, kind: entry.kind, line: lines[0] as string, status: context?.status ?? null, error: context?.serverMessage ?? String((error as Error).message).slice(0, 300) });
        return;
      }
      const mid = Math.ceil(lines.length / 2);
      await visit(lines.slice(0, mid), undefined);
      await visit(lines.slice(mid), undefined);
    };
    // the first error came from a batch that may have held other messages' lines: test this entry alone
    await visit(entry.lines, undefined);
    if (dead.length === 0) return 'written';
    this.deps.metrics.deadLettered.inc(dead.length);
    await this.deps.deadLetters.add(dead);
    this.log.warn({ store: entry.store, kind: entry.kind, lines: dead.length, status: dead[0]?.status, error: dead[0]?.error }, 'lines dead-lettered: InfluxDB refuses them for good');
    return 'dead_lettered';
  }
}

function decode(record: SpoolRecord): SpooledPayload {
  return JSON.parse(record.payload.toString('utf8')) as SpooledPayload;
}

