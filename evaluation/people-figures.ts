/**
 * `storeloop evaluate`, occupancy of people (occupancy-people/1: the engine's devices per zone scaled
 * by the people per BLE visit, with a 95 % range) against the customers the truth has in each zone:
 * per zone and whole clock hour, the mean over the hour's minutes. The caller gives the estimate per
 * zone-hour (the CLI from the metrics API's reader, the accuracy bench from the same functions in
 * process); only zone-hours the engine has made final throughout are compared.
 */
import { minuteZones } from '../simulators/truth-minutes.js';
import type { EvaluationTruth, Figure } from './evaluate.js';
import { MINUTE_MS } from './metrics.js';

const HOUR_MS = 3_600_000;

export interface PeopleZoneHour {
  zone: string;
  start: number;
  people: number | null;
  low: number | null;
  high: number | null;
}

export const PEOPLE_DEFINITIONS = {
  mae: "mean over zones and whole clock hours of |estimated − true| mean people in the zone, the truth's being its customers' minutes in the zone over the hour ÷ 60 (staff are not counted), the estimate the metrics API's people_mean (occupancy-people/1)",
  bias: 'signed error of the estimates summed over those zone-hours against the truth summed, in % of the truth',
  range: "share of those zone-hours whose true mean lies within the estimate's stated 95 % range",
} as const;

/** The truth's mean customers per zone over each whole clock hour: `${zone} ${hourStart}` → mean. */
export function trueMeanPeople(truth: Pick<EvaluationTruth, 'visits'>): Map<string, number> {
  const minutes = new Map<string, number>();
  for (const v of truth.visits) {
    for (const [minute, zone] of minuteZones(v.minutes)) {
      const key = `${zone} ${Math.floor(minute / HOUR_MS) * HOUR_MS}`;
      minutes.set(key, (minutes.get(key) ?? 0) + 1);
    }
  }
  return new Map([...minutes].map(([key, n]) => [key, (n * MINUTE_MS) / HOUR_MS]));
}

export function peopleFigures(truth: Pick<EvaluationTruth, 'visits'>, zoneHours: readonly PeopleZoneHour[]): Figure[] {
  const real = trueMeanPeople(truth);
  const rows = zoneHours.filter((h) => h.people !== null).map((h) => ({ ...h, truth: real.get(`${h.zone} ${h.start}`) ?? 0 }));
  const na = rows.length === 0 ? { reason: 'no zone-hour the engine made final throughout in the window' } : {};
  const estimated = rows.reduce((s, r) => s + (r.people ?? 0), 0);
  const trueSum = rows.reduce((s, r) => s + r.truth, 0);
  const ranged = rows.filter((r) => r.low !== null && r.high !== null);
  const held = ranged.filter((r) => (r.low ?? Infinity) <= r.truth && r.truth <= (r.high ?? -Infinity)).length;
  const detail = `${rows.length} zone-hours, estimated ${estimated.toFixed(1)}, true ${trueSum.toFixed(1)} people in all`;
  return [
    {
      key: 'people_occupancy_mae',
      label: 'occupancy of people, error per zone-hour',
      value: rows.length === 0 ? null : rows.reduce((s, r) => s + Math.abs((r.people ?? 0) - r.truth), 0) / rows.length,
      unit: 'people',
      definition: PEOPLE_DEFINITIONS.mae,
      detail,
      ...na,
    },
    {
      key: 'people_occupancy_bias_pct',
      label: 'occupancy of people, bias',
      value: trueSum === 0 ? null : ((estimated - trueSum) / trueSum) * 100,
      unit: '%',
      definition: PEOPLE_DEFINITIONS.bias,
      detail,
      ...(trueSum === 0 ? { reason: 'nobody inside in the compared zone-hours' } : {}),
    },
    {
      key: 'people_occupancy_range_hit_pct',
      label: 'zone-hours within the occupancy range',
      value: ranged.length === 0 ? null : (held / ranged.length) * 100,
      unit: '%',
      definition: PEOPLE_DEFINITIONS.range,
      detail: `${held} of ${ranged.length}`,
      ...(ranged.length === 0 ? { reason: 'no zone-hour with a range' } : {}),
    },
  ];
}
