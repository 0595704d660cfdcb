import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterEach, describe, expect, it, vi } from 'vitest';

import { createLogger } from '../../lib/logger.js';
import { EventLog } from './event-log.js';
import { touchpointEntry } from './log-entry.fixtures.js';
import { MessageIndex, midKey } from './message-index.js';
import { MessageIndexUpkeep } from './message-index-upkeep.js';

const log = createLogger('silent');
// the entries' receive time (touchpointEntry), so their mids are inside the dedup window
const now = () => 1_700_000_000_000 + 1_000;
const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  vi.useRealTimers();
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'storeloop-upkeep-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** An open event log in a new dir holding touchpoint entries 1..count. */
async function logWith(count: number): Promise<EventLog> {
  const eventLog = new EventLog({ dir: await tempDir(), quotaBytes: 1024 ** 2, segmentBytes: 4096, replayRetentionMs: 0, backpressureHoldMs: 0, log });
  await eventLog.open();
  cleanups.push(() => eventLog.close());
  for (let i = 1; i <= count; i++) await eventLog.append(touchpointEntry(i));
  return eventLog;
}

const key = (i: number) => midKey('s1', 'touchpoint', 'kiosk-1', `m-${i}`);

describe('MessageIndexUpkeep', () => {
  it('takes in the log records the index never persisted, joins the log as a consumer holding back ingest, flushes on its timer until stopped', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    const eventLog = await logWith(3);
    const index = new MessageIndex({ file: join(await tempDir(), 'message-index.sqlite'), dedupWindowMs: 60_000, log, now });
    cleanups.push(() => index.close());
    const upkeep = new MessageIndexUpkeep({ index, eventLog, log });
    const logTimers = vi.getTimerCount(); // the event log's own
    await upkeep.start();
    expect(index.durableSeq).toBe(3);
    expect(index.find(key(2))).toBe(2); // a resend of entry 2 is recognised
    expect(() => eventLog.addConsumer({ name: 'message-index', holdsBackIngest: true, durablePosition: () => 0 })).toThrow();
    expect(vi.getTimerCount()).toBe(logTimers + 1);

    // a record appended while running, fed as ingest feeds it: durable at the next flush
    const seq = await eventLog.append(touchpointEntry(4));
    index.committed(touchpointEntry(4), seq);
    expect(index.durableSeq).toBe(3);
    vi.advanceTimersByTime(250);
    expect(index.durableSeq).toBe(4);

    upkeep.stop();
    expect(vi.getTimerCount()).toBe(logTimers);
  });

  it('takes the log in again from its start when the index covers more than the log holds (log dir replaced)', async () => {
    const file = join(await tempDir(), 'message-index.sqlite');
    const before = new MessageIndex({ file, dedupWindowMs: 60_000, log, now });
    const upkeep = new MessageIndexUpkeep({ index: before, eventLog: await logWith(5), log });
    await upkeep.start();
    upkeep.stop();
    expect(before.durableSeq).toBe(5);
    before.close();

    const index = new MessageIndex({ file, dedupWindowMs: 60_000, log, now });
    cleanups.push(() => index.close());
    const replaced = new MessageIndexUpkeep({ index, eventLog: await logWith(2), log });
    await replaced.start();
    replaced.stop();
    expect(index.durableSeq).toBe(2);
  });
});
