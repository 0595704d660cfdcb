/**
 * Answers one validated metrics request from InfluxDB: plans the InfluxQL (metric-queries.ts, its text in metric-statements.ts), runs
 * each statement through InfluxQuery (one statement per request, so no answer is attributed to the
 * wrong statement), and shapes the series (result-shaping.ts).
 */
import type { QueryOptions, QuerySeries } from '../influx/influx-query.js';
import { EMPTY_BUCKETS_RULE, METRICS, type MetricField, type MetricName } from './metric-catalogue.js';
import { captureSeries } from './capture-rate.js';
import { doorsAudit, fusedFootfallSeries, peopleScale } from './footfall-fusion.js';
import { peopleEngagementSeries } from './engagement-people.js';
import { peopleOccupancySeries, type PeopleScale } from './occupancy-people.js';
import { feedbackParts, feedbackScoresStatement } from './feedback-queries.js';
import { doorCounters, planQueries, type QueryPart, type Unavailable } from './metric-queries.js';
import { finalFrontierStatement, paramsStatement, partStatement } from './metric-statements.js';
import { MetricsError } from './metrics-errors.js';
import type { MetricsRequest } from './metrics-request.js';
import { shapeSeries, type MetricSeries, type PartResult } from './result-shaping.js';
import { pathSeries, pathsStatement } from './visit-paths.js';

/** What the reader needs of InfluxQuery (gateway/influx/influx-query.ts). */
export interface InfluxQueryRunner {
  query(influxql: string, opts?: QueryOptions): Promise<QuerySeries[]>;
}

/** More distinct feedback values than this is no score scale: refused rather than a query per value. */
export const MAX_FEEDBACK_SCORES = 50;

const MINUTE_MS = 60_000;

export interface MetricsResponse {
  store: string;
  metric: MetricName;
  definition: string;
  from: string;
  to: string;
  interval: string;
  intervalMs: number;
  buckets: number;
  emptyBuckets: string;
  fields: MetricField[];
  series: MetricSeries[];
  unavailable: Unavailable[];
  influxql: string[];
}

export async function readMetric(req: MetricsRequest, influx: InfluxQueryRunner): Promise<MetricsResponse> {
  const statements: string[] = [];
  const run = async (influxql: string): Promise<QuerySeries[]> => {
    statements.push(influxql);
    try {
      return await influx.query(influxql, { epoch: 'ms' });
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      throw new MetricsError('SL_ERR_METRICS_INFLUX', `the ${req.metric} query could not be answered: ${message}`, { cause: err, context: { influxql } });
    }
  };
  const plan = planQueries(req);
  let parts = plan.parts;
  if (req.metric === 'feedback') parts = feedbackParts(req, await feedbackScores(req, run));
  // one part at a time (its statements together): a feedback scale of many scores never floods InfluxDB
  const results: PartResult[] = [];
  for (const part of parts) results.push(await runPart(part, req, run));
  const series = shapeSeries(req, results);
  if (req.metric === 'paths') series.push(...pathSeries(req, await run(pathsStatement(req))));
  const unavailable = [...plan.unavailable];
  if (req.metric === 'occupancy' || req.metric === 'engagement') {
    const scale = await rangeScale(req, run, await bleFinalUntil(req, run));
    if (scale.scale === null) unavailable.push({ labels: { unit: 'people' }, reason: scale.reason });
    else if (req.metric === 'occupancy') series.push(...peopleOccupancySeries(series, scale.scale, scale.params));
    else series.push(...peopleEngagementSeries(series, scale.scale, scale.params));
  }
  if (req.metric === 'capture') {
    const capture = captureSeries(req, series);
    if (capture !== null) series.push(capture);
  }
  if (req.metric === 'footfall') {
    const fused = fusedFootfallSeries(req, doorCounters(req.store), series, await bleFinalUntil(req, run));
    if (fused !== null) series.push(fused);
    else unavailable.push({ labels: { method: 'fused' }, reason: 'needs a door people_counter with reports, or BLE visits, in the range' });
    for (const part of parts) {
      if (!series.some((s) => s.labels['method'] === part.labels['method'])) {
        unavailable.push({ labels: { ...part.labels }, reason: `no ${part.measurement} points for the store in the range` });
      }
    }
    unavailable.sort((a, b) => (a.labels['method'] ?? '').localeCompare(b.labels['method'] ?? ''));
  }
  const spec = METRICS[req.metric];
  return {
    store: req.store.id,
    metric: req.metric,
    definition: spec.definition,
    from: new Date(req.fromMs).toISOString(),
    to: new Date(req.toMs).toISOString(),
    interval: req.interval,
    intervalMs: req.intervalMs,
    buckets: req.buckets,
    emptyBuckets: EMPTY_BUCKETS_RULE,
    fields: spec.fields,
    series,
    unavailable,
    influxql: statements,
  };
}

