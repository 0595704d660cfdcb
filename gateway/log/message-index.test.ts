import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';

import { createLogger } from '../../lib/logger.js';
import type { LogRecord } from './log-record.js';
import { MessageIndex, MessageIndexError, midKey } from './message-index.js';

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

  it('keys a mid by store, kind and source: the same mid from another source, kind or store is another message', async () => {
    const index = open(await file());
    index.committed(record(1, 'same', 1000, 0), 1, midKey('s1', 'touchpoint', 'kiosk-1', 'same'));
    index.flush();
    expect(index.find(midKey('s1', 'touchpoint', 'kiosk-1', 'same'))).toBe(1);
    expect(index.find(midKey('s1', 'touchpoint', 'kiosk-2', 'same'))).toBeUndefined();
    expect(index.find(midKey('s1', 'device', 'kiosk-1', 'same'))).toBeUndefined();
    expect(index.find(midKey('s2', 'touchpoint', 'kiosk-1', 'same'))).toBeUndefined();
  });

  it('remembers a mid for the dedup window of receive time, across a restart, and not a millisecond longer', async () => {
    const path = await file();
    let now = 5_000_000;
    const index = open(path, () => now, 60_000);
    const key = midKey('s1', 'touchpoint', 'kiosk-1', 'windowed');
    index.committed(record(1, 'windowed', 1000, 0, now), 1, key);
    index.flush();
    index.close();
    cleanups.pop();
    const reopened = open(path, () => now, 60_000);
    now += 60_000;
    expect(reopened.find(key)).toBe(1); // received exactly one window ago: still a duplicate
    now += 1;
    expect(reopened.find(key)).toBeUndefined();
  });

  it('forgets old mids in chunks of the given size, oldest first, and keeps those still inside the window', async () => {
    let now = 1_000_000;
    const index = open(await file(), () => now, 60_000);
    const keys = [0, 1, 2, 3, 4].map((i) => midKey('s1', 'touchpoint', 'kiosk-1', `old-${i}`));
    keys.forEach((key, i) => index.committed(record(i + 1, `old-${i}`, 1000 + i, 0, now + i), i + 1, key));
    const recent = midKey('s1', 'touchpoint', 'kiosk-1', 'recent');
    index.committed(record(6, 'recent', 2000, 0, now + 30_000), 6, recent);
    index.flush();
    now += 60_010; // the five old ones are out of the window, the recent one is not

    expect(index.prune(2)).toBe(2);
    expect(index.prune(2)).toBe(2);
    expect(index.prune(2)).toBe(1);
    expect(index.prune(2)).toBe(0);
    expect(index.find(recent)).toBe(6);
  });

  it('takes in only the replayed records after the seq it has persisted, so a restart adds nothing twice', async () => {
    const path = await file();
    const first = open(path);
    first.committed(record(1, 'a', 5000, 0), 1, midKey('s1', 'touchpoint', 'kiosk-1', 'a'));
    first.committed(record(2, 'b', 5000, 1), 2, midKey('s1', 'touchpoint', 'kiosk-1', 'b'));
    expect(first.stats).toMatchObject({ coveredSeq: 2, durableSeq: 0, unflushed: 2 });
    expect(first.flush()).toBe(2);
    expect(first.durableSeq).toBe(2);
    first.close();
    cleanups.pop();

    const again = open(path);
    expect(again.durableSeq).toBe(2);
    // the gateway replays the log from its start: records 1 and 2 are covered already and ignored
    again.committed(record(2, 'not-b', 5000, 1), 2);
    again.committed(record(3, 'c', 5000, 2), 3);
    expect(again.find(midKey('s1', 'touchpoint', 'kiosk-1', 'not-b'))).toBeUndefined();
    expect(again.find(midKey('s1', 'touchpoint', 'kiosk-1', 'c'))).toBe(3);
    expect(again.stats).toMatchObject({ coveredSeq: 3, durableSeq: 2, unflushed: 1 });
    // slots of the replayed record 3 are known again: the next message of that millisecond comes after them
    expect(again.allocateSlot('s1', 'touchpoint', 'kiosk-1', 5000, 1)).toEqual({ offset: 3 });
  });

  it('persists the slot state with a flush, so a restarted index never hands out a slot twice', async () => {
    const path = await file();
    const first = open(path);
    expect(first.allocateSlot('s1', 'ble', 'ble-1', 7000, 4)).toEqual({ offset: 0 });
    first.committed(record(1, 'slotted', 7000, 0), 1, midKey('s1', 'ble', 'ble-1', 'slotted'));
    first.flush();
    first.close();
    cleanups.pop();
    const again = open(path);
    expect(again.allocateSlot('s1', 'ble', 'ble-1', 7000, 1)).toEqual({ offset: 4 });
    expect(again.allocateSlot('s1', 'ble', 'ble-2', 7000, 1)).toEqual({ offset: 0 }); // another source, its own slots
  });

  it('forgets the seqs it covers on resetCoverage but keeps its mids, so the log can be taken in again', async () => {
    const path = await file();
    const index = open(path);
    const key = midKey('s1', 'touchpoint', 'kiosk-1', 'kept');
    index.committed(record(9, 'kept', 1000, 0), 9, key);
    expect(index.flush()).toBe(9);
    expect(index.resetCoverage()).toBe(0);
    expect(index.durableSeq).toBe(0);
    index.close();
    cleanups.pop();
    const reopened = new MessageIndex({ file: path, dedupWindowMs: 60_000, log });
    expect(reopened.open()).toBe(0);
    cleanups.push(() => reopened.close());
    expect(reopened.find(key)).toBe(9);
  });

  it('refuses a database of another schema version, naming the file and both versions', async () => {
    const path = await file();
    const db = new Database(path);
    db.pragma('user_version = 7');
    db.close();
    const index = new MessageIndex({ file: path, dedupWindowMs: 60_000, log });
    expect(() => index.open()).toThrow(MessageIndexError);
    expect(() => index.open()).toThrow(`message index ${path} has schema version 7; this gateway reads 1`);
  });

  it('refuses a second gateway on the same state dir', async () => {
    const path = await file();
    open(path);
    expect(() => open(path)).toThrow(/in use: is another gateway running/);
  });
});
