/** Reads runs of indexed records back from a segment file, verifying each against the index and its crc. */
import { open, type FileHandle } from 'node:fs/promises';

import { readAt } from './durable-fs.js';
import { RECORD_HEADER_BYTES, decodeHeader, hasValidCrc } from './record-codec.js';
import type { Segment } from './segment.js';
import { SpoolCorruptError } from './spool-errors.js';

export interface ReadRecord {
  seq: number;
  appendedAt: number;
  payload: Buffer;
}

/**
 * Records [from, to) of `segment`, with one positional read (they are contiguous). A segment
 * deleted because it was acked while the read was under way yields no records.
 */
export async function readRecords(segment: Segment, from: number, to: number): Promise<ReadRecord[]> {
  const start = segment.offsetAt(from);
  const length = segment.endAt(to - 1) - start;
  let handle: FileHandle;
  try {
    handle = await open(segment.path, 'r');
  } catch (err) {
    if (segment.deleted && (err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new SpoolCorruptError(`cannot open spool segment ${segment.name}`, { cause: err, context: { segment: segment.name } });
  }
  let bytes: Buffer;
  try {
    bytes = await readAt(handle, length, start);
  } finally {
    await handle.close();
  }
  const records: ReadRecord[] = [];
  for (let index = from; index < to; index += 1) records.push(decodeIndexed(segment, index, bytes, segment.offsetAt(index) - start));
  return records;
}

/** Decodes record `index` of `segment` from `bytes` at `at`; throws if it is not what was indexed. */
function decodeIndexed(segment: Segment, index: number, bytes: Buffer, at: number): ReadRecord {
  const seq = segment.seqAt(index);
  const end = at + segment.endAt(index) - segment.offsetAt(index);
  const decoded = decodeHeader(bytes, at);
  const payload = bytes.subarray(at + RECORD_HEADER_BYTES, end);
  const header = decoded.ok ? decoded.header : null;
  const intact =
    header !== null &&
    header.seq === seq &&
    end <= bytes.length &&
    header.length === payload.length &&
    hasValidCrc(bytes.subarray(at, at + RECORD_HEADER_BYTES), header, payload);
  if (!intact) {
    throw new SpoolCorruptError(`spool record ${seq} in ${segment.name} failed its checks on read (reopen the spool to set it aside)`, {
      context: { segment: segment.name, offset: segment.offsetAt(index), seq, defect: decoded.ok ? 'crc-mismatch' : decoded.defect },
    });
  }
  return { seq, appendedAt: header.appendedAt, payload };
}
