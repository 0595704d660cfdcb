/** `storeloop evaluate`: a simulator run's signals in InfluxDB against its ground truth (docs/simulator.md#evaluate). */
import { loadConfig, type Config } from '../../config/index.js';
import { readEngineEvents, readWifiVisits } from '../../evaluation/engine-events.js';
import { DEFAULT_SETTLE_MS, evaluateEngine } from '../../evaluation/engine-figures.js';
import { evaluate, evaluationJson, formatEvaluation, type Evaluation } from '../../evaluation/evaluate.js';
import { engagementFigures, type PeopleEngagementTotal } from '../../evaluation/engagement-figures.js';
import { footfallFigures, wholeHours, type FusedHour } from '../../evaluation/footfall-figures.js';
import { peopleFigures, type PeopleZoneHour } from '../../evaluation/people-figures.js';
import { readSignals } from '../../evaluation/signals.js';
import { readTruthFile } from '../../evaluation/truth-file.js';
import { wifiFigures } from '../../evaluation/wifi-figures.js';
import { readMetric } from '../../gateway/analytics/metrics-reader.js';
import { validateMetricsRequest } from '../../gateway/analytics/metrics-request.js';
import { DEFAULT_PRESENCE_PARAMS } from '../../gateway/experience/params.js';
import { InfluxQuery } from '../../gateway/influx/influx-query.js';

export interface EvaluateOptions {
  truth: string;
  json?: boolean;
  config?: string;
  /** The engine's figures cover visitors who left at least this long before the window's end (its visits are final by then). */
  settleMs?: number;
}

/** Reads the truth, the run's signals from the configured InfluxDB, prints the report; returns it. */
export async function runEvaluateCommand(options: EvaluateOptions, out: (text: string) => void = (t) => process.stdout.write(t)): Promise<Evaluation> {
  const truth = await readTruthFile(options.truth);
  const config = loadConfig(options.config);
  const query = new InfluxQuery(config.influx);
  const signals = await readSignals(query, truth.storeId, truth.windowStart, truth.windowEnd);
  const engineEvents = await readEngineEvents(query, truth.storeId, truth.windowStart, truth.windowEnd);
  const wroteAny = engineEvents.visits.length + engineEvents.passersBy.length + engineEvents.occupancy.size > 0;
  const result: Evaluation = {
    ...evaluate(truth, signals),
    engine: wroteAny
      ? evaluateEngine(truth, engineEvents, options.settleMs ?? DEFAULT_SETTLE_MS, {
          edgeMs: DEFAULT_PRESENCE_PARAMS.edgeExtendMs,
          passThroughMs: DEFAULT_PRESENCE_PARAMS.passThroughMs,
        })
      : null,
  };
  if (config.stores.some((s) => s.id === truth.storeId)) {
    const hours = wholeHours(truth.windowStart, truth.windowEnd);
    result.footfall = [
      ...engagementFigures(truth, hours, await peopleEngagement(query, config.stores, truth)),
      ...footfallFigures(truth, await fusedFootfallHours(query, config.stores, truth)),
      ...peopleFigures(truth, await peopleZoneHours(query, config.stores, truth, options.settleMs ?? DEFAULT_SETTLE_MS)),
      ...wifiFigures(
        truth,
        await readWifiVisits(query, truth.storeId, truth.windowStart, truth.windowEnd),
        new Set(signals.sightings.filter((s) => s.source === 'wifi').map((s) => s.visitor)),
        options.settleMs ?? DEFAULT_SETTLE_MS,
      ),
    ];
  }
  out(options.json === true ? `${JSON.stringify(evaluationJson(result))}\n` : formatEvaluation(result));
  return result;
}

/** The fused footfall per whole clock hour of the run's window, exactly as the metrics API answers it. */
async function fusedFootfallHours(
  query: InfluxQuery,
  stores: Config['stores'],
  truth: { storeId: string; windowStart: number; windowEnd: number },
): Promise<FusedHour[]> {
  const { from, to } = wholeHours(truth.windowStart, truth.windowEnd);
  if (to <= from) return [];
  const req = validateMetricsRequest({ store: truth.storeId, metric: 'footfall', from: String(from), to: String(to), interval: '1h' }, stores);
  const { series } = await readMetric(req, query);
  const fused = series.find((s) => s.labels['method'] === 'fused');
  const counter = series.find((s) => s.labels['method'] === 'counter');
  return (fused?.points ?? []).map((p, i) => ({
    start: Date.parse(p.time),
    count: p.values['count'] ?? null,
    low: p.values['low'] ?? null,
    high: p.values['high'] ?? null,
    estimated: p.values['estimated'] ?? 0,
    counted: (counter?.points[i]?.values['reports'] ?? 0) > 0 ? (counter?.points[i]?.values['count'] ?? null) : null,
  }));
}

/** Engagement of everyone over the window's whole clock hours as the metrics API answers it, summed over the touchpoints. */
async function peopleEngagement(
  query: InfluxQuery,
  stores: Config['stores'],
  truth: { storeId: string; windowStart: number; windowEnd: number },
): Promise<PeopleEngagementTotal | null> {
  const { from, to } = wholeHours(truth.windowStart, truth.windowEnd);
  if (to <= from) return null;
  // one interval over the whole hours
  const interval = `${(to - from) / 3_600_000}h`;
  const req = validateMetricsRequest({ store: truth.storeId, metric: 'engagement', from: String(from), to: String(to), interval }, stores);
  const people = (await readMetric(req, query)).series.filter((s) => s.labels['unit'] === 'people' && (s.total['people_exposed'] ?? 0) > 0);
  if (people.length === 0) return null;
  const known = people.filter((s) => s.total['people_engaged'] !== null);
  return {
    exposed: known.reduce((sum, s) => sum + (s.total['people_exposed'] ?? 0), 0),
    engaged: known.reduce((sum, s) => sum + (s.total['people_engaged'] ?? 0), 0),
    unknown: people.length - known.length,
  };
}

/**
 * Occupancy of people per zone and whole clock hour as the metrics API answers it, for the hours that
 * end `settleMs` before the window does (their occupancy is final by then).
 */
async function peopleZoneHours(
  query: InfluxQuery,
  stores: Config['stores'],
  truth: { storeId: string; windowStart: number; windowEnd: number },
  settleMs: number,
): Promise<PeopleZoneHour[]> {
  const { from } = wholeHours(truth.windowStart, truth.windowEnd);
  const { to } = wholeHours(truth.windowStart, truth.windowEnd - settleMs);
  if (to <= from) return [];
  const req = validateMetricsRequest({ store: truth.storeId, metric: 'occupancy', from: String(from), to: String(to), interval: '1h' }, stores);
  const { series } = await readMetric(req, query);
  return series
    .filter((s) => s.labels['unit'] === 'people' && s.labels['zone'] !== undefined)
    .flatMap((s) =>
      s.points.map((p) => ({
        zone: s.labels['zone'] as string,
        start: Date.parse(p.time),
        people: p.values['people_mean'] ?? null,
        low: p.values['people_low'] ?? null,
        high: p.values['people_high'] ?? null,
      })),
    );
}
