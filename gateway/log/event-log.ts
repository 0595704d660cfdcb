/**
 * The event log: the gateway's single source of truth. Every accepted message is appended as a
 * versioned record (log-record.ts) to crash-safe segment files under `<state.dir>/log` (lib/spool:
 * CRC per record, group-commit fdatasync, torn tails set aside), and a QoS 1 PUBACK waits only for
 * that append. Sinks (InfluxDB, later the experience engine and the CRM) consume the log at their own
 * pace from their own checkpoint (gateway/sinks).
 *
 * Retention: a record stays until every consumer that holds back ingest (the InfluxDB sink, the
 * message index) has durably consumed it, and then for `replayRetentionSeconds` for replays. The byte
 * quota covers everything retained. When an append does not fit, room is made in this order:
 *   1. consumed records kept only for replay are dropped;
 *   2. records that only sinks with a lag budget (which never hold back ingest) still need are expired
 *      for those sinks (counted in their ledger, logged loudly) and dropped;
 *   3. otherwise the append waits up to `backpressureHoldMs` for a holding consumer to catch up, then
 *      fails with LogFullError: the publisher is not acknowledged and resends later.
 * QoS 0 is shed when the records holding consumers still need pass half the quota.
 */
import { StoreloopError } from '../../lib/errors.js';
import type { Logger } from '../../lib/logger.js';
import { RateLimitedLog } from '../../lib/rate-limited-log.js';
import { SpoolFullError, Spool } from '../../lib/spool/spool.js';
import { decodeLogRecord, encodeLogEntry, type LogEntry, type LogRecord } from './log-record.js';
import { TailCache } from './tail-cache.js';

export interface EventLogOptions {
  dir: string;
  quotaBytes: number;
  segmentBytes: number;
  /** Consumed records are kept this long (append time) for replays, while the quota allows. */
  replayRetentionMs: number;
  /** How long an append waits for room when the quota is full before it fails. */
  backpressureHoldMs: number;
  log: Logger;
  now?: () => number;
}

/** Something that reads the log and must be asked before records are dropped. */
export interface LogConsumer {
  readonly name: string;
  /** True: records it has not consumed are never dropped, and hold back ingest when the quota is full. */
  readonly holdsBackIngest: boolean;
  /** The seq up to which it has consumed durably (its checkpoint on disk). */
  durablePosition(): number;
  /**
   * While it re-reads older records (a replay): the seq it has reached. Retention keeps records after
   * it, but they do not count as unconsumed, and a full log may drop them (the replay skips them).
   */
  replayPosition?(): number | null;
  /** Only for consumers that do not hold back ingest: give up records up to `seq` (count them expired), durably. */
  expireUpTo?(seq: number, reason: string): Promise<void>;
}

/**
 * What sinks need from the log: positions, reads, waiting for appends, retention hooks. The
 * file-backed EventLog implements it; a distributed backend (e.g. Redis Streams, for scale-out) would
 * implement the same, and the sinks would not change.
 */
export interface ConsumableLog {
  /** Seq of the newest record (0 when none was ever appended). */
  readonly head: number;
  /** Records appended by this run. */
  readonly appendedRecords: number;
  firstSeq(): number | null;
  firstSeqSince(epochMs: number): number | null;
  lastSeqBefore(epochMs: number): number | null;
  after(afterSeq: number): { records: number; bytes: number; oldestAppendedAt: number | null };
  seqKeepingBytes(afterSeq: number, maxBytes: number): number;
  read(fromSeq: number, maxRecords: number, maxBytes: number): Promise<LogRecord[]>;
  waitForAppend(afterSeq: number): Promise<void>;
  addConsumer(consumer: LogConsumer): void;
  removeConsumer(name: string): void;
  applyRetention(): Promise<void>;
}

export class LogFullError extends StoreloopError {
  constructor(message: string, context: Record<string, unknown>, cause?: unknown) {
    super('SL_ERR_LOG_FULL', message, context, { cause });
  }
}

export interface EventLogStatus {
  /** Seq of the newest record (0 when the log never held one). */
  headSeq: number;
  /** Seq of the oldest retained record, null when none is retained. */
  firstSeq: number | null;
  retainedRecords: number;
  retainedBytes: number;
  quotaBytes: number;
  /** Bytes that consumers holding back ingest have not consumed yet (what backpressure is about). */
  unconsumedBytes: number;
  oldestAgeSeconds: number;
  /** True while appends are refused for lack of room (backpressure: QoS 1 is not acknowledged). */
  full: boolean;
  appendedRecords: number;
  fsyncs: number;
  segments: number;
}

const BACKPRESSURE_POLL_MS = 100;
/** Payload bytes of the newest records kept in memory, encoded (what sinks at the head read; tail-cache.ts). */
const TAIL_CACHE_BYTES = 8 * 1024 * 1024;
const RETENTION_INTERVAL_MS = 1_000;

