/**
 * The accuracy metrics of `storeloop evaluate`, as pure functions of the ground truth and of the
 * figures computed from the signals (today the naive baselines of `baseline.ts`). Every metric is
 * defined in docs/simulator.md#evaluate; `null` stands for a figure that cannot be computed.
 */
import { MINUTE_MS } from '../simulators/truth-minutes.js';

/** One minute (epoch-aligned, as InfluxQL's `GROUP BY time(1m)`); the truth's minutes are the simulator's (simulators/truth-minutes.ts). */
export { MINUTE_MS };

/** zone per minute start (epoch ms). */
export type ZoneMinutes = Map<number, string>;

/** One sighting as the baseline reads it from InfluxDB. */
export interface SightingRow {
  /** Epoch ms. */
  ts: number;
  /** The `visitor` field: beacon id or wifi pseudonym. */
  visitor: string;
  sensor: string;
  zone: string;
  rssi: number;
}

/**
 * The strongest-scanner baseline: for each id and minute, the zone of the sensor whose sightings of
 * that id had the highest mean RSSI that minute (the sensor id breaks a tie, for a stable result).
 */
export function strongestZoneMinutes(rows: Iterable<SightingRow>): Map<string, ZoneMinutes> {
  // id → minute → sensor → [sum, count, zone]
  const acc = new Map<string, Map<number, Map<string, { sum: number; n: number; zone: string }>>>();
  for (const row of rows) {
    const minute = Math.floor(row.ts / MINUTE_MS) * MINUTE_MS;
    const byMinute = acc.get(row.visitor) ?? new Map<number, Map<string, { sum: number; n: number; zone: string }>>();
    acc.set(row.visitor, byMinute);
    const bySensor = byMinute.get(minute) ?? new Map<string, { sum: number; n: number; zone: string }>();
    byMinute.set(minute, bySensor);
    const s = bySensor.get(row.sensor) ?? { sum: 0, n: 0, zone: row.zone };
    s.sum += row.rssi;
    s.n += 1;
    bySensor.set(row.sensor, s);
  }
  const out = new Map<string, ZoneMinutes>();
  for (const [id, byMinute] of acc) {
    const zones: ZoneMinutes = new Map();
    for (const [minute, bySensor] of [...byMinute].sort((a, b) => a[0] - b[0])) {
      let best: { sensor: string; mean: number; zone: string } | undefined;
      for (const [sensor, s] of bySensor) {
        const mean = s.sum / s.n;
        if (best === undefined || mean > best.mean || (mean === best.mean && sensor < best.sensor)) best = { sensor, mean, zone: s.zone };
      }
      if (best !== undefined) zones.set(minute, best.zone);
    }
    out.set(id, zones);
  }
  return out;
}

/** Signed footfall error, % of the true count: (counted − true) / true × 100; null without true entries. */
export function footfallErrorPct(counted: number, trueEntered: number): number | null {
  if (trueEntered === 0) return null;
  return ((counted - trueEntered) / trueEntered) * 100;
}

export interface ZoneAccuracy {
  /** Visitor-minutes of the truth. */
  minutes: number;
  /** Those the estimate placed in the truth's zone. */
  correct: number;
  /** Those the estimate had any zone for. */
  estimated: number;
  /** correct / minutes × 100; null without minutes. */
  pct: number | null;
}

/**
 * Share of the truth's visitor-minutes for which the estimate gave the truth's zone. A minute the
 * estimate has no zone for counts as wrong; minutes the estimate has outside the truth's are ignored.
 */
export function zoneAccuracy(pairs: Iterable<{ truth: ZoneMinutes; estimate: ZoneMinutes | undefined }>): ZoneAccuracy {
  let minutes = 0;
  let correct = 0;
  let estimated = 0;
  for (const { truth, estimate } of pairs) {
    for (const [minute, zone] of truth) {
      minutes += 1;
      const guess = estimate?.get(minute);
      if (guess !== undefined) estimated += 1;
      if (guess === zone) correct += 1;
    }
  }
  return { minutes, correct, estimated, pct: minutes === 0 ? null : (correct / minutes) * 100 };
}

/** Milliseconds per zone an estimate assigns: one minute for each minute it placed the visitor there. */
export function estimatedDwellMs(estimate: ZoneMinutes | undefined): Map<string, number> {
  const out = new Map<string, number>();
  for (const zone of estimate?.values() ?? []) out.set(zone, (out.get(zone) ?? 0) + MINUTE_MS);
  return out;
}

/**
 * Median absolute percentage error of per-visit per-zone dwell: over every (visit, zone) the truth
 * has a stay in, |estimated − true| / true × 100 (a zone the estimate never gave counts 100 %).
 * Zones the estimate gives but the visit never entered have no true dwell to divide by and are left out.
 */
export function dwellMdapePct(visits: Iterable<{ truth: Map<string, number>; estimate: Map<string, number> }>): { pairs: number; pct: number | null } {
  const errors = dwellErrorsPct(visits);
  return { pairs: errors.length, pct: median(errors) };
}

/** The absolute percentage error of each (visit, zone) pair of dwellMdapePct, in the visits' order. */
export function dwellErrorsPct(visits: Iterable<{ truth: Map<string, number>; estimate: Map<string, number> }>): number[] {
  const errors: number[] = [];
  for (const { truth, estimate } of visits) {
    for (const [zone, trueMs] of truth) {
      if (trueMs <= 0) continue;
      errors.push((Math.abs((estimate.get(zone) ?? 0) - trueMs) / trueMs) * 100);
    }
  }
  return errors;
}

export function median(values: readonly number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  // noUncheckedIndexedAccess: mid and mid − 1 are inside a non-empty array
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Who was exposed to which touchpoint and who of them used it. Keys: touchpoint id → set of people. */
export interface Engagement {
  exposed: Map<string, Set<string>>;
  interacted: Map<string, Set<string>>;
}

/**
 * Engagement, % : over every (touchpoint, person) exposure, the share whose person used that
 * touchpoint (interactions of people not exposed do not count). null without exposures.
 */
export function engagementPct(e: Engagement): { exposures: number; engaged: number; pct: number | null } {
  let exposures = 0;
  let engaged = 0;
  for (const [touchpoint, people] of e.exposed) {
    const used = e.interacted.get(touchpoint);
    for (const person of people) {
      exposures += 1;
      if (used?.has(person) === true) engaged += 1;
    }
  }
  return { exposures, engaged, pct: exposures === 0 ? null : (engaged / exposures) * 100 };
}

/** Adds `person` to the set of `key`. */
export function addTo(map: Map<string, Set<string>>, key: string, person: string): void {
  const set = map.get(key) ?? new Set<string>();
  set.add(person);
  map.set(key, set);
}
