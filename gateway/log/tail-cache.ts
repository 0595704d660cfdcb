/**
 * The newest appended records, as the entries the pipeline built (never parsed back), in seq order,
 * up to a byte budget: sinks that keep up read them from here without a disk read or a parse.
 * `floor`: every record with a seq above it is in the cache until evicted; reads from above it are
 * served here, reads from below go to disk. Entries are never modified after append.
 */
import type { LogEntry, LogRecord } from './log-record.js';

export class TailCache {
  private records: LogRecord[] = [];
  private sizes: number[] = [];
  private start = 0;
  private bytes = 0;
  private floor = 0;

  constructor(private readonly maxBytes: number) {}

  reset(floor: number): void {
    this.records = [];
    this.sizes = [];
    this.start = 0;
    this.bytes = 0;
    this.floor = floor;
  }

  add(seq: number, appendedAt: number, entry: LogEntry, size: number): void {
    const last = this.records[this.records.length - 1];
    if (last !== undefined && seq <= last.seq) {
      this.reset(Math.max(seq, last.seq)); // out of order (cannot happen with group commit): start over
      return;
    }
    const record = entry as LogRecord;
    record.seq = seq;
    record.appendedAt = appendedAt;
    this.records.push(record);
    this.sizes.push(size);
    this.bytes += size;
    while (this.bytes > this.maxBytes && this.start < this.records.length) {
      this.bytes -= this.sizes[this.start] as number;
      this.floor = (this.records[this.start] as LogRecord).seq;
      this.start += 1;
    }
    if (this.start > 4096 && this.start * 2 > this.records.length) {
      this.records = this.records.slice(this.start);
      this.sizes = this.sizes.slice(this.start);
      this.start = 0;
    }
  }

  /** Records with seq >= from (the same selection as a disk read), or undefined when not all are here. */
  read(from: number, maxRecords: number, maxBytes: number): LogRecord[] | undefined {
    if (from <= this.floor) return undefined;
    let low = this.start;
    let high = this.records.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if ((this.records[mid] as LogRecord).seq < from) low = mid + 1;
      else high = mid;
    }
    const out: LogRecord[] = [];
    let bytes = 0;
    for (let i = low; i < this.records.length && out.length < maxRecords; i++) {
      const size = this.sizes[i] as number;
      if (out.length > 0 && bytes + size > maxBytes) break;
      bytes += size;
      out.push(this.records[i] as LogRecord);
    }
    return out;
  }
}