async function runPart(part: QueryPart, req: MetricsRequest, run: (q: string) => Promise<QuerySeries[]>): Promise<PartResult> {
  const [bucketed, total, params] = await Promise.all([
    run(partStatement(part, req, true)),
    run(partStatement(part, req, false)),
    part.derived ? run(paramsStatement(part, req)) : Promise.resolve([]),
  ]);
  return { part, bucketed, total, params };
}

async function feedbackScores(req: MetricsRequest, run: (q: string) => Promise<QuerySeries[]>): Promise<number[]> {
  const scores = new Set<number>();
  for (const series of await run(feedbackScoresStatement(req))) {
    const column = series.columns.indexOf('distinct');
    for (const row of series.values) if (typeof row[column] === 'number') scores.add(row[column]);
  }
  const unwritable = [...scores].find((score) => !/^-?\d+(\.\d+)?$/.test(String(score)));
  if (unwritable !== undefined) {
    throw new MetricsError('SL_ERR_METRICS_INFLUX', `feedback holds the value ${String(unwritable)}, which InfluxQL cannot compare as a decimal literal`);
  }
  if (scores.size > MAX_FEEDBACK_SCORES) {
    throw new MetricsError(
      'SL_ERR_METRICS_INFLUX',
      `feedback holds ${scores.size} distinct values in the range, more than ${MAX_FEEDBACK_SCORES}: not a score scale, so no distribution is computed`,
    );
  }
  return [...scores];
}

/**
 * The end of the last minute the experience engine made final in the range (metric-queries.ts
 * `finalFrontierStatement`): the BLE visits that started before it are final. Null when none.
 */
async function bleFinalUntil(req: MetricsRequest, run: (q: string) => Promise<QuerySeries[]>): Promise<number | null> {
  const [series] = await run(finalFrontierStatement(req));
  const time = series?.values[0]?.[series.columns.indexOf('time')];
  return typeof time === 'number' ? time + MINUTE_MS : null;
}

/**
 * The people per BLE visit over the part of the request's range whose BLE visits are final (the
 * fused footfall of that part as one interval ÷ its BLE visits) that scales app carriers to people
 * (occupancy's devices, engagement's exposures). Counting the last half hour's people without their
 * visits, still open, would read the scale high. Only the footfall's counter and BLE parts are read,
 * through `run` (their statements join the answer's).
 */
async function rangeScale(
  req: MetricsRequest,
  run: (q: string) => Promise<QuerySeries[]>,
  finalUntil: number | null,
): Promise<{ scale: PeopleScale; params: Record<string, unknown> } | { scale: null; reason: string }> {
  const { zone: _zone, touchpoint: _touchpoint, ...rest } = req;
  const toMs = Math.min(req.toMs, finalUntil ?? req.fromMs);
  if (toMs <= req.fromMs) {
    return {
      scale: null,
      reason:
        'people need BLE visits made final in the range (a visit is final 16 to 21 minutes after its last sighting): none are yet, so app carriers cannot be scaled to people',
    };
  }
  const range = toMs - req.fromMs;
  const whole: MetricsRequest = { ...rest, metric: 'footfall', toMs, interval: `${range}ms`, intervalMs: range, buckets: 1 };
  const results: PartResult[] = [];
  for (const part of planQueries(whole).parts) if (part.labels['method'] !== 'wifi') results.push(await runPart(part, whole, run));
  const footfall = { series: shapeSeries(whole, results) };
  const counter = footfall.series.find((s) => s.labels['method'] === 'counter');
  const inputs = {
    counterIn: counter?.total['count'] ?? 0,
    reports: counter?.total['reports'] ?? 0,
    bleVisits: footfall.series.filter((s) => s.labels['method'] === 'ble').reduce((sum, s) => sum + (s.total['count'] ?? 0), 0),
    bleFinal: true,
  };
  const audit = doorsAudit(doorCounters(req.store));
  const scale = peopleScale(inputs, audit);
  if (scale === null) {
    return {
      scale: null,
      reason:
        'people need the fused footfall and BLE visits in the range (a door people_counter that reported while BLE visits started): without them app carriers cannot be scaled to people',
    };
  }
  return { scale, params: { peoplePerBleVisit: scale.peoplePerBleVisit, audited: audit !== null, scaleTo: new Date(toMs).toISOString() } };
}
