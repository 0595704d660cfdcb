/**
 * Occupancy of people (`occupancy-people/1`): the engine counts tracked app carriers per zone and
 * minute (occupancy-ble/1); people are those devices times the people per BLE visit of the range up
 * to the engine's frontier, where its BLE visits are final (the fused footfall ÷ the BLE visits,
 * footfall-fusion.ts), with a 95 % range. Pure; docs/analytics.md#occupancy-of-people.
 *
 * The range combines the scale's error (common to every zone and interval) and the sampling of app
 * carriers among the people in the zone: with a share s = 1 / scale carrying the app, N people show
 * as about N·s devices (binomial), so N estimated from d devices varies by d·scale·(scale − 1); with
 * no device at all, as much as one device's worth.
 */
import type { FieldValues } from './metric-queries.js';
import type { MetricSeries } from './result-shaping.js';

export const PEOPLE_OCCUPANCY_DEFINITION = 'occupancy-people/1';

const Z95 = 1.96;

export interface PeopleScale {
  /** People per BLE visit over the range (the inverse of the app carriers' share). */
  peoplePerBleVisit: number;
  relVariance: number;
}

function round1(value: number): number {
  return Math.round(value * 10) / 10;
}

/** People from a mean of tracked devices; null in, null out. */
export function peopleFrom(meanDevices: number | null, scale: PeopleScale): FieldValues {
  if (meanDevices === null) return { people_mean: null, people_low: null, people_high: null };
  const k = scale.peoplePerBleVisit;
  const people = meanDevices * k;
  const variance = people ** 2 * scale.relVariance + Math.max(meanDevices, 1) * k * Math.max(k - 1, 0);
  const half = Z95 * Math.sqrt(variance);
  return { people_mean: round1(people), people_low: round1(Math.max(0, people - half)), people_high: round1(people + half) };
}

/** One people series per device-occupancy series (per zone and definition), its points scaled. */
export function peopleOccupancySeries(occupancy: readonly MetricSeries[], scale: PeopleScale, params: Record<string, unknown>): MetricSeries[] {
  return occupancy.map((s) => ({
    measurement: 'occupancy | telemetry | visit',
    labels: { ...s.labels, unit: 'people' },
    definition: PEOPLE_OCCUPANCY_DEFINITION,
    params: [JSON.stringify({ ...params, devices: s.definition })],
    total: peopleFrom(s.total['mean_devices'] ?? null, scale),
    points: s.points.map((p) => ({ time: p.time, values: peopleFrom(p.values['mean_devices'] ?? null, scale) })),
  }));
}
