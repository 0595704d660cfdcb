/**
 * Verifies a segment file record by record (magic, version, flags, seq order, length within the
 * file, crc) and indexes every good record until the first defect. Reads in 1 MiB windows, so
 * memory stays bounded whatever the segment size.
 */
import { open, type FileHandle } from 'node:fs/promises';

import { readAt } from './durable-fs.js';
import { RECORD_HEADER_BYTES, decodeHeader, hasValidCrc, type RecordDefect } from './record-codec.js';
import type { Segment } from './segment.js';

const WINDOW_BYTES = 1 << 20;

export interface SegmentScan {
  fileBytes: number;
  /** End of the last good record: everything from here on is a torn or corrupt tail. */
  validEnd: number;
  defect: RecordDefect | null;
}

/**
 * Indexes the good records of `segment` into it. `afterSeq` is the last seq of the segments before
 * it: every seq must be greater, and the first must equal the seq in the file name.
 */
export async function scanSegment(segment: Segment, afterSeq: number): Promise<SegmentScan> {
  const handle = await open(segment.path, 'r');
  try {
    const fileBytes = (await handle.stat()).size;
    const reader = new WindowReader(handle, fileBytes);
    let offset = 0;
    let lastSeq = afterSeq;
    while (offset < fileBytes) {
      // copied: the window may move while the payload is read
      const headerBytes = Buffer.from(await reader.bytesAt(offset, RECORD_HEADER_BYTES));
      const decoded = decodeHeader(headerBytes);
      if (!decoded.ok) return { fileBytes, validEnd: offset, defect: decoded.defect };
      const { header } = decoded;
      const outOfOrder = offset === 0 ? header.seq !== segment.firstSeq || header.seq <= lastSeq : header.seq <= lastSeq;
      if (outOfOrder) return { fileBytes, validEnd: offset, defect: 'seq-out-of-order' };
      const end = offset + RECORD_HEADER_BYTES + header.length;
      if (end > fileBytes) return { fileBytes, validEnd: offset, defect: 'truncated-payload' };
      const payload = await reader.bytesAt(offset + RECORD_HEADER_BYTES, header.length);
      if (!hasValidCrc(headerBytes, header, payload)) return { fileBytes, validEnd: offset, defect: 'crc-mismatch' };
      segment.add(header.seq, offset, header.appendedAt, end);
      lastSeq = header.seq;
      offset = end;
    }
    return { fileBytes, validEnd: offset, defect: null };
  } finally {
    await handle.close();
  }
}

/** Sequential reads through a sliding window; a range larger than the window is read on its own. */
class WindowReader {
  private window: Buffer = Buffer.alloc(0);
  private windowStart = 0;

  constructor(
    private readonly handle: FileHandle,
    private readonly fileBytes: number,
  ) {}

  /** Up to `length` bytes at `offset` (fewer at the end of the file); valid until the next call. */
  async bytesAt(offset: number, length: number): Promise<Buffer> {
    const end = Math.min(offset + length, this.fileBytes);
    if (offset >= this.windowStart && end <= this.windowStart + this.window.length) {
      return this.window.subarray(offset - this.windowStart, end - this.windowStart);
    }
    if (end - offset > WINDOW_BYTES) return readAt(this.handle, end - offset, offset);
    this.window = await readAt(this.handle, Math.min(WINDOW_BYTES, this.fileBytes - offset), offset);
    this.windowStart = offset;
    return this.window.subarray(0, end - offset);
  }
}