export class EventLog implements ConsumableLog {
  private readonly spool: Spool;
  private readonly consumers = new Map<string, LogConsumer>();
  private readonly log: Logger;
  private readonly alarms: RateLimitedLog;
  private readonly now: () => number;
  private headSeq = 0;
  private making: Promise<boolean> | undefined;
  private trimming: Promise<void> = Promise.resolve();
  private retentionTimer: NodeJS.Timeout | undefined;
  private waiters: Array<() => void> = [];
  private closed = false;
  /** An append was refused for lack of room, and none succeeded since. */
  private refusing = false;

  private readonly tail = new TailCache(TAIL_CACHE_BYTES);

  constructor(private readonly options: EventLogOptions) {
    this.log = options.log.child({ module: 'event-log' });
    // append times never go backwards (a clock step back): replays and retention search by them
    const clock = options.now ?? Date.now;
    let last = 0;
    this.now = () => (last = Math.max(last, clock()));
    this.alarms = new RateLimitedLog(this.log, 10_000);
    this.spool = new Spool({ dir: options.dir, quotaBytes: options.quotaBytes, segmentBytes: options.segmentBytes, log: this.log, now: this.now });
  }

  /** Recovers the segment files (torn tails set aside and reported) and starts the retention timer. */
  async open(): Promise<void> {
    const report = await this.spool.open();
    for (const torn of report.tornTails) this.log.error({ ...torn }, 'event log: a torn record was set aside (power loss while writing?)');
    this.headSeq = this.spool.lastSeq() ?? 0;
    this.tail.reset(this.headSeq);
    this.retentionTimer = setInterval(() => void this.applyRetention(), RETENTION_INTERVAL_MS);
    this.retentionTimer.unref();
  }

  addConsumer(consumer: LogConsumer): void {
    if (this.consumers.has(consumer.name))
      throw new StoreloopError('SL_ERR_LOG_CONSUMER', `a log consumer named '${consumer.name}' is already attached`, { name: consumer.name });
    this.consumers.set(consumer.name, consumer);
  }

  removeConsumer(name: string): void {
    this.consumers.delete(name);
  }

  /**
   * Appends one accepted message; resolves with its seq once it is fsynced. When the quota is full,
   * makes room (see the module comment), waits up to backpressureHoldMs (QoS 1) and then rejects with
   * LogFullError. `bestEffort` (QoS 0) never waits and is shed while the quota is half used by records
   * holding consumers still need.
   */
  async append(entry: LogEntry, options: { bestEffort?: boolean; messageJson?: string } = {}): Promise<number> {
    if (this.closed) throw new LogFullError('the gateway is stopping', { reason: 'stopping' });
    const payload = encodeLogEntry(entry, options.messageJson);
    if (options.bestEffort && this.unconsumedBytes() > this.options.quotaBytes / 2) {
      throw new LogFullError('QoS 0 shed: consumers that hold back ingest are behind by more than half the log quota', { reason: 'shed' });
    }
    const deadline = this.now() + (options.bestEffort ? 0 : this.options.backpressureHoldMs);
    for (;;) {
      try {
        const appendedAt = this.now(); // the spool stamps the record in this same tick
        const [seq] = await this.spool.append([payload]);
        this.tail.add(seq as number, appendedAt, payload);
        return this.appended(seq as number);
      } catch (err) {
        if (!(err instanceof SpoolFullError)) throw err;
        if (await this.makeRoom()) continue;
        if (this.closed || this.now() >= deadline) {
          if (!this.closed && !options.bestEffort) {
            this.refusing = true;
            this.alarms.run('full', (suppressed) =>
              this.log.error(
                { ...err.context, suppressed },
                'LOG FULL: the event log quota is used by records InfluxDB (or another sink that holds back ingest) has not consumed; QoS 1 publishes are no longer acknowledged (publishers keep and resend them), QoS 0 is shed',
              ),
            );
          }
          throw new LogFullError(
            'the event log is full: consumers that hold back ingest (InfluxDB) are too far behind',
            { reason: 'backpressure', ...err.context },
            err,
          );
        }
        await new Promise((resolve) => setTimeout(resolve, BACKPRESSURE_POLL_MS));
      }
    }
  }

  /** Retained records with seq >= fromSeq, in order, at most maxRecords and about maxBytes. */
  async read(fromSeq: number, maxRecords: number, maxBytes: number): Promise<LogRecord[]> {
    const from = Math.max(1, fromSeq, this.spool.firstPendingSeq() ?? this.headSeq + 1);
    // sinks that keep up read what was just appended: from memory, without a disk read and a parse
    const cached = this.tail.read(from, maxRecords, maxBytes);
    if (cached !== undefined) return cached;
    const records = await this.spool.read(from, maxRecords, maxBytes);
    return records.map((r) => decodeLogRecord(r.seq, r.appendedAt, r.payload));
  }

