/**
 * The newest appended records, as their encoded bytes, in seq order, up to a byte budget: sinks that
 * keep up read them from here without a disk read. `floor`: every record with a seq above it is in the
 * cache until evicted; reads from above it are served here, reads from below go to disk.
 *
 * The bytes are copied into chunks of their own, so the budget is what the cache holds: kept as the
 * entries the pipeline built (with their messages) and the pooled buffers they were encoded into, 8 MB
 * of records held ~45 MB of heap (a heap snapshot under the bench's load: each record pinned a shared
 * 8 KB pool slab, and its message was a tree of objects), and V8 lets the heap grow to a multiple of
 * what is live. A read decodes like a disk read (decodeLogRecord: the envelope parsed, the message only
 * on first access), so the InfluxDB sink, which hands the bytes to its worker, never parses a message here.
 */
import { decodeLogRecord, type LogRecord } from './log-record.js';

/** Records are copied into chunks of this size; a larger record gets a buffer of its own. */
const CHUNK_BYTES = 256 * 1024;

export class TailCache {
  private seqs: number[] = [];
  private appendedAts: number[] = [];
  private payloads: Buffer[] = [];
  private start = 0;
  private bytes = 0;
  private floor = 0;
  private chunk = Buffer.alloc(0);
  private chunkUsed = 0;

  constructor(private readonly maxBytes: number) {}

  reset(floor: number): void {
    this.seqs = [];
    this.appendedAts = [];
    this.payloads = [];
    this.start = 0;
    this.bytes = 0;
    this.floor = floor;
  }

  /** Held payload bytes (the budget's measure). */
  get size(): number {
    return this.bytes;
  }

  add(seq: number, appendedAt: number, payload: Buffer): void {
    const last = this.seqs[this.seqs.length - 1];
    if (last !== undefined && seq <= last) {
      this.reset(Math.max(seq, last)); // out of order (cannot happen with group commit): start over
      return;
    }
    this.seqs.push(seq);
    this.appendedAts.push(appendedAt);
    this.payloads.push(this.copy(payload));
    this.bytes += payload.length;
    while (this.bytes > this.maxBytes && this.start < this.seqs.length) {
      this.bytes -= (this.payloads[this.start] as Buffer).length;
      this.floor = this.seqs[this.start] as number;
      this.payloads[this.start] = EMPTY; // its chunk is freed once no record in it is held
      this.start += 1;
    }
    if (this.start > 4096 && this.start * 2 > this.seqs.length) {
      this.seqs = this.seqs.slice(this.start);
      this.appendedAts = this.appendedAts.slice(this.start);
      this.payloads = this.payloads.slice(this.start);
      this.start = 0;
    }
  }

  /** Records with seq >= from (the same selection and form as a disk read), or undefined when not all are here. */
  read(from: number, maxRecords: number, maxBytes: number): LogRecord[] | undefined {
    if (from <= this.floor) return undefined;
    let low = this.start;
    let high = this.seqs.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if ((this.seqs[mid] as number) < from) low = mid + 1;
      else high = mid;
    }
    const out: LogRecord[] = [];
    let bytes = 0;
    for (let i = low; i < this.seqs.length && out.length < maxRecords; i++) {
      const payload = this.payloads[i] as Buffer;
      if (out.length > 0 && bytes + payload.length > maxBytes) break;
      bytes += payload.length;
      out.push(decodeLogRecord(this.seqs[i] as number, this.appendedAts[i] as number, payload));
    }
    return out;
  }

  /** The payload's bytes in the current chunk (a new one when it is full); a large payload gets its own buffer. */
  private copy(payload: Buffer): Buffer {
    if (payload.length > CHUNK_BYTES / 4) {
      const own = Buffer.allocUnsafeSlow(payload.length);
      payload.copy(own);
      return own;
    }
    if (this.chunkUsed + payload.length > this.chunk.length) {
      this.chunk = Buffer.allocUnsafeSlow(CHUNK_BYTES);
      this.chunkUsed = 0;
    }
    const at = this.chunkUsed;
    payload.copy(this.chunk, at);
    this.chunkUsed += payload.length;
    return this.chunk.subarray(at, this.chunkUsed);
  }
}

const EMPTY = Buffer.alloc(0);
