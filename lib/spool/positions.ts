/**
 * Position lookups over the spool's in-memory segment index, for a log whose readers keep their own
 * positions (the gateway's event log): what is pending after a seq, and where an append time falls.
 * Pure: nothing is read from disk.
 */
import type { Segment } from './segment.js';

export interface PendingSpan {
  records: number;
  /** Headers included. */
  bytes: number;
  oldestAppendedAt: number | null;
}

/** Pending records with seq > `afterSeq` in `segments` (ordered by first seq). */
export function pendingAfter(segments: readonly Segment[], afterSeq: number): PendingSpan {
  let records = 0;
  let bytes = 0;
  let oldestAppendedAt: number | null = null;
  for (const segment of segments) {
    if (segment.isFullyAcked || (segment.lastSeq ?? 0) <= afterSeq) continue;
    const from = segment.indexOfPending(afterSeq + 1);
    if (from >= segment.count) continue;
    oldestAppendedAt ??= segment.appendedAtAt(from);
    records += segment.count - from;
    bytes += segment.committedBytes - segment.offsetAt(from);
  }
  return { records, bytes, oldestAppendedAt };
}

/** Seq of the first pending record appended at or after `epochMs` (append times never decrease), or null. */
export function firstSeqAppendedSince(segments: readonly Segment[], epochMs: number): number | null {
  for (const segment of segments) {
    if (segment.isFullyAcked) continue;
    const lastIndex = segment.count - 1;
    if (segment.appendedAtAt(lastIndex) < epochMs) continue;
    let low = segment.firstPending;
    let high = lastIndex;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if (segment.appendedAtAt(mid) < epochMs) low = mid + 1;
      else high = mid;
    }
    return segment.seqAt(low);
  }
  return null;
}
