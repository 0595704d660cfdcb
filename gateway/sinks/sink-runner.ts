/**
 * Drives one sink over the event log: reads from the sink's checkpoint in log order, hands it
 * batches, retries a failed batch with exponential backoff, commits the checkpoint durably (at most
 * every checkpointIntervalMs), keeps the sink's ledger and measures its lag. A slow, failing or
 * stopped sink holds back nobody but itself; only a sink that `holdsBackIngest` can make the log
 * full, and a sink with a lag budget loses what falls out of it (counted `expired`, logged loudly).
 *
 * The sink's ledger, over its lifetime (persisted with the checkpoint):
 *   logged = pending + delivered + dead_lettered + filtered + expired
 * where `pending` is what the log retains after the checkpoint. `logged` is counted independently
 * (at start from the checkpoint, then one per append), so a record dropped from the log without being
 * settled shows up as an unbalanced ledger.
 */
import type { Logger } from '../../lib/logger.js';
import { RateLimitedLog } from '../../lib/rate-limited-log.js';
import type { ConsumableLog, LogConsumer } from '../log/event-log.js';
import type { LogRecord } from '../log/log-record.js';
import type { Sink, SinkHealth, SinkOutcome } from './sink.js';
import type { SinkLedger, SinkStatus } from './sink-status.js';
import { SETTLED_STATES, SinkCheckpointFile, emptyCounts, type SettledCounts, type SettledState, type SinkCheckpoint } from './sink-checkpoint.js';

export interface SinkRunnerOptions {
  /** Records per batch handed to the sink, and about how many bytes. */
  batchRecords: number;
  batchBytes: number;
  retryMinMs: number;
  retryMaxMs: number;
  /** How often the checkpoint is made durable while records are delivered (0: after every batch). */
  checkpointIntervalMs: number;
  /** Batches handed to the sink before the first is settled (1: strictly one at a time). */
  maxInFlight: number;
  /** Where a sink without a checkpoint starts: the oldest retained record, or the next new one. */
  startAt: 'earliest' | 'latest';
  /** Only for sinks that do not hold back ingest: records older or more than this are expired. */
  lagBudget?: { seconds: number; bytes: number };
}

export const DEFAULT_SINK_RUNNER_OPTIONS: SinkRunnerOptions = {
  batchRecords: 2000,
  batchBytes: 4 * 1024 * 1024,
  retryMinMs: 100,
  retryMaxMs: 10_000,
  checkpointIntervalMs: 200,
  maxInFlight: 1,
  startAt: 'earliest',
};

export type { SinkLedger, SinkStatus } from './sink-status.js';

const LAG_CHECK_INTERVAL_MS = 1_000;
const EXPIRE_READ_RECORDS = 5_000;
const STOP_WAIT_MS = 3_000;

export class SinkRunner implements LogConsumer {
  readonly name: string;
  readonly holdsBackIngest: boolean;
  private readonly checkpointFile: SinkCheckpointFile;
  private readonly log: Logger;
  private readonly alarms: RateLimitedLog;
  private position = 0;
  private durable = 0;
  private cursor = 0;
  private replayUntil = 0;
  private attachedAt = new Date().toISOString();
  private settled = new Map<string, SettledCounts>();
  private loggedAtStart = 0;
  private appendedAtStart = 0;
  private replayed = 0;
  private health: SinkHealth = { state: 'idle' };
  private stopped = false;
  private loop: Promise<void> | undefined;
  private committing: Promise<void> = Promise.resolve();
  private commitTimer: NodeJS.Timeout | undefined;
  private lagTimer: NodeJS.Timeout | undefined;
  private wakeRetry: (() => void) | undefined;
  private rewound = false;

  constructor(
    readonly sink: Sink,
    private readonly eventLog: ConsumableLog,
    private readonly deps: { checkpointDir: string; log: Logger; onSettled?: (sink: string, outcome: SettledState, count: number) => void },
    private readonly options: SinkRunnerOptions = DEFAULT_SINK_RUNNER_OPTIONS,
  ) {
    this.name = sink.name;
    this.holdsBackIngest = sink.holdsBackIngest;
    this.checkpointFile = new SinkCheckpointFile(deps.checkpointDir, sink.name);
    this.log = deps.log.child({ sink: sink.name });
    this.alarms = new RateLimitedLog(this.log, 10_000);
  }

