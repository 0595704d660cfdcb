import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterEach, describe, expect, it } from 'vitest';

import { createLogger } from '../../lib/logger.js';
import type { LogRecord } from './log-record.js';
import { MessageIndex, midKey } from './message-index.js';

const log = createLogger('silent');
const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function file(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'storeloop-index-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  return join(dir, 'message-index.sqlite');
}

function open(path: string, now: () => number = Date.now, dedupWindowMs = 60_000): MessageIndex {
  const index = new MessageIndex({ file: path, dedupWindowMs, log, now });
  index.open();
  cleanups.push(() => index.close());
  return index;
}

function record(seq: number, mid: string | null, eventTime: number, slotOffset: number, receivedAt = Date.now()): LogRecord {
  return {
    v: 1,
    seq,
    appendedAt: receivedAt,
    kind: 'touchpoint',
    source: { storeId: 's1', sourceId: 'kiosk-1', role: 'touchpoint', type: 'kiosk', zone: 'door' },
    eventTime,
    receivedAt,
    mid,
    ...(mid === null ? { payloadHash: `#sha1:${seq}` } : {}),
    qos: 1,
    slot: { offset: slotOffset },
    message: { v: 1, ts: eventTime, action: 'tap' },
  } as LogRecord;
}

describe('MessageIndex', () => {
  it('answers a resend while the first copy is in flight with the first copy’s seq, then from memory, then from disk after a restart', async () => {
    const path = await file();
    const index = open(path);
    const key = midKey('s1', 'touchpoint', 'kiosk-1', 'm-1');
    expect(index.find(key)).toBeUndefined();
    let settle: (seq: number) => void = () => undefined;
    const appended = new Promise<number>((resolve) => (settle = resolve));
    index.track(key, appended);
    const pending = index.find(key);
    expect(pending).toBeInstanceOf(Promise);
    settle(7);
    expect(await pending).toBe(7);
    index.committed(record(7, 'm-1', 1000, 0), 7, key);
    expect(index.find(key)).toBe(7);
    expect(index.flush()).toBe(7);
    index.close();
    cleanups.pop();
    const reopened = open(path);
    expect(reopened.find(key)).toBe(7);
    expect(reopened.durableSeq).toBe(7);
  });

  it('forgets a failed append, so its resend is a new message', async () => {
    const index = open(await file());
    const key = midKey('s1', 'touchpoint', 'kiosk-1', 'm-2');
    const failed = Promise.reject(new Error('disk full'));
    failed.catch(() => undefined);
    index.track(key, failed);
    await failed.catch(() => undefined);
    await Promise.resolve();
    expect(index.find(key)).toBeUndefined();
  });

  it('forgets mids older than the dedup window', async () => {
    let now = 1_000_000;
    const index = open(await file(), () => now, 60_000);
    const key = midKey('s1', 'touchpoint', 'kiosk-1', 'old');
    index.committed(record(1, 'old', 1000, 0, now), 1, key);
    index.flush();
    now += 61_000;
    expect(index.find(key)).toBeUndefined();
    expect(index.prune()).toBe(1);
  });

  it('rebuilds mids, payload hashes and slots from replayed records, so nothing is handed out twice after a crash', async () => {
    const path = await file();
    const before = open(path);
    before.flush(); // covers nothing yet
    before.close();
    cleanups.pop();
    // the gateway crashed after logging these, before the index flushed them
    const rebuilt = open(path);
    for (const r of [record(1, 'a', 5000, 0), record(2, null, 5000, 1), record(3, 'c', 4999, 500_000)]) rebuilt.committed(r, r.seq);
    expect(rebuilt.find(midKey('s1', 'touchpoint', 'kiosk-1', 'a'))).toBe(1);
    expect(rebuilt.find(midKey('s1', 'touchpoint', 'kiosk-1', '#sha1:2'))).toBe(2);
    expect(rebuilt.allocateSlot('s1', 'touchpoint', 'kiosk-1', 5000, 1)).toEqual({ offset: 2 });
    expect(rebuilt.allocateSlot('s1', 'touchpoint', 'kiosk-1', 5001, 1)).toEqual({ offset: 0 });
  });

  it('refuses a second gateway on the same state dir', async () => {
    const path = await file();
    open(path);
    expect(() => open(path)).toThrow(/in use: is another gateway running/);
  });
});
