/**
 * The fused footfall (`footfall-fused/1`): the people who entered per interval, the one figure
 * analysts read, with the 95 % range its inputs allow. Pure; docs/analytics.md#footfall.
 *
 * - The door counters count people, but err: they miss members of groups passing close together
 *   and count staff. Their audit (config `devices[].audit`: counted by the counter ÷ counted by
 *   hand over the same stretch) is their ratio r; the estimate is their entries ÷ r.
 * - An interval without any counter report (the counter down, its reports lost) is estimated from
 *   the BLE visits that started in it, scaled by the people per BLE visit over the intervals of the
 *   range that have both (the app carriers' share of the people the counter saw). Only intervals whose
 *   BLE visits are final count, for the scale and for an estimate: the engine makes a visit final
 *   16–21 minutes after its last sighting, so the visits of the last half hour or so are still
 *   missing while the counter has already counted their people (the scale would read high, an
 *   estimate low).
 * - The range combines the audit's sampling error (common to every interval), the interval's own
 *   chance of misses (a binomial count of N people at rate r), and for a BLE estimate the Poisson
 *   error of its visits and of the scale.
 */
import type { StoreConfig } from '../../config/index.js';
import type { FieldValues } from './metric-queries.js';
import type { MetricsRequest } from './metrics-request.js';
import type { PeopleScale } from './occupancy-people.js';
import type { MetricSeries } from './result-shaping.js';

/** The definition's name, stored in nothing (computed at query time) but named in every answer. */
export const FUSED_FOOTFALL_DEFINITION = 'footfall-fused/1';

/** Two-sided 95 % normal quantile. */
const Z95 = 1.96;

export interface CounterAudit {
  counted: number;
  actual: number;
}

/** One interval's inputs: the door counters' entries and reports, the BLE visits started. */
export interface FootfallInputs {
  /** Sum of the door counters' `in`; meaningful when `reports` > 0. */
  counterIn: number;
  /** Door counter messages in the interval: 0 means the counters said nothing. */
  reports: number;
  /** BLE visits (app carriers) that started in the interval. */
  bleVisits: number;
  /** Every BLE visit that started in the interval is final (the engine's frontier, `bleFinalUntil`, has passed its end). */
  bleFinal: boolean;
}

export interface FusedFootfall {
  /** People who entered, estimated; null when neither a counter report nor a BLE visit speaks for the interval. */
  count: number | null;
  /** The 95 % range; null without an audit (the counter's bias is unknown) or without an estimate. */
  low: number | null;
  high: number | null;
  /** 1 when the interval had no counter report and is estimated from BLE visits, else 0. */
  estimated: number;
  /** BLE visits ÷ the estimate: the share of the people the engine tracked (the app carriers). */
  ble_share: number | null;
}

/** What the fused figure was computed with, stated beside it (the series' params). */
export interface FusionParams {
  /** counted ÷ actual of the audits summed; 1 without any audit. */
  ratio: number;
  audited: boolean;
  audit?: CounterAudit;
  /** People (corrected counter entries) per BLE visit over the intervals with both whose BLE visits are final; null when none. */
  peoplePerBleVisit: number | null;
  /** Relative variance of peoplePerBleVisit (its BLE visits' Poisson error, the audit's, the counted misses); null without it. */
  peoplePerBleVisitRelVariance: number | null;
}

/** The door counters' combined audit (their audits summed), or null unless every one of them has an audit. */
export function doorsAudit(doors: StoreConfig['devices']): CounterAudit | null {
  const audits = doors.flatMap((d) => (d.audit === undefined ? [] : [d.audit]));
  if (audits.length === 0 || audits.length < doors.length) return null;
  return { counted: audits.reduce((s, a) => s + a.counted, 0), actual: audits.reduce((s, a) => s + a.actual, 0) };
}

/** The people per BLE visit over a whole range (its inputs summed) that scales devices to people; null without one. */
export function peopleScale(whole: FootfallInputs, audit: CounterAudit | null): PeopleScale | null {
  const { peoplePerBleVisit, peoplePerBleVisitRelVariance } = fuseFootfall([whole], audit).params;
  return peoplePerBleVisit === null || peoplePerBleVisitRelVariance === null ? null : { peoplePerBleVisit, relVariance: peoplePerBleVisitRelVariance };
}

/** Relative variance of the ratio counted ÷ actual: a binomial share, or a Poisson count when a counter over-counts. */
function ratioRelVariance(audit: CounterAudit): number {
  const r = audit.counted / audit.actual;
  const variance = r <= 1 ? Math.max(r * (1 - r), 1 / audit.actual) / audit.actual : audit.counted / audit.actual ** 2;
  return variance / (r * r);
}

function round1(value: number): number {
  return Math.round(value * 10) / 10;
}

/**
 * Fuses each interval; `total` is the range's figure with its range (the audit's error is common to
 * every interval, so it does not shrink in the sum as the intervals' own errors do).
 */
