/**
 * The `paths` metric: the most common zone sequences of the final BLE visits in the range. InfluxQL
 * cannot group by a field (`path` is one: a tag would be a series per path), so the paths of the
 * range's visits are read raw (`pathsStatement`) and counted here (`pathSeries`, pure): the top
 * `MAX_PATHS` per definition over the range, one series per path with its count and share of the
 * visits per interval and over the range.
 */
import type { QuerySeries } from '../influx/influx-query.js';
import { quoteIdentifier, tagEquals } from './influxql-literals.js';
import { inStoreAndRange, selectStatement } from './metric-statements.js';
import type { MetricsRequest } from './metrics-request.js';
import type { MetricSeries } from './result-shaping.js';

/** How many paths the answer has per definition. */
export const MAX_PATHS = 20;

/** Every BLE visit of the range with its path and params, per definition. */
export function pathsStatement(req: MetricsRequest): string {
  return selectStatement({
    fields: [quoteIdentifier('path'), quoteIdentifier('params')],
    measurement: 'visit',
    where: inStoreAndRange(req, [tagEquals('method', 'ble')]),
    groupBy: [quoteIdentifier('definition')],
  });
}

interface DefinitionVisits {
  params: Set<string>;
  /** Visits started per interval, all paths. */
  perInterval: number[];
  /** Per path: visits started per interval. */
  paths: Map<string, number[]>;
}

const share = (part: number, whole: number): number | null => (whole > 0 ? part / whole : null);

/** The top paths of each definition as series, definitions in name order, paths by count (most first) then name. */
export function pathSeries(req: MetricsRequest, results: QuerySeries[]): MetricSeries[] {
  const byDefinition = new Map<string, DefinitionVisits>();
  for (const series of results) {
    const definition = series.tags?.['definition'] ?? '';
    let visits = byDefinition.get(definition);
    if (visits === undefined) {
      visits = { params: new Set(), perInterval: new Array<number>(req.buckets).fill(0), paths: new Map() };
      byDefinition.set(definition, visits);
    }
    const [time, path, params] = ['time', 'path', 'params'].map((c) => series.columns.indexOf(c)) as [number, number, number];
    for (const row of series.values) {
      const index = Math.floor((Number(row[time]) - req.fromMs) / req.intervalMs);
      if (index < 0 || index >= req.buckets) continue;
      const name = typeof row[path] === 'string' ? row[path] : '';
      if (typeof row[params] === 'string') visits.params.add(row[params]);
      visits.perInterval[index] = (visits.perInterval[index] ?? 0) + 1;
      let counts = visits.paths.get(name);
      if (counts === undefined) {
        counts = new Array<number>(req.buckets).fill(0);
        visits.paths.set(name, counts);
      }
      counts[index] = (counts[index] ?? 0) + 1;
    }
  }
  const out: MetricSeries[] = [];
  for (const [definition, visits] of [...byDefinition].sort(([a], [b]) => a.localeCompare(b))) {
    const all = visits.perInterval.reduce((a, b) => a + b, 0);
    const ranked = [...visits.paths]
      .map(([path, counts]) => ({ path, counts, total: counts.reduce((a, b) => a + b, 0) }))
      .sort((a, b) => b.total - a.total || a.path.localeCompare(b.path))
      .slice(0, MAX_PATHS);
    for (const { path, counts, total } of ranked) {
      out.push({
        measurement: 'visit',
        labels: { path },
        definition: definition === '' ? null : definition,
        params: [...visits.params].sort(),
        total: { count: total, share: share(total, all) },
        points: counts.map((n, i) => ({
          time: new Date(req.fromMs + i * req.intervalMs).toISOString(),
          values: { count: n, share: share(n, visits.perInterval[i] ?? 0) },
        })),
      });
    }
  }
  return out;
}
