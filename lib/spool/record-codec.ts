/**
 * Spool record format (pure encode/decode, no I/O).
 *
 * Every record is a 28-byte little-endian header followed by the payload:
 *
 * | offset | size | field        | meaning                                                    |
 * |--------|------|--------------|------------------------------------------------------------|
 * | 0      | 2    | magic u16    | 0x534C (bytes `4C 53`, "LS")                               |
 * | 2      | 1    | version u8   | 1                                                          |
 * | 3      | 1    | flags u8     | 0 (no flag is defined in version 1)                        |
 * | 4      | 4    | length u32   | payload length in bytes (header not included)              |
 * | 8      | 4    | crc32 u32    | zlib.crc32 over bytes 12..27 (seq, appendedAt) + payload   |
 * | 12     | 8    | seq u64      | sequence number, strictly increasing, never reused        |
 * | 20     | 8    | appendedAt u64 | epoch ms when the record was appended                  |
 * | 28     | n    | payload      | opaque bytes                                               |
 *
 * The crc does not cover length: a damaged length field makes the crc run over the wrong bytes (or
 * past the end of the file), so it is caught by the crc or the bounds check all the same.
 */
import { crc32 } from 'node:zlib';

export const RECORD_MAGIC = 0x534c;
export const RECORD_VERSION = 1;
export const RECORD_HEADER_BYTES = 28;
/** Offset of the first byte the crc covers (seq). */
const CRC_FROM = 12;
/** The u32 length field bounds a payload. */
export const MAX_PAYLOAD_BYTES = 0xffff_ffff;

export interface RecordHeader {
  length: number;
  crc: number;
  seq: number;
  appendedAt: number;
}

/** Why a record could not be accepted; also the `reason` of a torn tail. */
export type RecordDefect =
  'truncated-header' | 'bad-magic' | 'bad-version' | 'bad-flags' | 'bad-seq' | 'truncated-payload' | 'crc-mismatch' | 'seq-out-of-order';

export type HeaderDecoding = { ok: true; header: RecordHeader } | { ok: false; defect: RecordDefect };

/** Total bytes a payload takes on disk. */
export function recordBytes(payloadBytes: number): number {
  return RECORD_HEADER_BYTES + payloadBytes;
}

/** Writes the header of one record into `target` at `at` (28 bytes). */
export function encodeHeader(target: Buffer, at: number, seq: number, appendedAt: number, payload: Buffer): void {
  if (payload.length > MAX_PAYLOAD_BYTES) throw new RangeError(`spool payload of ${payload.length} bytes exceeds the u32 length field`);
  target.writeUInt16LE(RECORD_MAGIC, at);
  target.writeUInt8(RECORD_VERSION, at + 2);
  target.writeUInt8(0, at + 3);
  target.writeUInt32LE(payload.length, at + 4);
  target.writeBigUInt64LE(BigInt(seq), at + 12);
  target.writeBigUInt64LE(BigInt(appendedAt), at + 20);
  const crc = crc32(payload, crc32(target.subarray(at + CRC_FROM, at + RECORD_HEADER_BYTES)));
  target.writeUInt32LE(crc, at + 8);
}

/** Parses a header; `bytes` must hold at least RECORD_HEADER_BYTES from `at`, else 'truncated-header'. */
export function decodeHeader(bytes: Buffer, at = 0): HeaderDecoding {
  if (bytes.length - at < RECORD_HEADER_BYTES) return { ok: false, defect: 'truncated-header' };
  if (bytes.readUInt16LE(at) !== RECORD_MAGIC) return { ok: false, defect: 'bad-magic' };
  if (bytes.readUInt8(at + 2) !== RECORD_VERSION) return { ok: false, defect: 'bad-version' };
  if (bytes.readUInt8(at + 3) !== 0) return { ok: false, defect: 'bad-flags' };
  const seq = bytes.readBigUInt64LE(at + 12);
  const appendedAt = bytes.readBigUInt64LE(at + 20);
  // seq 0 is never written (the first seq is 1); larger than 2^53 cannot come from this writer
  if (seq === 0n || seq > BigInt(Number.MAX_SAFE_INTEGER) || appendedAt > BigInt(Number.MAX_SAFE_INTEGER)) {
    return { ok: false, defect: 'bad-seq' };
  }
  return {
    ok: true,
    header: { length: bytes.readUInt32LE(at + 4), crc: bytes.readUInt32LE(at + 8), seq: Number(seq), appendedAt: Number(appendedAt) },
  };
}

/**
 * Checks the crc of a record: `headerBytes` is the 28-byte header as stored (seq and appendedAt
 * are taken from it, so the check covers exactly what is on disk).
 */
export function hasValidCrc(headerBytes: Buffer, header: RecordHeader, payload: Buffer): boolean {
  return crc32(payload, crc32(headerBytes.subarray(CRC_FROM, RECORD_HEADER_BYTES))) === header.crc;
}
