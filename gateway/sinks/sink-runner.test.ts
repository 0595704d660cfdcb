import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterEach, describe, expect, it } from 'vitest';

import { createLogger } from '../../lib/logger.js';
import { EventLog } from '../log/event-log.js';
import { touchpointEntry } from '../log/log-entry.fixtures.js';
import type { LogRecord } from '../log/log-record.js';
import type { Sink, SinkOutcome } from './sink.js';
import { DEFAULT_SINK_RUNNER_OPTIONS, SinkRunner, type SinkRunnerOptions } from './sink-runner.js';

const log = createLogger('silent');
const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const entry = (i: number) => touchpointEntry(i, { action: i % 10 === 9 ? 'poison' : 'tap' });

/** Records what it is given; refuses `poison` for good; fails the first `failFirst` batches. */
class ScriptedSink implements Sink {
  readonly holdsBackIngest = true;
  readonly delivered: number[] = [];
  attempts = 0;
  constructor(
    readonly name: string,
    private failFirst = 0,
  ) {}
  async deliver(records: readonly LogRecord[]): Promise<SinkOutcome[]> {
    this.attempts += 1;
    progress.notify();
    if (this.failFirst > 0) {
      this.failFirst -= 1;
      throw new Error('destination unavailable');
    }
    this.delivered.push(...records.map((r) => r.seq));
    return records.map((r) => ((r.message as { action: string }).action === 'poison' ? 'dead_lettered' : 'delivered'));
  }
}

async function setup(): Promise<{ eventLog: EventLog; dir: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'storeloop-sink-'));
  const eventLog = new EventLog({ dir: join(dir, 'log'), quotaBytes: 1024 ** 2, segmentBytes: 8192, replayRetentionMs: 3_600_000, backpressureHoldMs: 0, log });
  await eventLog.open();
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  cleanups.push(() => eventLog.close());
  return { eventLog, dir };
}

async function runner(eventLog: EventLog, dir: string, sink: Sink, options: Partial<SinkRunnerOptions> = {}): Promise<SinkRunner> {
  const r = new SinkRunner(
    sink,
    eventLog,
    { checkpointDir: join(dir, 'sinks'), log, onSettled: () => progress.notify() },
    { ...DEFAULT_SINK_RUNNER_OPTIONS, checkpointIntervalMs: 0, retryMinMs: 5, retryMaxMs: 20, ...options },
  );
  await r.start();
  cleanups.push(() => r.stop());
  return r;
}

/**
 * Wakes the tests' waits whenever the runner settles records or a sink is called: a wait re-checks
 * its condition on each event (after the runner's own continuations ran), never on a timer.
 */
const progress = {
  waiters: [] as Array<() => void>,
  notify(): void {
    const waiters = this.waiters.splice(0);
    setImmediate(() => waiters.forEach((wake) => wake()));
  },
  next(): Promise<void> {
    return new Promise((resolve) => this.waiters.push(resolve));
  },
};

async function until(check: () => boolean, what: string): Promise<void> {
  for (let events = 0; !check(); events++) {
    if (events > 10_000) throw new Error(`no ${what} after 10,000 events`);
    await progress.next();
  }
}

