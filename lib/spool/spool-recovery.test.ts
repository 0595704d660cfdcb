import { appendFile, mkdtemp, readFile, readdir, rm, stat, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { describe, expect, it, onTestFinished } from 'vitest';

import { createLogger } from '../logger.js';
import { RECORD_HEADER_BYTES } from './record-codec.js';
import { segmentFileName } from './segment.js';
import { Spool } from './spool.js';
import { SpoolOpenError } from './spool-errors.js';

const log = createLogger('silent');
const QUOTA_BYTES = 1_000_000;

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'storeloop-spool-recovery-'));
  onTestFinished(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

function payloadOf(index: number): Buffer {
  return Buffer.from(JSON.stringify({ index, fields: { temperature: 20 + index, pad: 'q'.repeat(40 + index) } }));
}

/** Writes `count` records through a spool and closes it; returns the payloads and each record's offset in its segment. */
async function writeRecords(dir: string, count: number, segmentBytes?: number): Promise<{ payloads: Buffer[]; offsets: number[] }> {
  const spool = new Spool({ log, dir, quotaBytes: QUOTA_BYTES, ...(segmentBytes === undefined ? {} : { segmentBytes }) });
  await spool.open();
  const payloads = Array.from({ length: count }, (_, index) => payloadOf(index));
  for (const payload of payloads) await spool.append([payload]);
  await spool.close();
  let offset = 0;
  const offsets = payloads.map((payload) => {
    const at = offset;
    offset += RECORD_HEADER_BYTES + payload.length;
    return at;
  });
  return { payloads, offsets };
}

/** Opens the spool (closed when the test finishes) and returns it with its recovery report. */
async function reopen(dir: string) {
  const spool = new Spool({ log, dir, quotaBytes: QUOTA_BYTES });
  onTestFinished(() => spool.close());
  const report = await spool.open();
  return { spool, report };
}

async function readAll(spool: Spool): Promise<string[]> {
  return (await spool.read(0, 100_000, 100_000_000)).map((record) => record.payload.toString());
}

const firstSegment = (dir: string) => join(dir, segmentFileName(1));

describe('Spool recovery of a torn tail', () => {
  it('cuts a last record truncated in its payload and keeps every record before it', async () => {
    const dir = await tempDir();
    const { payloads, offsets } = await writeRecords(dir, 10);
    const path = firstSegment(dir);
    const original = await readFile(path);
    const lastOffset = offsets[9] as number;
    await truncate(path, original.length - 10);

    const { spool, report } = await reopen(dir);
    const tornPath = join(dir, 'torn', `${segmentFileName(1)}.${lastOffset}.bin`);
    expect(report).toEqual({
      segments: 1,
      pendingRecords: 9,
      tornTails: [
        { segment: segmentFileName(1), offset: lastOffset, bytes: original.length - 10 - lastOffset, reason: 'truncated-payload', setAsideAs: tornPath },
      ],
    });
    expect(await readFile(tornPath)).toEqual(original.subarray(lastOffset, original.length - 10));
    expect((await stat(path)).size).toBe(lastOffset);
    expect(await readAll(spool)).toEqual(payloads.slice(0, 9).map(String));

    // the cut record never counted, so its seq is the next one (see README: seqs of cut records)
    expect(await spool.append([Buffer.from('after the cut')])).toEqual([10]);
    await spool.close();
    const again = await reopen(dir);
    expect(again.report.tornTails).toEqual([]);
    expect(await readAll(again.spool)).toEqual([...payloads.slice(0, 9).map(String), 'after the cut']);
  });

  it('cuts a last record truncated inside its header', async () => {
    const dir = await tempDir();
    const { payloads, offsets } = await writeRecords(dir, 5);
    const lastOffset = offsets[4] as number;
    await truncate(firstSegment(dir), lastOffset + 10);

    const { spool, report } = await reopen(dir);
    expect(report.tornTails).toMatchObject([{ offset: lastOffset, bytes: 10, reason: 'truncated-header' }]);
    expect(await readAll(spool)).toEqual(payloads.slice(0, 4).map(String));
    expect(await spool.append([Buffer.from('next')])).toEqual([5]);
  });

  it('cuts a last record whose payload has a flipped byte', async () => {
    const dir = await tempDir();
    const { payloads, offsets } = await writeRecords(dir, 6);
    const path = firstSegment(dir);
    const bytes = await readFile(path);
    const lastOffset = offsets[5] as number;
    bytes[lastOffset + RECORD_HEADER_BYTES + 5] = (bytes[lastOffset + RECORD_HEADER_BYTES + 5] ?? 0) ^ 0x20;
    await writeFile(path, bytes);

    const { spool, report } = await reopen(dir);
    expect(report.tornTails).toMatchObject([{ offset: lastOffset, bytes: bytes.length - lastOffset, reason: 'crc-mismatch' }]);
    expect(await readFile(join(dir, 'torn', `${segmentFileName(1)}.${lastOffset}.bin`))).toEqual(bytes.subarray(lastOffset));
    expect(await readAll(spool)).toEqual(payloads.slice(0, 5).map(String));
  });

  it('cuts garbage and zeros appended after the last good record', async () => {
    for (const [tail, reason] of [
      [Buffer.from('this is not a spool record at all, just noise'), 'bad-magic'],
      [Buffer.alloc(4096), 'bad-magic'],
      [Buffer.from([0x4c, 0x53, 1, 0, 0xff, 0xff, 0xff, 0x7f, ...Array.from({ length: 40 }, () => 0xaa)]), 'bad-seq'],
    ] as const) {
      const dir = await tempDir();
      const { payloads } = await writeRecords(dir, 4);
      const path = firstSegment(dir);
      const goodBytes = (await stat(path)).size;
      await appendFile(path, tail);

      const { spool, report } = await reopen(dir);
      expect(report).toMatchObject({ pendingRecords: 4, tornTails: [{ offset: goodBytes, bytes: tail.length, reason }] });
      expect(await readAll(spool)).toEqual(payloads.map(String));
      expect(await spool.append([Buffer.from('next')])).toEqual([5]);
      expect((await stat(path)).size).toBe(goodBytes);
    }
  });

  it('cuts a header that claims more payload than the file holds', async () => {
    const dir = await tempDir();
    const { payloads, offsets } = await writeRecords(dir, 3);
    const path = firstSegment(dir);
    const bytes = await readFile(path);
    const lastOffset = offsets[2] as number;
    bytes.writeUInt32LE(1_000_000, lastOffset + 4);
    await writeFile(path, bytes);

    const { spool, report } = await reopen(dir);
    expect(report.tornTails).toMatchObject([{ offset: lastOffset, reason: 'truncated-payload' }]);
    expect(await readAll(spool)).toEqual(payloads.slice(0, 2).map(String));
  });

  it('sets aside everything from a corrupt record in the middle of a segment to its end', async () => {
    const dir = await tempDir();
    const { payloads, offsets } = await writeRecords(dir, 10);
    const path = firstSegment(dir);
    const bytes = await readFile(path);
    const badOffset = offsets[3] as number;
    bytes[badOffset + RECORD_HEADER_BYTES] = (bytes[badOffset + RECORD_HEADER_BYTES] ?? 0) ^ 0xff;
    await writeFile(path, bytes);

    const { spool, report } = await reopen(dir);
    expect(report).toMatchObject({ pendingRecords: 3, tornTails: [{ offset: badOffset, bytes: bytes.length - badOffset, reason: 'crc-mismatch' }] });
    // the good records after the bad one are set aside with it, intact, for a person to look at
    expect(await readFile(join(dir, 'torn', `${segmentFileName(1)}.${badOffset}.bin`))).toEqual(bytes.subarray(badOffset));
    expect(await readAll(spool)).toEqual(payloads.slice(0, 3).map(String));
    expect(await spool.append([Buffer.from('next')])).toEqual([4]);
  });

  it('keeps the segments after one with a corrupt tail, and removes a segment left empty', async () => {
    const dir = await tempDir();
    const recordBytes = RECORD_HEADER_BYTES + payloadOf(0).length;
    // a little over two records per segment: segments start at seqs 1, 3, 5, ...
    const { payloads } = await writeRecords(dir, 9, 2 * recordBytes + 50);
    const names = (await readdir(dir)).filter((name) => name.endsWith('.seg')).sort();
    expect(names).toEqual([1, 3, 5, 7, 9].map(segmentFileName));
    // damage the second record of segment 3 (seq 4) and the first record of segment 7 (seq 7)
    const second = join(dir, segmentFileName(3));
    const secondBytes = await readFile(second);
    const seq4Offset = RECORD_HEADER_BYTES + payloadOf(2).length;
    secondBytes[seq4Offset + RECORD_HEADER_BYTES + 1] = (secondBytes[seq4Offset + RECORD_HEADER_BYTES + 1] ?? 0) ^ 1;
    await writeFile(second, secondBytes);
    const fourth = join(dir, segmentFileName(7));
    const fourthBytes = await readFile(fourth);
    fourthBytes[0] = 0;
    await writeFile(fourth, fourthBytes);

    const { spool, report } = await reopen(dir);
    expect(report.tornTails).toMatchObject([
      { segment: segmentFileName(3), offset: seq4Offset, reason: 'crc-mismatch' },
      { segment: segmentFileName(7), offset: 0, bytes: fourthBytes.length, reason: 'bad-magic' },
    ]);
    expect(report).toMatchObject({ segments: 4, pendingRecords: 6 });
    expect((await readdir(dir)).filter((name) => name.endsWith('.seg')).sort()).toEqual([1, 3, 5, 9].map(segmentFileName));
    const records = await spool.read(0, 100, 1_000_000);
    expect(records.map((record) => record.seq)).toEqual([1, 2, 3, 5, 6, 9]);
    expect(records.map((record) => record.payload.toString())).toEqual([0, 1, 2, 4, 5, 8].map((index) => String(payloads[index])));
    expect(await spool.append([Buffer.from('next')])).toEqual([10]);
  });

  it('sets aside a record whose seq does not follow the one before', async () => {
    const dir = await tempDir();
    const { payloads, offsets } = await writeRecords(dir, 3);
    const path = firstSegment(dir);
    const bytes = await readFile(path);
    // a record copied from elsewhere: seq 2 again where seq 3 belongs (its crc still matches)
    const duplicate = bytes.subarray(offsets[1] as number, offsets[2] as number);
    await appendFile(path, duplicate);

    const { spool, report } = await reopen(dir);
    expect(report.tornTails).toMatchObject([{ offset: bytes.length, bytes: duplicate.length, reason: 'seq-out-of-order' }]);
    expect(await readAll(spool)).toEqual(payloads.map(String));
  });

  it('recovers once: a second open finds nothing more to cut', async () => {
    const dir = await tempDir();
    const { offsets } = await writeRecords(dir, 4);
    await truncate(firstSegment(dir), (offsets[3] as number) + 3);
    const first = await reopen(dir);
    expect(first.report.tornTails).toHaveLength(1);
    await first.spool.close();
    const second = await reopen(dir);
    expect(second.report).toEqual({ segments: 1, pendingRecords: 3, tornTails: [] });
  });
});

describe('Spool read of damaged bytes', () => {
  it('refuses to hand out a record damaged on disk after it was written, and reopening sets it aside', async () => {
    const dir = await tempDir();
    const spool = new Spool({ log, dir, quotaBytes: QUOTA_BYTES });
    await spool.open();
    const first = payloadOf(0);
    await spool.append([first, payloadOf(1), payloadOf(2)]);
    const path = firstSegment(dir);
    const bytes = await readFile(path);
    const secondOffset = RECORD_HEADER_BYTES + first.length;
    bytes[secondOffset + RECORD_HEADER_BYTES + 2] = (bytes[secondOffset + RECORD_HEADER_BYTES + 2] ?? 0) ^ 0x04;
    await writeFile(path, bytes);

    await expect(spool.read(0, 10, 1_000_000)).rejects.toMatchObject({
      code: 'SL_ERR_SPOOL_CORRUPT',
      context: { seq: 2, offset: secondOffset, defect: 'crc-mismatch' },
    });
    expect((await spool.read(0, 1, 1_000_000)).map((record) => record.seq)).toEqual([1]);
    await spool.close();

    const { spool: reopened, report } = await reopen(dir);
    expect(report.tornTails).toMatchObject([{ offset: secondOffset, reason: 'crc-mismatch' }]);
    expect(await readAll(reopened)).toEqual([first.toString()]);
  });
});

describe('Spool recovery of the checkpoint', () => {
  it('deletes segments holding only acked records and continues seqs from the checkpoint', async () => {
    const dir = await tempDir();
    await writeRecords(dir, 5);
    await writeFile(join(dir, 'checkpoint.json'), JSON.stringify({ version: 1, ackedUpto: 5, nextSeq: 40 }));
    await writeFile(join(dir, 'checkpoint.json.tmp'), '{"version":1,"acked');

    const { spool, report } = await reopen(dir);
    expect(report).toEqual({ segments: 0, pendingRecords: 0, tornTails: [] });
    expect(await readdir(dir)).toEqual(['checkpoint.json']);
    expect(await spool.append([Buffer.from('x')])).toEqual([40]);
  });

  it('re-delivers records past an old checkpoint (at-least-once)', async () => {
    const dir = await tempDir();
    const { payloads } = await writeRecords(dir, 5);
    await writeFile(join(dir, 'checkpoint.json'), JSON.stringify({ version: 1, ackedUpto: 2, nextSeq: 3 }));
    const { spool, report } = await reopen(dir);
    expect(report.pendingRecords).toBe(3);
    expect(spool.firstPendingSeq()).toBe(3);
    expect(await readAll(spool)).toEqual(payloads.slice(2).map(String));
    expect(await spool.append([Buffer.from('x')])).toEqual([6]);
  });

  it('refuses to open with a malformed checkpoint, naming the file', async () => {
    const dir = await tempDir();
    await writeFile(join(dir, 'checkpoint.json'), JSON.stringify({ version: 1, ackedUpto: -1, nextSeq: 1 }));
    const spool = new Spool({ log, dir, quotaBytes: QUOTA_BYTES });
    const opening = spool.open();
    await expect(opening).rejects.toBeInstanceOf(SpoolOpenError);
    await expect(opening).rejects.toMatchObject({ code: 'SL_ERR_SPOOL_OPEN', context: { path: join(dir, 'checkpoint.json') } });
    await spool.close();
  });
});
