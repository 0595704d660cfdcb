/**
 * Answers of the metrics API kept in memory for ranges that can no longer change: ones that end
 * before the finality horizon (`finalityHorizonMs`). Bounded in entries and in bytes (the answer's
 * JSON length), least recently used dropped first, each entry kept at most `ttlMs`: the TTL bounds
 * how stale an answer may be when raw points still arrive for an old range (an edge agent replaying
 * its queue after an outage, up to ingest.maxPastSeconds late). Pure but for the clock it is given.
 */
import type { Config } from '../../config/index.js';
import { DEFAULT_PRESENCE_PARAMS } from '../experience/params.js';
import type { MetricsResponse } from './metrics-reader.js';
import type { MetricsRequest } from './metrics-request.js';

const MINUTE_MS = 60_000;

/** Room for the InfluxDB sink to write what the engine appended (its lag is normally seconds). */
export const SINK_MARGIN_MS = 5 * MINUTE_MS;

/**
 * How long after an event time the experience engine may still write a derived point stamped at it
 * (wall clock, with the config's sinks.experience settings). A visit point is stamped at the visit's
 * start, not its end, and a visit may last `maxVisitMinutes` (180): its last sighting is at most that
 * long after the start; it is final at the first `finalizeEveryMinutes` boundary after the device has
 * been unheard for `maxGapMs` (15 min), once every source is `lateToleranceSeconds` past it; a source
 * up to `maxSourceLagMinutes` behind holds the boundary back. Zone stays and exposures are stamped
 * within their visit; occupancy of a minute is final at most `occupancyHoldMinutes` after it. Plus
 * the sink's margin. With the defaults: 180 + 15 + 5 + 1 + 30 + 5 = 236 minutes.
 */
export function finalityHorizonMs(experience: Config['sinks']['experience']): number {
  const open = Math.max(experience.maxVisitMinutes * MINUTE_MS + DEFAULT_PRESENCE_PARAMS.maxGapMs, experience.occupancyHoldMinutes * MINUTE_MS);
  return (
    open + experience.finalizeEveryMinutes * MINUTE_MS + experience.lateToleranceSeconds * 1000 + experience.maxSourceLagMinutes * MINUTE_MS + SINK_MARGIN_MS
  );
}

export interface MetricsCacheOptions {
  /** Ranges ending more than this before now are cached (finalityHorizonMs). */
  horizonMs: number;
  ttlMs: number;
  maxEntries: number;
  /** Sum of the cached answers' JSON lengths, characters. */
  maxBytes: number;
  now?: () => number;
}

export const DEFAULT_CACHE_LIMITS = { ttlMs: 15 * MINUTE_MS, maxEntries: 500, maxBytes: 64 * 1024 * 1024 } as const;

interface Entry {
  answer: MetricsResponse;
  bytes: number;
  expiresAt: number;
}

export type CacheLookup = { outcome: 'hit'; answer: MetricsResponse } | { outcome: 'miss' | 'skip' };

export class MetricsCache {
  private readonly entries = new Map<string, Entry>();
  private bytes = 0;
  private readonly now: () => number;

  constructor(private readonly options: MetricsCacheOptions) {
    this.now = options.now ?? Date.now;
  }

  /** The request's key: everything that shapes the answer (the store by id, the range, the interval, the filter). */
  static key(req: MetricsRequest): string {
    return JSON.stringify([req.store.id, req.metric, req.fromMs, req.toMs, req.intervalMs, req.zone ?? null, req.touchpoint ?? null]);
  }

  /** Whether the range lies wholly before the finality horizon. */
  isFinal(req: MetricsRequest): boolean {
    return req.toMs <= this.now() - this.options.horizonMs;
  }

  /** `hit` with the answer; `miss` for a final range not cached (or expired); `skip` for a range that may still change. */
  lookup(req: MetricsRequest): CacheLookup {
    if (!this.isFinal(req)) return { outcome: 'skip' };
    const key = MetricsCache.key(req);
    const entry = this.entries.get(key);
    if (entry === undefined) return { outcome: 'miss' };
    this.entries.delete(key);
    if (entry.expiresAt <= this.now()) {
      this.bytes -= entry.bytes;
      return { outcome: 'miss' };
    }
    this.entries.set(key, entry); // most recently used last
    return { outcome: 'hit', answer: entry.answer };
  }

  /** Keeps the answer of a final range; one larger than the byte budget is not kept. */
  store(req: MetricsRequest, answer: MetricsResponse): void {
    if (!this.isFinal(req)) return;
    const bytes = JSON.stringify(answer).length;
    if (bytes > this.options.maxBytes) return;
    const key = MetricsCache.key(req);
    const old = this.entries.get(key);
    if (old !== undefined) {
      this.entries.delete(key);
      this.bytes -= old.bytes;
    }
    this.entries.set(key, { answer, bytes, expiresAt: this.now() + this.options.ttlMs });
    this.bytes += bytes;
    for (const [oldest, entry] of this.entries) {
      if (this.entries.size <= this.options.maxEntries && this.bytes <= this.options.maxBytes) break;
      this.entries.delete(oldest);
      this.bytes -= entry.bytes;
    }
  }

  get size(): { entries: number; bytes: number } {
    return { entries: this.entries.size, bytes: this.bytes };
  }
}