export function fuseFootfall(
  intervals: readonly FootfallInputs[],
  audit: CounterAudit | null,
): { points: FusedFootfall[]; total: FusedFootfall; params: FusionParams } {
  const ratio = audit === null ? 1 : audit.counted / audit.actual;
  const common = audit === null ? 0 : ratioRelVariance(audit);
  const missRate = Math.abs(1 - ratio) / ratio;
  const withBoth = intervals.filter((i) => i.reports > 0 && i.bleVisits > 0 && i.bleFinal);
  const bleInBoth = withBoth.reduce((s, i) => s + i.bleVisits, 0);
  const peopleInBoth = withBoth.reduce((s, i) => s + i.counterIn, 0) / ratio;
  const perVisit = bleInBoth > 0 && peopleInBoth > 0 ? peopleInBoth / bleInBoth : null;

  let totalCount = 0;
  let totalOwnVariance = 0;
  let totalBle = 0;
  let spoken = false;
  const points = intervals.map((i): FusedFootfall => {
    const own = ownEstimate(i, ratio, missRate, perVisit, bleInBoth);
    if (own === null) return { count: null, low: null, high: null, estimated: 0, ble_share: null };
    spoken = true;
    totalCount += own.count;
    totalOwnVariance += own.variance;
    totalBle += i.bleVisits;
    return {
      ...withRange(own.count, own.count ** 2 * common + own.variance, audit !== null),
      estimated: own.estimated,
      ble_share: share(i.bleVisits, own.count),
    };
  });
  const total: FusedFootfall = spoken
    ? {
        ...withRange(totalCount, totalCount ** 2 * common + totalOwnVariance, audit !== null),
        estimated: points.some((p) => p.estimated === 1) ? 1 : 0,
        ble_share: share(totalBle, totalCount),
      }
    : { count: null, low: null, high: null, estimated: 0, ble_share: null };
  return {
    points,
    total,
    params: {
      ratio: Math.round(ratio * 10_000) / 10_000,
      audited: audit !== null,
      ...(audit === null ? {} : { audit }),
      peoplePerBleVisit: perVisit === null ? null : Math.round(perVisit * 100) / 100,
      peoplePerBleVisitRelVariance: perVisit === null ? null : Math.round((1 / bleInBoth + common + missRate / peopleInBoth) * 1e6) / 1e6,
    },
  };
}

/**
 * One interval's estimate and its own variance (people²): the counters' entries corrected, each of the
 * N people missed at the audit's rate; without a report, the BLE visits scaled, with the Poisson error
 * of the visits and of the scale, once they are final; without either, none.
 */
function ownEstimate(
  i: FootfallInputs,
  ratio: number,
  missRate: number,
  perVisit: number | null,
  bleInBoth: number,
): { count: number; variance: number; estimated: number } | null {
  if (i.reports > 0) {
    const count = i.counterIn / ratio;
    return { count, variance: count * missRate, estimated: 0 };
  }
  // no counter report and no BLE visit: nobody came, or nothing was running (the gateway down, a future
  // hour); the two cannot be told apart, so no figure
  if (perVisit === null || i.bleVisits === 0 || !i.bleFinal) return null;
  const count = i.bleVisits * perVisit;
  return { count, variance: count ** 2 * (1 / i.bleVisits + 1 / bleInBoth), estimated: 1 };
}

function share(part: number, whole: number): number | null {
  return whole > 0 ? Math.round((part / whole) * 1000) / 1000 : null;
}

function withRange(count: number, variance: number, audited: boolean): Pick<FusedFootfall, 'count' | 'low' | 'high'> {
  if (!audited) return { count: round1(count), low: null, high: null };
  const half = Z95 * Math.sqrt(variance);
  return { count: round1(count), low: round1(Math.max(0, count - half)), high: round1(count + half) };
}

/**
 * The fused series of a footfall answer, from its counter and BLE series (the BLE series of every
 * visit definition in the range summed); null when the store has no door counter or neither said
 * anything in the range. The correction and range need an audit of every door counter: with one
 * missing, the counters' entries are taken as they are and no range is given (params say which).
 * `bleFinalUntil`: the engine's frontier (epoch ms; metric-queries.ts `finalFrontierStatement`):
 * the BLE visits of an interval ending at or before it are final; null when the engine made nothing
 * final in the range.
 */
export function fusedFootfallSeries(
  req: MetricsRequest,
  doors: StoreConfig['devices'],
  series: readonly MetricSeries[],
  bleFinalUntil: number | null,
): MetricSeries | null {
  const counter = series.find((s) => s.labels['method'] === 'counter');
  const ble = series.filter((s) => s.labels['method'] === 'ble');
  if (doors.length === 0 || (counter === undefined && ble.length === 0)) return null;
  const unaudited = doors.filter((d) => d.audit === undefined).map((d) => d.id);
  const audit = doorsAudit(doors);
  const intervals = Array.from({ length: req.buckets }, (_, i): FootfallInputs => ({
    counterIn: counter?.points[i]?.values['count'] ?? 0,
    reports: counter?.points[i]?.values['reports'] ?? 0,
    bleVisits: ble.reduce((sum, s) => sum + (s.points[i]?.values['count'] ?? 0), 0),
    bleFinal: bleFinalUntil !== null && Math.min(req.fromMs + (i + 1) * req.intervalMs, req.toMs) <= bleFinalUntil,
  }));
  const fused = fuseFootfall(intervals, audit);
  const values = (f: FusedFootfall): FieldValues => ({ ...f });
  return {
    measurement: 'telemetry | visit',
    labels: { method: 'fused' },
    definition: FUSED_FOOTFALL_DEFINITION,
    params: [
      JSON.stringify({
        ...fused.params,
        ...(unaudited.length > 0 ? { unaudited } : {}),
        bleDefinitions: ble.map((s) => s.definition),
        bleFinalUntil: bleFinalUntil === null ? null : new Date(bleFinalUntil).toISOString(),
      }),
    ],
    total: values(fused.total),
    points: fused.points.map((f, i) => ({ time: new Date(req.fromMs + i * req.intervalMs).toISOString(), values: values(f) })),
  };
}
