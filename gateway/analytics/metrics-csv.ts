/**
 * A metrics answer as CSV (RFC 4180, `format=csv`): a header row, then one row per series and
 * interval: store, metric, the series' measurement and definition (name/version), one column per
 * label key found in any series, the interval's start, and one column per field of the metric (an
 * empty cell for null). Pure.
 */
import type { MetricsResponse } from './metrics-reader.js';

/** A cell: quoted when it holds a comma, quote or line break; a text that a spreadsheet would run as a formula gets a leading `'`. */
export function csvCell(value: string | number | null): string {
  if (value === null) return '';
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : '';
  const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

export function metricsCsv(answer: MetricsResponse): string {
  const labelKeys = [...new Set(answer.series.flatMap((s) => Object.keys(s.labels)))].sort();
  const fields = answer.fields.map((f) => f.name);
  const header = ['store', 'metric', 'measurement', 'definition', ...labelKeys, 'time', ...fields];
  const rows = [header.map(csvCell).join(',')];
  for (const series of answer.series) {
    const head = [answer.store, answer.metric, series.measurement, series.definition, ...labelKeys.map((k) => series.labels[k] ?? null)];
    for (const point of series.points) {
      rows.push([...head, point.time, ...fields.map((f) => point.values[f] ?? null)].map(csvCell).join(','));
    }
  }
  return `${rows.join('\r\n')}\r\n`;
}
