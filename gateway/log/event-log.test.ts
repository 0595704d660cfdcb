import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterEach, describe, expect, it, onTestFinished, vi } from 'vitest';

import { createLogger } from '../../lib/logger.js';
import { EventLog, LogFullError, type LogConsumer } from './event-log.js';
import { touchpointEntry } from './log-entry.fixtures.js';

const log = createLogger('silent');
const dirs: string[] = [];
const logs: EventLog[] = [];
afterEach(async () => {
  await Promise.all(logs.splice(0).map((l) => l.close()));
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

const entry = (i: number, label = `label-${i}`) => touchpointEntry(i, { label });

async function openLog(
  options: { quotaBytes?: number; segmentBytes?: number; replayRetentionMs?: number; backpressureHoldMs?: number; now?: () => number } = {},
): Promise<EventLog> {
  const dir = await mkdtemp(join(tmpdir(), 'storeloop-log-'));
  dirs.push(dir);
  const eventLog = new EventLog({ dir, quotaBytes: 1024 ** 2, segmentBytes: 4096, replayRetentionMs: 0, backpressureHoldMs: 0, log, ...options });
  await eventLog.open();
  logs.push(eventLog);
  return eventLog;
}

/** A consumer whose durable position the test sets. */
function consumer(name: string, holdsBackIngest: boolean, position = 0): LogConsumer & { position: number; expired: number[] } {
  const c = {
    name,
    holdsBackIngest,
    position,
    expired: [] as number[],
    durablePosition: () => c.position,
    expireUpTo: async (seq: number) => {
      c.expired.push(seq);
      c.position = Math.max(c.position, seq);
    },
  };
  return c;
}

/** Appends records of one size (two-digit `i`) until the next would not fit the quota; returns the head. */
async function fill(eventLog: EventLog, quotaBytes: number, from = 10): Promise<number> {
  await eventLog.append(entry(from, 'x'));
  const recordBytes = eventLog.status().retainedBytes;
  for (let i = from + 1; eventLog.status().retainedBytes + recordBytes <= quotaBytes; i++) await eventLog.append(entry((i % 90) + 10, 'x'));
  return eventLog.head;
}

/** The append's outcome as a value, so a rejection is never unhandled while the test looks elsewhere. */
function settle(append: Promise<number>): { readonly result: number | Error | undefined; done: Promise<number | Error> } {
  const holder: { result: number | Error | undefined } = { result: undefined };
  const done = append.then(
    (seq) => (holder.result = seq),
    (err: unknown) => (holder.result = err as Error),
  );
  return {
    get result() {
      return holder.result;
    },
    done,
  };
}

/** The log's backpressure polls run on setTimeout: faked here, so a test decides when a poll happens. */
function fakePolls(): void {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
  onTestFinished(() => {
    vi.useRealTimers();
  });
}

describe('EventLog', () => {
  it('appends in order and reads back the decoded entries with their seq and append time', async () => {
    const eventLog = await openLog();
    const seqs = await Promise.all([0, 1, 2].map((i) => eventLog.append(entry(i))));
    expect(seqs).toEqual([1, 2, 3]);
    const records = await eventLog.read(2, 10, 1 << 20);
    expect(records.map((r) => [r.seq, r.mid])).toEqual([
      [2, 'm-1'],
      [3, 'm-2'],
    ]);
    expect(records[0]?.appendedAt).toBeGreaterThan(0);
    expect(eventLog.head).toBe(3);
  });

  it('wakes a waiting reader on the next append', async () => {
    const eventLog = await openLog();
    let woke = false;
    const waiting = eventLog.waitForAppend(0).then(() => (woke = true));
    expect(woke).toBe(false);
    await eventLog.append(entry(0));
    await waiting;
    expect(woke).toBe(true);
  });

  it('drops only what every consumer has durably consumed', async () => {
    const eventLog = await openLog();
    const slow = consumer('slow', true, 0);
    const fast = consumer('fast', false, 0);
    eventLog.addConsumer(slow);
    eventLog.addConsumer(fast);
    for (let i = 0; i < 40; i++) await eventLog.append(entry(i));
    fast.position = 40;
    slow.position = 25;
    await eventLog.applyRetention();
    expect(eventLog.firstSeq()).toBe(26);
    slow.position = 40;
    await eventLog.applyRetention();
    expect(eventLog.firstSeq()).toBeNull();
    expect(eventLog.status().retainedRecords).toBe(0);
  });

  it('keeps consumed records for the replay retention', async () => {
    let now = 1_000_000;
    const eventLog = await openLog({ replayRetentionMs: 60_000, now: () => now });
    eventLog.addConsumer(consumer('done', true, Number.MAX_SAFE_INTEGER));
    await eventLog.append(entry(0));
    now += 30_000;
    await eventLog.append(entry(1));
    now += 40_000; // the first is 70 s old, the second 40 s
    await eventLog.applyRetention();
    expect(eventLog.firstSeq()).toBe(2);
    expect(eventLog.firstSeqSince(now - 50_000)).toBe(2);
  });

  it('refuses an append with LogFullError (backpressure) when a consumer that holds back ingest is behind by the quota, and sheds QoS 0 at half of it', async () => {
    const eventLog = await openLog({ quotaBytes: 8 * 1024, backpressureHoldMs: 50 });
    eventLog.addConsumer(consumer('influx-like', true, 0));
    let appended = 0;
    let refused: unknown;
    for (let i = 0; i < 100 && refused === undefined; i++) {
      await eventLog.append(entry(i)).then(
        () => (appended += 1),
        (err: unknown) => (refused = err),
      );
    }
    expect(refused).toBeInstanceOf(LogFullError);
    expect((refused as LogFullError).context.reason).toBe('backpressure');
    expect(eventLog.status().full).toBe(true);
    expect(appended).toBeGreaterThan(5);
    await expect(eventLog.append(entry(1000), { bestEffort: true })).rejects.toMatchObject({ context: { reason: 'shed' } });
  });

  it('holds a QoS 1 append while a consumer that holds back ingest fills the quota, and completes it once that consumer catches up', async () => {
    const now = 1_000_000; // the log's clock stands still: the hold cannot run out
    const eventLog = await openLog({ quotaBytes: 8 * 1024, backpressureHoldMs: 5_000, now: () => now });
    const influx = consumer('influx-like', true, 0);
    eventLog.addConsumer(influx);
    const head = await fill(eventLog, 8 * 1024);
    fakePolls();

    const held = settle(eventLog.append(entry(1)));
    await vi.advanceTimersByTimeAsync(2_000); // twenty polls of a full log
    expect(held.result).toBeUndefined();
    expect(eventLog.status()).toMatchObject({ headSeq: head, full: false });

    influx.position = head; // InfluxDB wrote everything: the log may drop it
    await vi.advanceTimersByTimeAsync(100);
    expect(await held.done).toBe(head + 1);
    expect(eventLog.firstSeq()).toBe(head + 1);
  });

  it('refuses a held QoS 1 append with LogFullError once backpressureHoldMs has passed on its clock, reports full until an append succeeds', async () => {
    let now = 1_000_000;
    const eventLog = await openLog({ quotaBytes: 8 * 1024, backpressureHoldMs: 5_000, now: () => now });
    const influx = consumer('influx-like', true, 0);
    eventLog.addConsumer(influx);
    const head = await fill(eventLog, 8 * 1024);
    fakePolls();

    const held = settle(eventLog.append(entry(1)));
    await vi.advanceTimersByTimeAsync(1_000);
    now += 4_999;
    await vi.advanceTimersByTimeAsync(100);
    expect(held.result).toBeUndefined(); // 1 ms of its hold left
    now += 1;
    await vi.advanceTimersByTimeAsync(100);
    const refused = await held.done;
    expect(refused).toBeInstanceOf(LogFullError);
    expect(refused).toMatchObject({ code: 'SL_ERR_LOG_FULL', context: { reason: 'backpressure' } });
    expect(eventLog.status()).toMatchObject({ headSeq: head, full: true });

    influx.position = head;
    expect(await eventLog.append(entry(2))).toBe(head + 1);
    expect(eventLog.status().full).toBe(false);
  });

  it('makes room by dropping records every consumer has consumed before it expires anything, even within the replay retention', async () => {
    const eventLog = await openLog({ quotaBytes: 8 * 1024, replayRetentionMs: 3_600_000, now: () => 1_000_000 });
    const influx = consumer('influx-like', true, 0);
    const crm = consumer('crm-like', false, 0);
    eventLog.addConsumer(influx);
    eventLog.addConsumer(crm);
    const head = await fill(eventLog, 8 * 1024);
    influx.position = head;
    crm.position = 10; // the lagging sink has consumed the first ten records

    // 1. the ten records both consumed are dropped (kept only for replays): nothing expires
    expect(await eventLog.append(entry(11, 'x'))).toBe(head + 1);
    expect(eventLog.firstSeq()).toBe(11);
    expect(crm.expired).toEqual([]);

    // 2. once those are gone, the lagging sink gives up what only it still needs: up to what InfluxDB consumed, no further
    const influxAt = eventLog.head;
    influx.position = influxAt;
    for (let i = 0; crm.expired.length === 0 && i < 50; i++) await eventLog.append(entry(12 + i, 'x'));
    expect(crm.expired).toEqual([influxAt]);
    expect(eventLog.firstSeq()).toBe(influxAt + 1);
    expect(eventLog.status().full).toBe(false);
  });

  it('sheds QoS 0 while holding consumers are behind by more than half the quota, and takes it again once they catch up', async () => {
    const eventLog = await openLog({ quotaBytes: 8 * 1024 });
    const influx = consumer('influx-like', true, 0);
    eventLog.addConsumer(influx);
    let i = 10;
    while (eventLog.status().unconsumedBytes <= 4 * 1024) await eventLog.append(entry(i++, 'x'), { bestEffort: true });

    await expect(eventLog.append(entry(i++, 'x'), { bestEffort: true })).rejects.toMatchObject({ code: 'SL_ERR_LOG_FULL', context: { reason: 'shed' } });
    const qos1 = await eventLog.append(entry(i++, 'x')); // QoS 1 still fits: only QoS 0 is shed
    expect(qos1).toBe(eventLog.head);
    expect(eventLog.status().full).toBe(false);

    influx.position = eventLog.head;
    expect(await eventLog.append(entry(i++, 'x'), { bestEffort: true })).toBe(qos1 + 1);
  });

  it('expires a lagging consumer that does not hold back ingest instead of refusing the append', async () => {
    const eventLog = await openLog({ quotaBytes: 8 * 1024 });
    const holding = consumer('influx-like', true, 0);
    const lagging = consumer('crm-like', false, 0);
    eventLog.addConsumer(holding);
    eventLog.addConsumer(lagging);
    for (let i = 0; i < 200; i++) {
      await eventLog.append(entry(i));
      holding.position = eventLog.head; // InfluxDB keeps up
    }
    expect(lagging.expired.length).toBeGreaterThan(0);
    expect(lagging.position).toBeGreaterThan(0);
    expect(eventLog.status().retainedBytes).toBeLessThanOrEqual(8 * 1024);
  });

  it('finds the seq that keeps a byte budget', async () => {
    const eventLog = await openLog();
    for (let i = 0; i < 10; i++) await eventLog.append(entry(i));
    const perRecord = eventLog.after(9).bytes;
    expect(eventLog.seqKeepingBytes(0, perRecord * 3)).toBe(7);
    expect(eventLog.seqKeepingBytes(0, perRecord * 100)).toBe(0);
    expect(eventLog.after(eventLog.seqKeepingBytes(0, perRecord * 3)).records).toBe(3);
  });

  it('reopens with what it held: the head and the retained records survive a restart', async () => {
    const eventLog = await openLog();
    for (let i = 0; i < 5; i++) await eventLog.append(entry(i));
    await eventLog.close();
    logs.pop();
    const again = new EventLog({ dir: dirs[0] as string, quotaBytes: 1024 ** 2, segmentBytes: 4096, replayRetentionMs: 0, backpressureHoldMs: 0, log });
    await again.open();
    logs.push(again);
    expect(again.head).toBe(5);
    expect((await again.read(1, 10, 1 << 20)).map((r) => r.mid)).toEqual(['m-0', 'm-1', 'm-2', 'm-3', 'm-4']);
    expect(await again.append(entry(5))).toBe(6);
  });
});
