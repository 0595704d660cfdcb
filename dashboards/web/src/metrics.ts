/** Reading the metrics API's answers: a series by its labels, its points as chart columns and table rows. */
import { apiGet, metricPath, type MetricAnswer, type MetricQuery, type MetricSeries } from './api';

export function loadMetric(store: string, query: MetricQuery, signal: AbortSignal): Promise<MetricAnswer> {
  return apiGet<MetricAnswer>(metricPath(store, query), signal);
}

/** The series whose labels include every given label (and no `unit` label unless asked for). */
export function findSeries(answer: MetricAnswer, labels: Record<string, string>): MetricSeries | undefined {
  return answer.series.find(
    (s) => Object.entries(labels).every(([k, v]) => s.labels[k] === v) && (labels['unit'] !== undefined || s.labels['unit'] === undefined),
  );
}

export function seriesWhere(answer: MetricAnswer, test: (s: MetricSeries) => boolean): MetricSeries[] {
  return answer.series.filter(test);
}

/** The interval starts of a range, epoch ms: the x axis every series of the range shares. */
export function intervalStarts(fromMs: number, toMs: number, intervalMs: number): number[] {
  const out: number[] = [];
  for (let t = fromMs; t < toMs; t += intervalMs) out.push(t);
  return out;
}

/** A series' field per interval start (null where the series has no point there). */
export function valuesAt(series: MetricSeries | undefined, field: string, times: number[], shiftMs = 0): (number | null)[] {
  const byTime = new Map((series?.points ?? []).map((p) => [Date.parse(p.time) + shiftMs, p.values[field] ?? null]));
  return times.map((t) => byTime.get(t) ?? null);
}

export function iso(ms: number): string {
  return new Date(ms).toISOString();
}

/**
 * One series per value of `label`, the figures of every series with that value put together: a
 * metric's figures of one thing may come from several measurements (engagement: exposures from
 * `exposure`, uses from `interaction`), each its own series in the answer.
 */
export function mergeByLabel(series: MetricSeries[], label: string): MetricSeries[] {
  const merged = new Map<string, MetricSeries>();
  for (const s of series) {
    const value = s.labels[label];
    if (value === undefined) continue;
    const into = merged.get(value);
    if (!into) {
      merged.set(value, { ...s, labels: { [label]: value }, total: { ...s.total }, points: s.points.map((p) => ({ time: p.time, values: { ...p.values } })) });
      continue;
    }
    Object.assign(into.total, s.total);
    const at = new Map(into.points.map((p) => [p.time, p]));
    for (const p of s.points) {
      const existing = at.get(p.time);
      if (existing) Object.assign(existing.values, p.values);
      else into.points.push({ time: p.time, values: { ...p.values } });
    }
  }
  return [...merged.values()];
}
