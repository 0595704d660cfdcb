/**
 * Batches pseudonymised probe requests into wifi payloads: one per interval of capture time, each
 * device once per interval with its strongest signal. Pure and driven by the times it is given.
 *
 * `ts` is the end of the interval (start + intervalMs): never earlier than a frame it covers, and
 * for a live capture never later than the moment the batch can be sent. Intervals are aligned to
 * the Unix epoch, so frames of a file keep their capture-time intervals.
 *
 * Strongest, not mean: a phone sends a burst of probes on several channels within milliseconds, and
 * the weaker copies are fades and off-channel receptions, not distance.
 */
import { MAX_ITEMS_PER_MESSAGE, type Pseudonym, type WifiObservation } from '../../protocol/index.js';
import type { SourcePayload } from '../types.js';
import type { ProbeFrame } from './tshark-fields.js';

export class ProbeBatcher {
  private readonly intervals = new Map<number, Map<Pseudonym, WifiObservation>>();
  /** Intervals ending at or before this were flushed already. */
  private flushedUntilMs = Number.NEGATIVE_INFINITY;
  private maxSeenMs = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly sourceId: string,
    private readonly intervalMs: number,
  ) {}

  /** Adds a frame; `late` when its interval was flushed already (it goes out in a payload of its own). */
  add(frame: ProbeFrame): { late: boolean } {
    const start = Math.floor(frame.atMs / this.intervalMs) * this.intervalMs;
    let devices = this.intervals.get(start);
    if (devices === undefined) {
      devices = new Map();
      this.intervals.set(start, devices);
    }
    const held = devices.get(frame.id);
    if (held === undefined || frame.rssi > held.rssi) devices.set(frame.id, { id: frame.id, rssi: frame.rssi, randomized: frame.randomized });
    this.maxSeenMs = Math.max(this.maxSeenMs, frame.atMs);
    return { late: start + this.intervalMs <= this.flushedUntilMs };
  }

  /** The newest capture time seen (epoch ms), or -Infinity before the first frame. */
  get watermarkMs(): number {
    return this.maxSeenMs;
  }

  /** Frames' intervals not yet flushed. */
  get pendingIntervals(): number {
    return this.intervals.size;
  }

  /** Payloads of the intervals that end at or before `cutoffMs`, oldest first. */
  flushUntil(cutoffMs: number): SourcePayload[] {
    const due = [...this.intervals.keys()].filter((start) => start + this.intervalMs <= cutoffMs).sort((a, b) => a - b);
    this.flushedUntilMs = Math.max(this.flushedUntilMs, cutoffMs);
    return due.flatMap((start) => this.take(start));
  }

  /** Payloads of every pending interval, oldest first (end of a file, stop). */
  flushAll(): SourcePayload[] {
    const all = [...this.intervals.keys()].sort((a, b) => a - b);
    if (all.length > 0) this.flushedUntilMs = Math.max(this.flushedUntilMs, (all.at(-1) ?? 0) + this.intervalMs);
    return all.flatMap((start) => this.take(start));
  }

  private take(start: number): SourcePayload[] {
    const observations = [...(this.intervals.get(start)?.values() ?? [])];
    this.intervals.delete(start);
    const payloads: SourcePayload[] = [];
    for (let i = 0; i < observations.length; i += MAX_ITEMS_PER_MESSAGE) {
      payloads.push({
        kind: 'wifi',
        sourceId: this.sourceId,
        payload: { ts: start + this.intervalMs, observations: observations.slice(i, i + MAX_ITEMS_PER_MESSAGE) },
      });
    }
    return payloads;
  }
}