  /** Loads the checkpoint (or attaches at startAt), registers with the log and starts delivering. */
  async start(): Promise<void> {
    const checkpoint = await this.checkpointFile.read();
    if (checkpoint) {
      this.position = checkpoint.position;
      this.attachedAt = checkpoint.attachedAt;
      this.settled = new Map(Object.entries(checkpoint.settled));
    } else {
      const first = this.eventLog.firstSeq();
      this.position = this.options.startAt === 'latest' || first === null ? this.eventLog.head : first - 1;
      await this.checkpointFile.write(this.checkpoint());
      this.log.info({ position: this.position, startAt: this.options.startAt }, 'sink attached to the event log');
    }
    this.durable = this.position;
    this.cursor = this.position;
    this.loggedAtStart = this.settledTotal() + this.eventLog.after(this.position).records;
    this.appendedAtStart = this.eventLog.appendedRecords;
    this.eventLog.addConsumer(this);
    await this.sink.start?.();
    this.loop = this.run();
    if (!this.holdsBackIngest && this.options.lagBudget) {
      this.lagTimer = setInterval(() => void this.enforceLagBudget(), LAG_CHECK_INTERVAL_MS);
      this.lagTimer.unref();
    }
  }

  /** Stops delivering and makes the checkpoint durable; in-flight work that does not finish stays in the log. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.lagTimer) clearInterval(this.lagTimer);
    this.wakeRetry?.();
    // a delivery in flight may hang (InfluxDB stopped): its records stay in the log for the next start
    await Promise.race([this.loop, new Promise((resolve) => setTimeout(resolve, STOP_WAIT_MS).unref())]);
    await this.commitNow();
    await this.sink.stop?.();
    this.eventLog.removeConsumer(this.name);
    this.health = { state: 'stopped' };
  }

  /** Detaches the sink: stops it without waiting for a hung delivery and removes its checkpoint, so the log no longer keeps records for it. */
  async detach(): Promise<void> {
    this.stopped = true;
    if (this.lagTimer) clearInterval(this.lagTimer);
    if (this.commitTimer) clearTimeout(this.commitTimer);
    this.wakeRetry?.();
    this.eventLog.removeConsumer(this.name);
    await this.committing;
    await this.checkpointFile.remove();
    this.health = { state: 'stopped', detail: 'detached' };
    void this.sink.stop?.().catch(() => undefined);
    this.log.warn({ position: this.position }, 'sink detached: the event log no longer keeps records for it');
  }

  /** Delivers retained records from `fromSeq` again (idempotent at the sink); returns where the replay ends. */
  replayFrom(fromSeq: number): { from: number; until: number } {
    const first = this.eventLog.firstSeq() ?? this.eventLog.head + 1;
    const from = Math.max(fromSeq, first);
    this.replayUntil = Math.max(this.replayUntil, this.position);
    this.cursor = Math.min(this.cursor, from - 1);
    this.rewound = true;
    this.log.info({ from, until: this.replayUntil }, 'replay requested');
    this.wakeRetry?.();
    return { from, until: this.replayUntil };
  }

  durablePosition(): number {
    return this.durable;
  }

  /** A replay reads records the checkpoint already passed: retention keeps them until it is done. */
  replayPosition(): number | null {
    return this.cursor < this.position ? this.cursor : null;
  }

  /** Gives up the records up to `seq` this sink has not settled: counted `expired`, checkpointed durably. */
  async expireUpTo(seq: number, reason: string): Promise<void> {
    if (seq <= this.position) return;
    const from = this.position + 1;
    let at = from;
    let count = 0;
    while (at <= seq) {
      const records = await this.eventLog.read(at, EXPIRE_READ_RECORDS, 16 * 1024 * 1024);
      const inRange = records.filter((r) => r.seq <= seq);
      for (const record of inRange) this.count(record, 'expired');
      count += inRange.length;
      if (inRange.length < records.length || records.length === 0) break;
      at = (records[records.length - 1] as LogRecord).seq + 1;
    }
    this.position = Math.max(this.position, seq);
    this.cursor = Math.max(this.cursor, seq);
    this.deps.onSettled?.(this.name, 'expired', count);
    this.log.error(
      { from, upto: seq, records: count, reason },
      `SINK LAGGING: ${count} records expired for sink '${this.name}' (${reason}); they will never reach it`,
    );
    await this.commitNow();
  }

