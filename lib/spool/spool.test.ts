import { mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { describe, expect, it, onTestFinished } from 'vitest';

import { createLogger } from '../logger.js';
import { RECORD_HEADER_BYTES } from './record-codec.js';
import { parseSegmentFileName, segmentFileName } from './segment.js';
import { Spool, SpoolFullError, type SpoolOptions } from './spool.js';
import { SpoolStateError, SpoolWriteError } from './spool-errors.js';

const log = createLogger('silent');

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'storeloop-spool-'));
  onTestFinished(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** An opened spool, closed when the test finishes. */
async function openSpool(options: Omit<SpoolOptions, 'log'>): Promise<Spool> {
  const spool = new Spool({ log, ...options });
  onTestFinished(() => spool.close());
  await spool.open();
  return spool;
}

function payloadOf(index: number, padBytes = 60): Buffer {
  return Buffer.from(JSON.stringify({ index, pad: 'p'.repeat(padBytes + (index % 7)) }));
}

/** Segment files in `dir` by first seq, ascending. */
async function segmentFiles(dir: string): Promise<number[]> {
  return (await readdir(dir))
    .map(parseSegmentFileName)
    .filter((seq): seq is number => seq !== null)
    .sort((a, b) => a - b);
}

describe('Spool append/read/ack', () => {
  it('round-trips records across segments, acks them away and keeps seqs going after reopen', async () => {
    const dir = await tempDir();
    let clock = 1_700_000_000_000;
    const options = { dir, quotaBytes: 1_000_000, segmentBytes: 1024, now: () => clock };
    const spool = new Spool({ log, ...options });
    expect(await spool.open()).toEqual({ segments: 0, pendingRecords: 0, tornTails: [] });

    const payloads = Array.from({ length: 50 }, (_, index) => payloadOf(index));
    const seqs: number[] = [];
    for (let batch = 0; batch < 10; batch += 1) {
      seqs.push(...(await spool.append(payloads.slice(batch * 5, batch * 5 + 5))));
      clock += 1000;
    }
    expect(seqs).toEqual(Array.from({ length: 50 }, (_, index) => index + 1));

    const totalBytes = payloads.reduce((sum, payload) => sum + RECORD_HEADER_BYTES + payload.length, 0);
    const stats = spool.stats();
    expect(stats).toMatchObject({
      pendingRecords: 50,
      pendingBytes: totalBytes,
      oldestAppendedAt: 1_700_000_000_000,
      quotaBytes: 1_000_000,
      appendedRecords: 50,
      ackedRecords: 0,
    });
    const files = await segmentFiles(dir);
    expect(files.length).toBeGreaterThan(3);
    expect(stats.segments).toBe(files.length);
    for (const seq of files) expect((await stat(join(dir, `${String(seq).padStart(20, '0')}.seg`))).size).toBeLessThanOrEqual(1024);

    const all = await spool.read(1, 1000, 1_000_000);
    expect(all.map((record) => record.seq)).toEqual(seqs);
    expect(all.map((record) => record.payload.toString())).toEqual(payloads.map((payload) => payload.toString()));
    expect(all[5]?.appendedAt).toBe(1_700_000_001_000);
    expect((await spool.read(10, 5, 1_000_000)).map((record) => record.seq)).toEqual([10, 11, 12, 13, 14]);

    await spool.ack(20);
    expect(spool.firstPendingSeq()).toBe(21);
    const pendingBytes = payloads.slice(20).reduce((sum, payload) => sum + RECORD_HEADER_BYTES + payload.length, 0);
    expect(spool.stats()).toMatchObject({ pendingRecords: 30, pendingBytes, ackedRecords: 20, oldestAppendedAt: 1_700_000_004_000 });
    expect((await spool.read(1, 1000, 1_000_000)).map((record) => record.seq)).toEqual(seqs.slice(20));
    // no file holding only acked records is left: the first file left holds seq 21, the next starts after it
    const filesAfterAck = await segmentFiles(dir);
    expect(filesAfterAck[0]).toBeLessThanOrEqual(21);
    expect(filesAfterAck[1]).toBeGreaterThan(21);
    expect(filesAfterAck.length).toBeLessThan(files.length);
    expect(spool.stats().segments).toBe(filesAfterAck.length);
    expect(JSON.parse(await readFile(join(dir, 'checkpoint.json'), 'utf8'))).toEqual({ version: 1, ackedUpto: 20, nextSeq: 51 });
    await spool.close();

    const reopened = new Spool({ log, ...options });
    expect(await reopened.open()).toEqual({ segments: filesAfterAck.length, pendingRecords: 30, tornTails: [] });
    expect(reopened.firstPendingSeq()).toBe(21);
    expect(reopened.stats()).toMatchObject({ pendingRecords: 30, pendingBytes, oldestAppendedAt: 1_700_000_004_000 });
    expect((await reopened.read(0, 1000, 1_000_000)).map((record) => record.payload.toString())).toEqual(payloads.slice(20).map(String));
    expect(await reopened.append([Buffer.from('after reopen')])).toEqual([51]);

    await reopened.ack(51);
    expect(reopened.firstPendingSeq()).toBeNull();
    expect(reopened.stats()).toMatchObject({ pendingRecords: 0, pendingBytes: 0, oldestAppendedAt: null, segments: 0 });
    expect(await segmentFiles(dir)).toEqual([]);
    await reopened.close();

    // every segment is gone, so only the checkpoint remembers where seqs stand
    const third = new Spool({ log, ...options });
    expect(await third.open()).toEqual({ segments: 0, pendingRecords: 0, tornTails: [] });
    expect(await third.append([Buffer.from('still counting')])).toEqual([52]);
    expect((await third.read(1, 10, 1000)).map((record) => record.payload.toString())).toEqual(['still counting']);
    await third.close();
  });

  it('limits a read by maxRecords and by payload bytes, but always returns one record', async () => {
    const spool = await openSpool({ dir: await tempDir(), quotaBytes: 100_000 });
    await spool.append([Buffer.alloc(100, 1), Buffer.alloc(100, 2), Buffer.alloc(100, 3)]);
    expect((await spool.read(1, 2, 1_000_000)).map((record) => record.seq)).toEqual([1, 2]);
    expect((await spool.read(1, 10, 250)).map((record) => record.seq)).toEqual([1, 2]);
    expect((await spool.read(1, 10, 10)).map((record) => record.seq)).toEqual([1]);
    expect(await spool.read(4, 10, 1000)).toEqual([]);
    expect(await spool.read(1, 0, 1000)).toEqual([]);
  });

  it('ignores an ack beyond the last durable record, and an ack that goes backwards', async () => {
    const spool = await openSpool({ dir: await tempDir(), quotaBytes: 100_000 });
    await spool.append([Buffer.from('a'), Buffer.from('b')]);
    await spool.ack(1_000_000);
    expect(spool.firstPendingSeq()).toBeNull();
    expect(await spool.append([Buffer.from('c')])).toEqual([3]);
    expect(spool.firstPendingSeq()).toBe(3);
    await spool.ack(1);
    expect(spool.stats()).toMatchObject({ pendingRecords: 1, ackedRecords: 2 });
    expect((await spool.read(0, 10, 1000)).map((record) => record.payload.toString())).toEqual(['c']);
  });

  it('appends and acks empty payloads', async () => {
    const spool = await openSpool({ dir: await tempDir(), quotaBytes: 100_000 });
    expect(await spool.append([])).toEqual([]);
    expect(await spool.append([Buffer.alloc(0), Buffer.from('x')])).toEqual([1, 2]);
    const records = await spool.read(1, 10, 1000);
    expect(records.map((record) => record.payload.length)).toEqual([0, 1]);
    expect(spool.stats().pendingBytes).toBe(2 * RECORD_HEADER_BYTES + 1);
  });
});

describe('Spool group commit', () => {
  it('covers 1000 concurrent appends with far fewer fsyncs, and resolves every one in call order', async () => {
    const dir = await tempDir();
    const spool = await openSpool({ dir, quotaBytes: 10_000_000 });
    const fsyncsBefore = spool.stats().fsyncs;
    const payloads = Array.from({ length: 1000 }, (_, index) => payloadOf(index, 200));
    const results = await Promise.all(payloads.map((payload) => spool.append([payload])));
    expect(results).toEqual(payloads.map((_, index) => [index + 1]));
    const stats = spool.stats();
    expect(stats.appendedRecords).toBe(1000);
    expect(stats.fsyncs - fsyncsBefore).toBeLessThan(1000 / 10);
    const records = await spool.read(1, 2000, 10_000_000);
    expect(records.map((record) => record.payload.toString())).toEqual(payloads.map(String));
  });

  it('syncs appends that arrive while a group is in flight together, with fewer fsyncs than appends', async () => {
    const spool = await openSpool({ dir: await tempDir(), quotaBytes: 10_000_000 });
    const fsyncsBefore = spool.stats().fsyncs;
    const first = spool.append([Buffer.from('first')]);
    // these arrive one macrotask apart, while the first group is being written and synced
    const later: Array<Promise<number[]>> = [];
    for (let index = 0; index < 200; index += 1) {
      later.push(spool.append([Buffer.from(`later ${index}`)]));
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect(await first).toEqual([1]);
    expect((await Promise.all(later)).flat()).toEqual(Array.from({ length: 200 }, (_, index) => index + 2));
    expect(spool.stats().fsyncs - fsyncsBefore).toBeLessThan(201);
  });
});

describe('Spool quota', () => {
  it('rejects an append past the quota without writing anything, and accepts again once acks free room', async () => {
    const dir = await tempDir();
    const recordBytes = RECORD_HEADER_BYTES + 100;
    const spool = await openSpool({ dir, quotaBytes: 10 * recordBytes, segmentBytes: 4 * recordBytes });
    await spool.append(Array.from({ length: 10 }, () => Buffer.alloc(100, 7)));
    expect(spool.stats().pendingBytes).toBe(10 * recordBytes);

    const filesBefore = await sizes(dir);
    const statsBefore = spool.stats();
    const rejection = spool.append([Buffer.alloc(100, 8)]);
    await expect(rejection).rejects.toBeInstanceOf(SpoolFullError);
    await expect(rejection).rejects.toMatchObject({
      code: 'SL_ERR_SPOOL_FULL',
      context: { quotaBytes: 10 * recordBytes, pendingBytes: 10 * recordBytes, recordBytes },
    });
    expect(await sizes(dir)).toEqual(filesBefore);
    expect(spool.stats()).toEqual(statsBefore);

    await spool.ack(3);
    // all or nothing: four records do not fit in the room of three
    await expect(spool.append([Buffer.alloc(100), Buffer.alloc(100), Buffer.alloc(100), Buffer.alloc(100)])).rejects.toBeInstanceOf(SpoolFullError);
    expect(await spool.append([Buffer.alloc(100, 9), Buffer.alloc(100, 9), Buffer.alloc(100, 9)])).toEqual([11, 12, 13]);
    expect(spool.stats().pendingBytes).toBe(10 * recordBytes);
  });

  it('counts appends still in flight against the quota', async () => {
    const recordBytes = RECORD_HEADER_BYTES + 10;
    const spool = await openSpool({ dir: await tempDir(), quotaBytes: 5 * recordBytes });
    const outcomes = await Promise.allSettled(Array.from({ length: 10 }, () => spool.append([Buffer.alloc(10)])));
    expect(outcomes.filter((outcome) => outcome.status === 'fulfilled')).toHaveLength(5);
    const rejected = outcomes.filter((outcome): outcome is PromiseRejectedResult => outcome.status === 'rejected');
    expect(rejected).toHaveLength(5);
    for (const outcome of rejected) expect(outcome.reason).toBeInstanceOf(SpoolFullError);
    expect(spool.stats()).toMatchObject({ pendingRecords: 5, pendingBytes: 5 * recordBytes });
  });
});

describe('Spool write failure', () => {
  it('rejects a group whose segment file cannot be created, then goes on in a new segment', async () => {
    const dir = await tempDir();
    const spool = await openSpool({ dir, quotaBytes: 100_000, segmentBytes: 64 });
    expect(await spool.append([Buffer.alloc(30, 1)])).toEqual([1]);
    // the next record does not fit in segment 1, and the name of its segment is taken
    await writeFile(join(dir, segmentFileName(2)), '');
    const failed = spool.append([Buffer.alloc(30, 2)]);
    await expect(failed).rejects.toBeInstanceOf(SpoolWriteError);
    await expect(failed).rejects.toMatchObject({ code: 'SL_ERR_SPOOL_WRITE', context: { records: 1, firstSeq: 2 }, cause: { code: 'EEXIST' } });
    expect(spool.stats()).toMatchObject({ pendingRecords: 1, pendingBytes: RECORD_HEADER_BYTES + 30 });

    // seq 2 is never handed out again
    expect(await spool.append([Buffer.alloc(30, 3)])).toEqual([3]);
    expect((await spool.read(1, 10, 1000)).map((record) => [record.seq, record.payload[0]])).toEqual([
      [1, 1],
      [3, 3],
    ]);
    await spool.close();

    // the empty file that was in the way holds nothing: recovery removes it
    const reopened = await openSpool({ dir, quotaBytes: 100_000, segmentBytes: 64 });
    expect(await segmentFiles(dir)).toEqual([1, 3]);
    expect((await reopened.read(1, 10, 1000)).map((record) => record.seq)).toEqual([1, 3]);
    expect(await reopened.append([Buffer.alloc(1)])).toEqual([4]);
  });
});

describe('Spool lifecycle', () => {
  it('refuses use before open and after close, and closes idempotently', async () => {
    const dir = await tempDir();
    const spool = new Spool({ log, dir, quotaBytes: 1000 });
    await expect(spool.append([Buffer.from('x')])).rejects.toBeInstanceOf(SpoolStateError);
    await spool.open();
    await expect(spool.open()).rejects.toMatchObject({ code: 'SL_ERR_SPOOL_STATE' });
    const closing = spool.close();
    expect(spool.close()).toBe(closing);
    await closing;
    await expect(spool.append([Buffer.from('x')])).rejects.toMatchObject({ code: 'SL_ERR_SPOOL_STATE' });
    await expect(spool.ack(1)).rejects.toBeInstanceOf(SpoolStateError);
    await expect(spool.read(1, 1, 1)).rejects.toBeInstanceOf(SpoolStateError);
  });

  it('lets open() finish when close() is called while it runs, then is closed', async () => {
    const spool = new Spool({ log, dir: await tempDir(), quotaBytes: 1000 });
    const opening = spool.open();
    await spool.close();
    expect(await opening).toEqual({ segments: 0, pendingRecords: 0, tornTails: [] });
    await expect(spool.append([Buffer.from('x')])).rejects.toMatchObject({ code: 'SL_ERR_SPOOL_STATE', context: { state: 'closed' } });
  });

  it('waits in close() for appends already called, which are then durable', async () => {
    const dir = await tempDir();
    const spool = new Spool({ log, dir, quotaBytes: 1_000_000 });
    await spool.open();
    const appends = Array.from({ length: 50 }, (_, index) => spool.append([Buffer.from(`late ${index}`)]));
    await spool.close();
    const settled = await Promise.allSettled(appends);
    expect(settled.every((outcome) => outcome.status === 'fulfilled')).toBe(true);

    const reopened = await openSpool({ dir, quotaBytes: 1_000_000 });
    expect((await reopened.read(1, 100, 1_000_000)).map((record) => record.payload.toString())).toEqual(
      Array.from({ length: 50 }, (_, index) => `late ${index}`),
    );
  });

  it('creates a missing directory, nested', async () => {
    const dir = join(await tempDir(), 'state', 'spool');
    const spool = await openSpool({ dir, quotaBytes: 1000 });
    expect(await spool.append([Buffer.from('x')])).toEqual([1]);
    expect(await segmentFiles(dir)).toEqual([1]);
  });

  it('rejects options that are not positive integers', async () => {
    const dir = await tempDir();
    await expect(new Spool({ log, dir, quotaBytes: 0 }).open()).rejects.toBeInstanceOf(RangeError);
    await expect(new Spool({ log, dir, quotaBytes: 10, segmentBytes: 1.5 }).open()).rejects.toBeInstanceOf(RangeError);
  });
});

async function sizes(dir: string): Promise<Record<string, number>> {
  const result: Record<string, number> = {};
  for (const name of (await readdir(dir)).sort()) result[name] = (await stat(join(dir, name))).size;
  return result;
}
