/**
 * The capture rate (`capture-ble/1`) of a capture answer: per interval, BLE visits ÷ (BLE visits +
 * BLE passers-by), from the answer's visit and passer-by series (every definition in the range
 * summed, named in the params). Pure.
 */
import type { FieldValues } from './metric-queries.js';
import type { MetricsRequest } from './metrics-request.js';
import type { MetricSeries } from './result-shaping.js';

export const CAPTURE_DEFINITION = 'capture-ble/1';

function rate(visits: number, passersBy: number): FieldValues {
  return { visits, passers_by: passersBy, capture_rate: visits + passersBy > 0 ? visits / (visits + passersBy) : null };
}

/** The capture series, or null when the range holds neither a visit nor a passer-by. */
export function captureSeries(req: MetricsRequest, series: readonly MetricSeries[]): MetricSeries | null {
  const visits = series.filter((s) => s.measurement === 'visit');
  const passers = series.filter((s) => s.measurement === 'passer_by');
  if (visits.length + passers.length === 0) return null;
  const sum = (list: MetricSeries[], field: string, i: number | null) =>
    list.reduce((total, s) => total + ((i === null ? s.total[field] : s.points[i]?.values[field]) ?? 0), 0);
  return {
    measurement: 'visit | passer_by',
    labels: { method: 'ble' },
    definition: CAPTURE_DEFINITION,
    params: [JSON.stringify({ visits: visits.map((s) => s.definition), passersBy: passers.map((s) => s.definition) })],
    total: rate(sum(visits, 'visits', null), sum(passers, 'passers_by', null)),
    points: Array.from({ length: req.buckets }, (_, i) => ({
      time: new Date(req.fromMs + i * req.intervalMs).toISOString(),
      values: rate(sum(visits, 'visits', i), sum(passers, 'passers_by', i)),
    })),
  };
}