  /** The log position up to which the sink has settled every record (cheap; status() has it too). */
  get settledPosition(): number {
    return this.position;
  }

  status(): SinkStatus {
    const after = this.eventLog.after(this.position);
    const totals = this.totals();
    const logged = this.loggedAtStart + (this.eventLog.appendedRecords - this.appendedAtStart);
    const ledger: SinkLedger = {
      logged,
      pending: after.records,
      ...totals,
      replayed: this.replayed,
      balanced: logged === after.records + totals.delivered + totals.dead_lettered + totals.filtered + totals.expired,
      rows: [...this.settled.entries()].map(([key, counts]) => {
        const [store = '', kind = ''] = key.split('/');
        return { store, kind, ...counts };
      }),
    };
    return {
      name: this.name,
      holdsBackIngest: this.holdsBackIngest,
      position: this.position,
      durablePosition: this.durable,
      replay: this.replayUntil > this.cursor ? { at: this.cursor, until: this.replayUntil } : null,
      lag: {
        records: after.records,
        bytes: after.bytes,
        seconds: after.oldestAppendedAt === null ? 0 : Math.max(0, (Date.now() - after.oldestAppendedAt) / 1000),
      },
      lagBudget: this.holdsBackIngest ? null : (this.options.lagBudget ?? null),
      health: this.health,
      ledger,
    };
  }

  /**
   * The delivery loop: up to `maxInFlight` batches are handed to the sink at once (the next one is read
   * and encoded while the previous is on the wire); they are settled strictly in log order. A failed
   * batch drops the ones behind it (their results are ignored) and everything after the cursor is
   * delivered again after the backoff: sinks are idempotent.
   */
  private async run(): Promise<void> {
    let failures = 0;
    const inFlight: Array<{ records: LogRecord[]; outcomes: Promise<SinkOutcome[]> }> = [];
    let readTo = this.cursor;
    while (!this.stopped) {
      if (this.rewound) {
        // a replay moved the cursor back: what is in flight was read from further on
        this.rewound = false;
        inFlight.length = 0;
      }
      if (inFlight.length === 0) {
        await this.waitOrWake(this.eventLog.waitForAppend(this.cursor));
        if (this.stopped) break;
        readTo = this.cursor; // after the wait: a replay may have moved the cursor meanwhile
        this.rewound = false;
      }
      while (inFlight.length < this.options.maxInFlight && !this.stopped) {
        const records = await this.eventLog.read(readTo + 1, this.options.batchRecords, this.options.batchBytes);
        if (records.length === 0) break;
        readTo = (records[records.length - 1] as LogRecord).seq;
        if (this.health.state === 'idle') this.health = { state: 'ok' };
        const outcomes = this.sink.deliver(records);
        outcomes.catch(() => undefined); // awaited below, in order
        inFlight.push({ records, outcomes });
      }
      const next = inFlight.shift();
      if (next === undefined) {
        // nothing retained after the cursor: the log is empty there, or it was dropped (expired)
        const first = this.eventLog.firstSeq();
        if (first !== null && first > this.cursor + 1) this.cursor = first - 1;
        else {
          this.health = { state: 'idle' };
          await this.waitOrWake(this.eventLog.waitForAppend(this.eventLog.head));
        }
        continue;
      }
      try {
        const outcomes = await next.outcomes;
        if (outcomes.length !== next.records.length)
          throw new Error(`sink ${this.name} answered ${outcomes.length} outcomes for ${next.records.length} records`);
        if (failures > 0) this.log.info({ failures }, 'sink delivering again');
        failures = 0;
        this.health = { state: 'ok' };
        this.settle(next.records, outcomes);
      } catch (err) {
        inFlight.length = 0;
        failures += 1;
        const delay = Math.min(this.options.retryMaxMs, this.options.retryMinMs * 2 ** Math.min(failures - 1, 16));
        const hinted = (err as { context?: { retryAfterMs?: unknown } }).context?.retryAfterMs;
        const wait = typeof hinted === 'number' && hinted > 0 ? Math.min(hinted, this.options.retryMaxMs * 6) : delay * (0.8 + Math.random() * 0.4);
        this.health = { state: 'failing', detail: err instanceof Error ? err.message.slice(0, 300) : String(err) };
        this.alarms.warn(
          'failing',
          { err: this.health.detail, retryInMs: Math.round(wait), failures, position: this.position },
          'sink delivery failed; retrying',
        );
        await this.waitOrWake(new Promise((resolve) => setTimeout(resolve, wait)));
      }
    }
  }

