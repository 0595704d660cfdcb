/**
 * When visitors come in: a Poisson process, flat or shaped by the store's local hour of day
 * (non-homogeneous, drawn by thinning).
 */
import type { Rng } from './prng.js';
import type { ArrivalProfile } from './options.js';

const OPEN_HOUR = 9;
const CLOSE_HOUR = 21;
const MS_PER_HOUR = 3_600_000;

/** Unnormalised daily shape: a lunch bump and a bigger after-work bump over a base level. */
function rawDailyShape(hour: number): number {
  if (hour < OPEN_HOUR || hour >= CLOSE_HOUR) return 0;
  const bump = (centre: number, width: number) => Math.exp(-((hour - centre) ** 2) / (2 * width ** 2));
  return 0.6 + 0.5 * bump(12.75, 1.2) + 0.9 * bump(17.75, 1.5);
}

/** Mean of the raw shape over opening hours, so that `visitorsPerHour` is the average while open. */
const DAILY_MEAN = (() => {
  const steps = 1200;
  let sum = 0;
  for (let i = 0; i < steps; i += 1) sum += rawDailyShape(OPEN_HOUR + ((CLOSE_HOUR - OPEN_HOUR) * (i + 0.5)) / steps);
  return sum / steps;
})();
const DAILY_PEAK = (() => {
  let peak = 0;
  for (let h = OPEN_HOUR; h < CLOSE_HOUR; h += 0.01) peak = Math.max(peak, rawDailyShape(h));
  return peak / DAILY_MEAN;
})();

/** Rate multiplier at a local hour (0-24): 1 on average while open, 0 while closed. */
export function dailyRateFactor(localHour: number): number {
  return rawDailyShape(localHour) / DAILY_MEAN;
}

/** Fractional local hour of an instant in an IANA time zone (UTC when the zone is unknown). */
export function localHour(epochMs: number, timeZone: string): number {
  const parts = hourFormatter(timeZone).formatToParts(new Date(epochMs));
  const get = (type: string) => Number(parts.find((p) => p.type === type)?.value ?? 0);
  return get('hour') + get('minute') / 60 + get('second') / 3600;
}

const formatters = new Map<string, Intl.DateTimeFormat>();
function hourFormatter(timeZone: string): Intl.DateTimeFormat {
  let formatter = formatters.get(timeZone);
  if (!formatter) {
    const options: Intl.DateTimeFormatOptions = { hour: 'numeric', minute: 'numeric', second: 'numeric', hourCycle: 'h23' };
    try {
      formatter = new Intl.DateTimeFormat('en-GB', { ...options, timeZone });
    } catch (err) {
      if (!(err instanceof RangeError)) throw err;
      formatter = new Intl.DateTimeFormat('en-GB', { ...options, timeZone: 'UTC' }); // config accepts any string as a zone
    }
    formatters.set(timeZone, formatter);
  }
  return formatter;
}

export interface ArrivalParams {
  startMs: number;
  endMs: number;
  visitorsPerHour: number;
  profile: ArrivalProfile;
  timeZone: string;
}

/** Arrival instants (integer epoch ms, strictly after the start, at most the end), ascending. */
export function drawArrivals(params: ArrivalParams, rng: Rng): number[] {
  const { startMs, endMs, visitorsPerHour, profile, timeZone } = params;
  if (visitorsPerHour <= 0) return [];
  const peakFactor = profile === 'daily' ? DAILY_PEAK : 1;
  const meanGapMs = MS_PER_HOUR / (visitorsPerHour * peakFactor);
  const out: number[] = [];
  for (let t = startMs + rng.exponential(meanGapMs); t <= endMs; t += rng.exponential(meanGapMs)) {
    const accept = profile === 'flat' || rng.chance(dailyRateFactor(localHour(t, timeZone)) / peakFactor);
    const at = Math.max(startMs + 1, Math.ceil(t));
    if (accept && at <= endMs) out.push(at);
  }
  return out;
}
