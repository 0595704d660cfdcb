import { describe, expect, it } from 'vitest';

import { RECORD_HEADER_BYTES, RECORD_MAGIC, decodeHeader, encodeHeader, hasValidCrc, recordBytes } from './record-codec.js';

function encode(seq: number, appendedAt: number, payload: Buffer): Buffer {
  const header = Buffer.alloc(RECORD_HEADER_BYTES);
  encodeHeader(header, 0, seq, appendedAt, payload);
  return Buffer.concat([header, payload]);
}

describe('record codec', () => {
  it('lays the header out little-endian as documented', () => {
    const payload = Buffer.from('{"a":1}');
    const record = encode(7, 1_700_000_000_123, payload);
    expect(record.length).toBe(recordBytes(payload.length));
    expect(record.subarray(0, 4)).toEqual(Buffer.from([0x4c, 0x53, 1, 0]));
    expect(record.readUInt16LE(0)).toBe(RECORD_MAGIC);
    expect(record.readUInt32LE(4)).toBe(payload.length);
    expect(record.readBigUInt64LE(12)).toBe(7n);
    expect(record.readBigUInt64LE(20)).toBe(1_700_000_000_123n);
    expect(record.subarray(RECORD_HEADER_BYTES)).toEqual(payload);
  });

  it('decodes what it encoded and accepts the crc', () => {
    const payload = Buffer.from('hello spool');
    const record = encode(42, 123, payload);
    const decoded = decodeHeader(record);
    expect(decoded).toEqual({ ok: true, header: { length: payload.length, crc: record.readUInt32LE(8), seq: 42, appendedAt: 123 } });
    if (!decoded.ok) throw new Error('unreachable');
    expect(hasValidCrc(record, decoded.header, record.subarray(RECORD_HEADER_BYTES))).toBe(true);
  });

  it('rejects the crc when a payload byte, the seq or appendedAt changed', () => {
    const record = encode(42, 123, Buffer.from('hello spool'));
    for (const at of [RECORD_HEADER_BYTES + 3, 12, 20]) {
      const damaged = Buffer.from(record);
      damaged[at] = (damaged[at] ?? 0) ^ 0x01;
      const decoded = decodeHeader(damaged);
      if (!decoded.ok) throw new Error(`header at ${at} should still decode`);
      expect(hasValidCrc(damaged, decoded.header, damaged.subarray(RECORD_HEADER_BYTES))).toBe(false);
    }
  });

  it('names the defect of a broken header', () => {
    const record = encode(1, 1, Buffer.from('x'));
    expect(decodeHeader(record.subarray(0, 27))).toEqual({ ok: false, defect: 'truncated-header' });
    expect(decodeHeader(Buffer.alloc(RECORD_HEADER_BYTES))).toEqual({ ok: false, defect: 'bad-magic' });
    const version = Buffer.from(record);
    version[2] = 2;
    expect(decodeHeader(version)).toEqual({ ok: false, defect: 'bad-version' });
    const flags = Buffer.from(record);
    flags[3] = 1;
    expect(decodeHeader(flags)).toEqual({ ok: false, defect: 'bad-flags' });
    const seqZero = Buffer.from(record);
    seqZero.writeBigUInt64LE(0n, 12);
    expect(decodeHeader(seqZero)).toEqual({ ok: false, defect: 'bad-seq' });
    const seqHuge = Buffer.from(record);
    seqHuge.writeBigUInt64LE(2n ** 60n, 12);
    expect(decodeHeader(seqHuge)).toEqual({ ok: false, defect: 'bad-seq' });
  });

  it('decodes a header in the middle of a buffer', () => {
    const first = encode(1, 5, Buffer.from('first'));
    const second = encode(2, 6, Buffer.from('second!'));
    const decoded = decodeHeader(Buffer.concat([first, second]), first.length);
    expect(decoded.ok && decoded.header.seq).toBe(2);
  });
});
