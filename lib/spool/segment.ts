/**
 * One segment file `<first seq, 20 digits>.seg` and the in-memory index of its durable records
 * (seq → offset, appendedAt); payloads stay on disk. Records in a segment are contiguous and in
 * strictly increasing seq order, so a record's size is the distance to the next offset.
 */
import type { FileHandle } from 'node:fs/promises';
import { join } from 'node:path';

const SEGMENT_NAME = /^(\d{20})\.seg$/;

/** The file name of the segment whose first record has `firstSeq`; fixed width, so names sort by seq. */
export function segmentFileName(firstSeq: number): string {
  return `${String(firstSeq).padStart(20, '0')}.seg`;
}

/** The first seq a segment file name stands for, or null for any other file. */
export function parseSegmentFileName(name: string): number | null {
  const match = SEGMENT_NAME.exec(name);
  if (match?.[1] === undefined) return null;
  const seq = Number(match[1]);
  return Number.isSafeInteger(seq) && seq > 0 ? seq : null;
}

export class Segment {
  readonly name: string;
  readonly path: string;
  private readonly seqs: number[] = [];
  private readonly offsets: number[] = [];
  private readonly appendedAts: number[] = [];
  /** Index of the first record not acked yet (== count when all are acked). */
  firstPending = 0;
  /** End of the last durable (indexed) record. */
  committedBytes = 0;
  /** End of what has been written, durable or not; only ahead of committedBytes during a group. */
  writeEnd = 0;
  /** Open for writing: only the active segment, and a rolled-out one until its group is synced. */
  handle: FileHandle | null = null;
  /** A group is writing into it right now: it must not be deleted. */
  busy = false;
  /** Removed from the spool (all acked); a read that races the removal skips it. */
  deleted = false;

  constructor(
    dir: string,
    readonly firstSeq: number,
  ) {
    this.name = segmentFileName(firstSeq);
    this.path = join(dir, this.name);
  }

  get count(): number {
    return this.seqs.length;
  }

  get pendingCount(): number {
    return this.seqs.length - this.firstPending;
  }

  get isFullyAcked(): boolean {
    return this.firstPending >= this.seqs.length;
  }

  /** Bytes (headers included) of the records not acked yet. */
  get pendingBytes(): number {
    return this.isFullyAcked ? 0 : this.committedBytes - this.offsetAt(this.firstPending);
  }

  get lastSeq(): number | undefined {
    return this.seqs[this.seqs.length - 1];
  }

  /** Indexes a durable record that ends at `end`. */
  add(seq: number, offset: number, appendedAt: number, end: number): void {
    this.seqs.push(seq);
    this.offsets.push(offset);
    this.appendedAts.push(appendedAt);
    this.committedBytes = end;
    this.writeEnd = Math.max(this.writeEnd, end);
  }

  seqAt(index: number): number {
    return this.at(this.seqs, index);
  }

  offsetAt(index: number): number {
    return this.at(this.offsets, index);
  }

  appendedAtAt(index: number): number {
    return this.at(this.appendedAts, index);
  }

  /** Where record `index` ends (its successor's offset, or the committed end). */
  endAt(index: number): number {
    return index + 1 < this.offsets.length ? this.offsetAt(index + 1) : this.committedBytes;
  }

  /** Index of the first pending record with seq >= `seq` (== count if none). */
  indexOfPending(seq: number): number {
    let low = this.firstPending;
    let high = this.seqs.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if (this.seqAt(mid) < seq) low = mid + 1;
      else high = mid;
    }
    return low;
  }

  /** Marks records with seq <= `uptoSeq` acked; returns how many records and bytes that released. */
  ackUpto(uptoSeq: number): { records: number; bytes: number } {
    const from = this.firstPending;
    const bytesBefore = this.pendingBytes;
    while (this.firstPending < this.seqs.length && this.seqAt(this.firstPending) <= uptoSeq) this.firstPending += 1;
    return { records: this.firstPending - from, bytes: bytesBefore - this.pendingBytes };
  }

  private at(values: number[], index: number): number {
    const value = values[index];
    if (value === undefined) throw new RangeError(`segment ${this.name} has no record #${index} (${values.length} records)`);
    return value;
  }
}
