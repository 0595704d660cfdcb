/**
 * When visitors come in: a Poisson process, flat or shaped by the store's local hour of day
 * (non-homogeneous, drawn by thinning). The daily profile is zero while the store is closed: outside
 * its `openingHours` (opening.ts), or 21:00-09:00 for a store that lists none.
 */
import type { StoreConfig } from '../config/index.js';
import { WEEKDAYS, type OpeningRange } from '../config/index.js';
import { localTime, rangesOn } from './opening.js';
import type { Rng } from './prng.js';
import type { ArrivalProfile } from './options.js';

const MS_PER_HOUR = 3_600_000;

/** Unnormalised daily shape: a lunch bump and a bigger after-work bump over a base level. */
function rawShape(hour: number): number {
  const bump = (centre: number, width: number) => Math.exp(-((hour - centre) ** 2) / (2 * width ** 2));
  return 0.6 + 0.5 * bump(12.75, 1.2) + 0.9 * bump(17.75, 1.5);
}

/** Mean and peak of the raw shape over a day's opening ranges (minutes after midnight). */
function shapeStats(ranges: readonly OpeningRange[]): { mean: number; peak: number } {
  let sum = 0;
  let n = 0;
  let peak = 0;
  for (const r of ranges) {
    const steps = Math.max(1, Math.round((r.toMin - r.fromMin) / 0.6));
    for (let i = 0; i < steps; i += 1) {
      const v = rawShape((r.fromMin + ((r.toMin - r.fromMin) * (i + 0.5)) / steps) / 60);
      sum += v;
      n += 1;
      peak = Math.max(peak, v);
    }
  }
  return { mean: n > 0 ? sum / n : 1, peak };
}

type Hours = Pick<StoreConfig, 'openingHours' | 'timezone'>;

/** Rate multiplier at an instant: 1 on average over the open hours of that local day, 0 while closed. */
export function dailyRateFactorAt(store: Hours, epochMs: number): number {
  const lt = localTime(epochMs, store.timezone);
  const ranges = rangesOn(store, lt.weekday);
  if (!ranges.some((r) => lt.minute >= r.fromMin && lt.minute < r.toMin)) return 0;
  return rawShape(lt.minute / 60) / shapeStats(ranges).mean;
}

/** Largest rate multiplier of any day of the week (the thinning's envelope). */
function peakFactor(store: Hours): number {
  let peak = 0;
  for (const day of WEEKDAYS) {
    const stats = shapeStats(rangesOn(store, day));
    if (stats.peak > 0) peak = Math.max(peak, stats.peak / stats.mean);
  }
  return peak > 0 ? peak : 1;
}

export interface ArrivalParams {
  startMs: number;
  endMs: number;
  visitorsPerHour: number;
  profile: ArrivalProfile;
  timeZone: string;
  /** The store's opening hours (absent: 09:00-21:00 every day). */
  openingHours?: StoreConfig['openingHours'];
}

/** Arrival instants (integer epoch ms, strictly after the start, at most the end), ascending. */
export function drawArrivals(params: ArrivalParams, rng: Rng): number[] {
  const { startMs, endMs, visitorsPerHour, profile, timeZone } = params;
  if (visitorsPerHour <= 0) return [];
  const store: Hours = { timezone: timeZone, ...(params.openingHours ? { openingHours: params.openingHours } : {}) };
  const peak = profile === 'daily' ? peakFactor(store) : 1;
  const meanGapMs = MS_PER_HOUR / (visitorsPerHour * peak);
  const out: number[] = [];
  for (let t = startMs + rng.exponential(meanGapMs); t <= endMs; t += rng.exponential(meanGapMs)) {
    const accept = profile === 'flat' || rng.chance(dailyRateFactorAt(store, t) / peak);
    const at = Math.max(startMs + 1, Math.ceil(t));
    if (accept && at <= endMs) out.push(at);
  }
  return out;
}