describe('SinkRunner', () => {
  it('delivers every record once, in log order, and keeps a balanced ledger with dead letters', async () => {
    const { eventLog, dir } = await setup();
    const sink = new ScriptedSink('ordered');
    const r = await runner(eventLog, dir, sink, { batchRecords: 7 });
    for (let i = 0; i < 30; i++) await eventLog.append(entry(i));
    await until(() => r.status().position === 30, 'the sink to settle 30 records');
    expect(sink.delivered).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
    expect(r.status().ledger).toMatchObject({ logged: 30, pending: 0, delivered: 27, dead_lettered: 3, balanced: true });
  });

  it('retries a failed batch with backoff, reports failing meanwhile, and loses nothing', async () => {
    const { eventLog, dir } = await setup();
    const sink = new ScriptedSink('flaky', 3);
    const r = await runner(eventLog, dir, sink);
    // listening before the first append: on a loaded machine the appends took longer than the three failures and
    // their backoff, the runner was ok again before the wait began, and no event came to end it (a 10 s timeout)
    const failing = until(() => r.status().health.state === 'failing', 'the failing state');
    for (let i = 0; i < 5; i++) await eventLog.append(entry(i));
    await failing;
    await until(() => r.status().position === 5, 'the retries to get through');
    expect(sink.attempts).toBeGreaterThanOrEqual(4);
    expect(sink.delivered).toEqual([1, 2, 3, 4, 5]);
    expect(r.status().health.state).toBe('ok');
  });

  it('keeps several batches in flight, settles them in log order, and redelivers from the cursor when one in the middle fails', async () => {
    const { eventLog, dir } = await setup();
    class FailSecondCall extends ScriptedSink {
      private calls = 0;
      override async deliver(records: readonly LogRecord[]): Promise<SinkOutcome[]> {
        this.calls += 1;
        if (this.calls === 2) throw new Error('the second batch fails once');
        return super.deliver(records);
      }
    }
    for (let i = 0; i < 20; i++) await eventLog.append(entry(i));
    const sink = new FailSecondCall('pipelined');
    const r = await runner(eventLog, dir, sink, { batchRecords: 4, maxInFlight: 3 });
    await until(() => r.status().position === 20, 'all 20 settled');
    expect(new Set(sink.delivered)).toEqual(new Set(Array.from({ length: 20 }, (_, i) => i + 1)));
    expect(r.status().ledger).toMatchObject({ logged: 20, delivered: 18, dead_lettered: 2, pending: 0, balanced: true });
  });

  it('resumes from its durable checkpoint after a restart, with its ledger', async () => {
    const { eventLog, dir } = await setup();
    const first = new ScriptedSink('resumed');
    const r1 = await runner(eventLog, dir, first);
    for (let i = 0; i < 12; i++) await eventLog.append(entry(i));
    await until(() => r1.status().position === 12, 'the first run to settle 12');
    await r1.stop(); // makes the checkpoint durable
    expect(r1.status().durablePosition).toBe(12);
    for (let i = 12; i < 15; i++) await eventLog.append(entry(i));
    const second = new ScriptedSink('resumed');
    const r2 = await runner(eventLog, dir, second);
    await until(() => r2.status().position === 15, 'the second run to settle');
    expect(second.delivered).toEqual([13, 14, 15]);
    expect(r2.status().ledger).toMatchObject({ logged: 15, delivered: 14, dead_lettered: 1, pending: 0, balanced: true });
  });

  it('replays retained records from a seq without counting them twice', async () => {
    const { eventLog, dir } = await setup();
    const sink = new ScriptedSink('replayed');
    const r = await runner(eventLog, dir, sink);
    for (let i = 0; i < 8; i++) await eventLog.append(entry(i));
    await until(() => r.status().position === 8, 'the first pass');
    expect(r.replayFrom(3)).toEqual({ from: 3, until: 8 });
    await until(() => r.status().replay === null && sink.delivered.length === 14, 'the replay');
    expect(sink.delivered.slice(8)).toEqual([3, 4, 5, 6, 7, 8]);
    expect(r.status().ledger).toMatchObject({ logged: 8, delivered: 8, replayed: 6, balanced: true });
  });

  it('expires records past its lag budget, counted per store and kind, and moves on', async () => {
    const { eventLog, dir } = await setup();
    const never: Sink = { name: 'never', holdsBackIngest: false, deliver: () => new Promise<SinkOutcome[]>(() => undefined) };
    const r = new SinkRunner(never, eventLog, { checkpointDir: join(dir, 'sinks'), log }, { ...DEFAULT_SINK_RUNNER_OPTIONS, checkpointIntervalMs: 0 });
    await r.start();
    cleanups.push(() => r.detach());
    for (let i = 0; i < 6; i++) await eventLog.append(entry(i));
    await r.expireUpTo(4, 'test');
    expect(r.status().ledger).toMatchObject({ logged: 6, expired: 4, pending: 2, balanced: true, rows: [{ store: 's1', kind: 'touchpoint', expired: 4 }] });
    expect(r.status().durablePosition).toBe(4);
  });
});
