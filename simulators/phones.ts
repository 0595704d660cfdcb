/**
 * What a visitor's phone does on its own, apart from where it is carried: how often a randomised wifi
 * MAC rotates, and when the retailer's app actually advertises its iBeacon (an app in the background
 * or throttled by the OS advertises only part of the time). Parameters and sources: docs/simulator.md.
 */
import type { Rng } from './prng.js';

/** An interval of epoch ms, `from` included, `to` excluded. */
export interface Interval {
  from: number;
  to: number;
}

/** A randomised MAC's rotation interval, ms: uniform in [minMs, maxMs]. */
export function drawRotationMs(rng: Rng, minMs: number, maxMs: number): number {
  return Math.round(rng.uniform(minMs, maxMs));
}

/**
 * The intervals within [from, to) in which the app advertises: an alternating on/off renewal process
 * whose on periods are exponential with mean `dutyCycle · periodMs` and off periods exponential with
 * mean `(1 − dutyCycle) · periodMs`, starting on with chance `dutyCycle` (its stationary state), so the
 * long-run share of time on is `dutyCycle` and one on/off cycle lasts `periodMs` on average.
 * A duty cycle of 1 advertises all the time, 0 never.
 */
export function advertisingIntervals(rng: Rng, from: number, to: number, dutyCycle: number, periodMs: number): Interval[] {
  if (to <= from || dutyCycle <= 0) return [];
  if (dutyCycle >= 1) return [{ from, to }];
  const out: Interval[] = [];
  let on = rng.chance(dutyCycle);
  let t = from;
  while (t < to) {
    const length = Math.max(1, Math.round(rng.exponential((on ? dutyCycle : 1 - dutyCycle) * periodMs)));
    const end = Math.min(to, t + length);
    if (on) out.push({ from: t, to: end });
    t = end;
    on = !on;
  }
  return out;
}

/** Whether `t` lies in one of the (ascending, disjoint) intervals. */
export function within(intervals: readonly Interval[], t: number): boolean {
  let lo = 0;
  let hi = intervals.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const iv = intervals[mid] as Interval;
    if (t < iv.from) hi = mid - 1;
    else if (t >= iv.to) lo = mid + 1;
    else return true;
  }
  return false;
}