  /** Resolves on the next append (or at once if records after `afterSeq` exist, or the log closes). */
  waitForAppend(afterSeq: number): Promise<void> {
    if (this.headSeq > afterSeq || this.closed) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  get head(): number {
    return this.headSeq;
  }

  get appendedRecords(): number {
    return this.spool.stats().appendedRecords;
  }

  /** Seq of the oldest retained record (null when none is). */
  firstSeq(): number | null {
    return this.spool.firstPendingSeq();
  }

  /** The first retained seq appended at or after `epochMs` (for replays by time), or null. */
  firstSeqSince(epochMs: number): number | null {
    return this.spool.firstSeqAppendedSince(epochMs);
  }

  /** What is retained after `afterSeq`: records, bytes and the oldest append time. */
  after(afterSeq: number): { records: number; bytes: number; oldestAppendedAt: number | null } {
    return this.spool.pendingAfter(afterSeq);
  }

  /** The smallest seq s >= afterSeq such that the records after s take at most `maxBytes` (what a byte budget keeps). */
  seqKeepingBytes(afterSeq: number, maxBytes: number): number {
    const bytesAfter = (seq: number) => this.spool.pendingAfter(seq).bytes;
    let low = afterSeq;
    let high = Math.max(afterSeq, this.headSeq); // nothing is after the head
    if (bytesAfter(low) <= maxBytes) return low;
    while (high - low > 1) {
      const mid = Math.floor((low + high) / 2);
      if (bytesAfter(mid) <= maxBytes) high = mid;
      else low = mid;
    }
    return high;
  }

  /** The last retained seq appended before `epochMs` (what an age budget drops), or null. */
  lastSeqBefore(epochMs: number): number | null {
    return this.spool.lastSeqAppendedBefore(epochMs);
  }

  status(): EventLogStatus {
    const stats = this.spool.stats();
    const unconsumed = this.unconsumedBytes();
    return {
      headSeq: this.headSeq,
      firstSeq: this.spool.firstPendingSeq(),
      retainedRecords: stats.pendingRecords,
      retainedBytes: stats.pendingBytes,
      quotaBytes: stats.quotaBytes,
      unconsumedBytes: unconsumed,
      oldestAgeSeconds: stats.oldestAppendedAt === null ? 0 : Math.max(0, Math.round((this.now() - stats.oldestAppendedAt) / 100) / 10),
      full: this.refusing,
      appendedRecords: stats.appendedRecords,
      fsyncs: stats.fsyncs,
      segments: stats.segments,
    };
  }

  /** Drops what retention allows now: records every consumer has durably consumed and older than the replay retention. */
  applyRetention(): Promise<void> {
    if (this.closed) return Promise.resolve();
    const byAge = this.spool.lastSeqAppendedBefore(this.now() - this.options.replayRetentionMs);
    if (byAge === null) return Promise.resolve();
    let floor = this.floor(false);
    for (const consumer of this.consumers.values()) floor = Math.min(floor, consumer.replayPosition?.() ?? floor);
    return this.trimTo(Math.min(byAge, floor));
  }

  /** Stops the retention timer, wakes waiting readers and closes the files (waits for appends in flight). */
  async close(): Promise<void> {
    this.closed = true;
    if (this.retentionTimer) clearInterval(this.retentionTimer);
    this.wake();
    await this.trimming;
    await this.spool.close();
  }

  /** Bytes after the position of the slowest consumer that holds back ingest. */
  private unconsumedBytes(): number {
    return this.spool.pendingAfter(this.floor(true)).bytes;
  }

  /** The lowest durable position of the consumers (only those holding back ingest when `holdingOnly`). */
  private floor(holdingOnly: boolean): number {
    let floor = this.headSeq;
    for (const consumer of this.consumers.values()) {
      if (holdingOnly && !consumer.holdsBackIngest) continue;
      floor = Math.min(floor, consumer.durablePosition());
    }
    return floor;
  }

  private appended(seq: number): number {
    if (seq > this.headSeq) this.headSeq = seq;
    this.refusing = false;
    this.wake();
    return seq;
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }

  /** Frees room when the quota is full; true if anything was dropped. One attempt at a time. */
  private makeRoom(): Promise<boolean> {
    this.making ??= this.freeSpace().finally(() => (this.making = undefined));
    return this.making;
  }

  private async freeSpace(): Promise<boolean> {
    const before = this.spool.stats().pendingBytes;
    // 1. records every consumer has consumed (kept only for replay)
    await this.trimTo(this.floor(false));
    if (this.spool.stats().pendingBytes < before) return true;
    // 2. records only sinks with a lag budget still need: expired for them
    const holdingFloor = this.floor(true);
    for (const consumer of this.consumers.values()) {
      if (consumer.holdsBackIngest || consumer.durablePosition() >= holdingFloor || !consumer.expireUpTo) continue;
      this.log.error(
        { sink: consumer.name, upto: holdingFloor },
        'event log full: expiring records a lagging sink has not consumed (they will never reach it)',
      );
      await consumer.expireUpTo(holdingFloor, 'log_full');
    }
    await this.trimTo(this.floor(false));
    return this.spool.stats().pendingBytes < before;
  }

  private trimTo(seq: number): Promise<void> {
    const run = this.trimming.then(async () => {
      const first = this.spool.firstPendingSeq();
      if (first === null || seq < first || this.closed) return;
      await this.spool.ack(seq);
    });
    this.trimming = run.catch((err: unknown) => this.log.error({ err }, 'event log: dropping retained records failed (retried later)'));
    return this.trimming;
  }
}
