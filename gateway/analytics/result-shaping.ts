/**
 * InfluxDB's answers to a metric's parts → the API's series: one per (group, labels, definition),
 * every interval of the range present (an empty one as the catalogue says: counts 0, means null),
 * a total over the whole range, and the definition's params. Pure.
 */
import type { QuerySeries } from '../influx/influx-query.js';
import { METRICS, type MetricName } from './metric-catalogue.js';
import type { FieldValues, QueryPart } from './metric-queries.js';
import type { MetricsRequest } from './metrics-request.js';

/** What InfluxDB answered to one part: per interval, over the range, and the distinct params. */
export interface PartResult {
  part: QueryPart;
  bucketed: QuerySeries[];
  total: QuerySeries[];
  params: QuerySeries[];
}

export interface MetricPoint {
  /** Start of the interval, ISO 8601 (UTC). */
  time: string;
  values: FieldValues;
}

export interface MetricSeries {
  measurement: string;
  labels: Record<string, string>;
  /** The `definition` tag of the points (e.g. `visit-ble/1`); null for raw measurements. */
  definition: string | null;
  /** The distinct `params` of those points in the range (usually one); empty for raw measurements. */
  params: string[];
  total: FieldValues;
  points: MetricPoint[];
}

interface Accumulated {
  order: number;
  group: string;
  measurement: string;
  labels: Record<string, string>;
  definition: string | null;
  params: Set<string>;
  buckets: Map<number, FieldValues>;
  total: FieldValues;
  fields: string[];
  derive: QueryPart['derive'];
}

/** Labels (the part's, then the series' tags but `definition`) and the definition of one InfluxDB series. */
function identify(part: QueryPart, series: QuerySeries): { labels: Record<string, string>; definition: string | null; key: string } {
  const { definition, ...tags } = series.tags ?? {};
  const labels = { ...part.labels, ...tags };
  const sorted = Object.fromEntries(Object.entries(labels).sort(([a], [b]) => a.localeCompare(b)));
  const def = definition === undefined || definition === '' ? null : definition;
  return { labels: sorted, definition: def, key: JSON.stringify([part.group, sorted, def]) };
}

/** A cell as a figure: finite numbers stay, anything else (null, a string, NaN) is null. */
function figure(value: unknown): number | null {
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}

function rowValues(part: QueryPart, series: QuerySeries, row: unknown[]): FieldValues {
  const values: FieldValues = {};
  for (const a of part.aggregates) values[a.as] = figure(row[series.columns.indexOf(a.as)]);
  return values;
}

/** Every field a null from InfluxDB (or no row) turns into, per the catalogue: 0 for counts and sums, else null. */
function completed(metric: MetricName, fields: string[], values: FieldValues | undefined, derive: QueryPart['derive']): FieldValues {
  const out: FieldValues = {};
  for (const name of fields) {
    const empty = METRICS[metric].fields.find((f) => f.name === name)?.empty ?? 'null';
    out[name] = values?.[name] ?? (empty === 'zero' ? 0 : null);
  }
  const derived = derive === undefined ? out : derive(out);
  for (const [name, value] of Object.entries(derived)) derived[name] = figure(value);
  return derived;
}

/** The series of a metric from its parts' results, in the parts' order, then by labels and definition. */
export function shapeSeries(req: MetricsRequest, results: PartResult[]): MetricSeries[] {
  const groupOrder = [...new Set(results.map((r) => r.part.group))];
  const groupFields = new Map<string, string[]>();
  for (const { part } of results) groupFields.set(part.group, [...(groupFields.get(part.group) ?? []), ...part.aggregates.map((a) => a.as)]);
  const all = new Map<string, Accumulated>();
  const entry = (part: QueryPart, series: QuerySeries): Accumulated => {
    const { labels, definition, key } = identify(part, series);
    let acc = all.get(key);
    if (acc === undefined) {
      acc = {
        order: groupOrder.indexOf(part.group),
        group: part.group,
        measurement: part.measurement,
        labels,
        definition,
        params: new Set(),
        buckets: new Map(),
        total: {},
        fields: groupFields.get(part.group) ?? [],
        derive: part.derive,
      };
      all.set(key, acc);
    }
    return acc;
  };
  for (const { part, bucketed, total, params } of results) {
    for (const series of bucketed) {
      const acc = entry(part, series);
      const timeIndex = series.columns.indexOf('time');
      for (const row of series.values) {
        const index = (Number(row[timeIndex]) - req.fromMs) / req.intervalMs;
        if (!Number.isInteger(index) || index < 0 || index >= req.buckets) continue; // not an interval of the range
        acc.buckets.set(index, { ...acc.buckets.get(index), ...rowValues(part, series, row) });
      }
    }
    for (const series of total) {
      const row = series.values[0];
      if (row !== undefined) Object.assign(entry(part, series).total, rowValues(part, series, row));
    }
    for (const series of params) {
      const column = series.columns.indexOf('distinct');
      const acc = all.get(identify(part, series).key);
      for (const row of series.values) if (acc !== undefined && typeof row[column] === 'string') acc.params.add(row[column]);
    }
  }
  return [...all.values()]
    .sort(
      (a, b) => a.order - b.order || JSON.stringify(a.labels).localeCompare(JSON.stringify(b.labels)) || (a.definition ?? '').localeCompare(b.definition ?? ''),
    )
    .map((acc) => ({
      measurement: acc.measurement,
      labels: acc.labels,
      definition: acc.definition,
      params: [...acc.params].sort(),
      total: completed(req.metric, acc.fields, acc.total, acc.derive),
      points: Array.from({ length: req.buckets }, (_, i) => ({
        time: new Date(req.fromMs + i * req.intervalMs).toISOString(),
        values: completed(req.metric, acc.fields, acc.buckets.get(i), acc.derive),
      })),
    }));
}