  private settle(records: readonly LogRecord[], outcomes: SinkOutcome[]): void {
    const byOutcome: Record<SinkOutcome, number> = { delivered: 0, dead_lettered: 0, filtered: 0 };
    records.forEach((record, i) => {
      if (record.seq <= this.replayUntil && record.seq <= this.position) {
        this.replayed += 1;
        return;
      }
      if (record.seq <= this.position) return; // expired while the batch was in flight
      const outcome = outcomes[i] as SinkOutcome;
      this.count(record, outcome);
      byOutcome[outcome] += 1;
      this.position = record.seq;
    });
    const last = (records[records.length - 1] as LogRecord).seq;
    this.cursor = Math.max(this.cursor, last);
    if (this.cursor >= this.replayUntil) this.replayUntil = 0;
    for (const outcome of Object.keys(byOutcome) as SinkOutcome[]) if (byOutcome[outcome] > 0) this.deps.onSettled?.(this.name, outcome, byOutcome[outcome]);
    this.scheduleCommit();
  }

  private count(record: LogRecord, state: SettledState): void {
    const key = `${record.source.storeId}/${record.kind}`;
    let counts = this.settled.get(key);
    if (!counts) {
      counts = emptyCounts();
      this.settled.set(key, counts);
    }
    counts[state] += 1;
  }

  private enforceLagBudget(): Promise<void> | undefined {
    const budget = this.options.lagBudget;
    if (!budget || this.stopped) return undefined;
    const byAge = this.eventLog.lastSeqBefore(Date.now() - budget.seconds * 1000) ?? 0;
    const byBytes = this.eventLog.seqKeepingBytes(this.position, budget.bytes);
    const upto = Math.max(byAge, byBytes);
    if (upto <= this.position) return undefined;
    return this.expireUpTo(
      upto,
      byAge >= byBytes ? `older than the lag budget of ${budget.seconds} s` : `more than the lag budget of ${budget.bytes} bytes`,
    ).catch((err: unknown) => this.log.error({ err }, 'expiring records past the lag budget failed'));
  }

  private scheduleCommit(): void {
    if (this.options.checkpointIntervalMs === 0) {
      void this.commitNow();
      return;
    }
    this.commitTimer ??= setTimeout(() => {
      this.commitTimer = undefined;
      void this.commitNow();
    }, this.options.checkpointIntervalMs);
  }

  /** Writes the checkpoint (serialised); the log may drop records up to it once it is durable. */
  private commitNow(): Promise<void> {
    if (this.commitTimer) {
      clearTimeout(this.commitTimer);
      this.commitTimer = undefined;
    }
    const run = this.committing.then(async () => {
      if (this.position === this.durable) return;
      const checkpoint = this.checkpoint();
      await this.sink.persist?.(checkpoint.position);
      await this.checkpointFile.write(checkpoint);
      this.durable = checkpoint.position;
    });
    this.committing = run.catch((err: unknown) => this.log.error({ err }, 'sink checkpoint could not be written (retried with the next batch)'));
    return this.committing;
  }

  private checkpoint(): SinkCheckpoint {
    return {
      version: 1,
      sink: this.name,
      position: this.position,
      attachedAt: this.attachedAt,
      settled: Object.fromEntries([...this.settled.entries()].map(([k, v]) => [k, { ...v }])),
    };
  }

  private totals(): SettledCounts {
    const totals = emptyCounts();
    for (const counts of this.settled.values()) for (const state of SETTLED_STATES) totals[state] += counts[state];
    return totals;
  }

  private settledTotal(): number {
    const t = this.totals();
    return t.delivered + t.dead_lettered + t.filtered + t.expired;
  }

  /** Waits for `promise`, or less when stop/replay/detach wakes the loop. */
  private async waitOrWake(promise: Promise<unknown>): Promise<void> {
    await Promise.race([promise, new Promise<void>((resolve) => (this.wakeRetry = resolve))]);
    this.wakeRetry = undefined;
  }
}
