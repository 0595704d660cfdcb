import { describe, expect, it } from 'vitest';

import { touchpointEntry } from './log-entry.fixtures.js';
import { encodeLogEntry, rawPayload } from './log-record.js';
import { TailCache } from './tail-cache.js';

const payload = (i: number, label = `label-${i}`) => encodeLogEntry(touchpointEntry(i, { label }));

describe('TailCache', () => {
  it('reads records back as a disk read decodes them: entry, seq, append time and bytes', () => {
    const cache = new TailCache(1024 * 1024);
    cache.reset(0);
    for (let i = 1; i <= 3; i++) cache.add(i, 1_000 + i, payload(i));
    const records = cache.read(2, 10, 1024 * 1024);
    expect(records?.map((r) => [r.seq, r.appendedAt])).toEqual([
      [2, 1_002],
      [3, 1_003],
    ]);
    expect(JSON.parse(JSON.stringify(records?.[0]))).toEqual({ ...touchpointEntry(2, { label: 'label-2' }), seq: 2, appendedAt: 1_002 });
    expect(rawPayload(records?.[1] as object)).toEqual(payload(3));
  });

  it('copies the bytes out of the buffer they were encoded into, so a record pins no shared pool slab', () => {
    const cache = new TailCache(1024 * 1024);
    cache.reset(0);
    const encoded = payload(1);
    cache.add(1, 1, encoded);
    encoded.fill(0); // the encoder's buffer is reused for something else
    const [record] = cache.read(1, 1, 1024) ?? [];
    expect(record?.mid).toBe('m-1');
    expect(rawPayload(record as object)?.buffer).not.toBe(encoded.buffer);
  });

  it('keeps a record larger than a quarter chunk in a buffer of its own', () => {
    const cache = new TailCache(1024 * 1024);
    cache.reset(0);
    const large = payload(1, 'x'.repeat(100_000));
    cache.add(1, 1, large);
    cache.add(2, 2, payload(2));
    const [big, small] = cache.read(1, 2, 1024 * 1024) ?? [];
    expect(rawPayload(big as object)?.buffer.byteLength).toBe(large.length);
    expect(rawPayload(small as object)?.buffer.byteLength).toBe(256 * 1024); // the shared chunk
  });

  it('holds at most its byte budget: the oldest records go, and reads from before them are left to the disk', () => {
    const size = payload(10).length; // every record from 10 to 99 has this size
    const cache = new TailCache(size * 5);
    cache.reset(0);
    for (let i = 10; i <= 30; i++) cache.add(i, i, payload(i));
    expect(cache.size).toBe(size * 5);
    expect(cache.read(25, 100, 1024 * 1024)).toBeUndefined();
    expect(cache.read(26, 100, 1024 * 1024)?.map((r) => r.seq)).toEqual([26, 27, 28, 29, 30]);
  });

  it('stops a read at maxRecords and maxBytes, always returning at least one record', () => {
    const size = payload(1).length;
    const cache = new TailCache(1024 * 1024);
    cache.reset(0);
    for (let i = 1; i <= 10; i++) cache.add(i, i, payload(i));
    expect(cache.read(1, 3, 1024 * 1024)?.map((r) => r.seq)).toEqual([1, 2, 3]);
    expect(cache.read(1, 100, size * 2)?.map((r) => r.seq)).toEqual([1, 2]);
    expect(cache.read(1, 100, 1)?.map((r) => r.seq)).toEqual([1]);
  });

  it('starts over when a seq arrives out of order', () => {
    const cache = new TailCache(1024 * 1024);
    cache.reset(0);
    cache.add(5, 5, payload(5));
    cache.add(4, 4, payload(4));
    expect(cache.read(5, 10, 1024 * 1024)).toBeUndefined();
  });
});
