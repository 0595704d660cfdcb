/** Plans a read over the spool's in-memory segment index: which records, in which contiguous runs. */
import { RECORD_HEADER_BYTES } from './record-codec.js';
import type { Segment } from './segment.js';

/** Records [from, to) of one segment, contiguous on disk. */
export interface ReadRun {
  segment: Segment;
  from: number;
  to: number;
}

/**
 * Runs of pending records from `startSeq` on, at most `maxRecords`, and at most `maxBytes` of
 * payload except that the first record is always included. `segments` are ordered by first seq.
 */
export function planRead(segments: readonly Segment[], startSeq: number, maxRecords: number, maxBytes: number): ReadRun[] {
  const runs: ReadRun[] = [];
  let records = 0;
  let bytes = 0;
  for (let s = segmentIndexFor(segments, startSeq); s < segments.length && records < maxRecords; s += 1) {
    const segment = segments[s] as Segment; // s < length
    const from = segment.indexOfPending(startSeq);
    let to = from;
    while (to < segment.count && records < maxRecords) {
      const payloadBytes = segment.endAt(to) - segment.offsetAt(to) - RECORD_HEADER_BYTES;
      if (records > 0 && bytes + payloadBytes > maxBytes) return pushRun(runs, segment, from, to);
      bytes += payloadBytes;
      records += 1;
      to += 1;
    }
    pushRun(runs, segment, from, to);
  }
  return runs;
}

/** Index of the last segment whose first seq is <= seq (0 if none): binary search. */
function segmentIndexFor(segments: readonly Segment[], seq: number): number {
  let low = 0;
  let high = segments.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if ((segments[mid] as Segment).firstSeq <= seq)
      low = mid + 1; // mid < length
    else high = mid;
  }
  return Math.max(0, low - 1);
}

function pushRun(runs: ReadRun[], segment: Segment, from: number, to: number): ReadRun[] {
  if (to > from) runs.push({ segment, from, to });
  return runs;
}
