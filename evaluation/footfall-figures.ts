/**
 * `storeloop evaluate`, the fused footfall (footfall-fused/1, the figure the metrics API shows
 * analysts) against the people the truth has entering: over the whole hours of the window, per
 * hour, and how often the stated 95 % range holds the truth. The caller reads the fused figure per
 * clock hour (the CLI from the metrics API's reader, the accuracy bench from the same fusion in process).
 */
import type { EvaluationTruth, Figure } from './evaluate.js';
import { footfallErrorPct } from './metrics.js';

const HOUR_MS = 3_600_000;
/** Issue #12's target for the footfall per hour and per day: within ±5 % of the true entering people. */
export const HOURLY_TARGET_PCT = 5;

/** The fused footfall of one clock hour. */
export interface FusedHour {
  start: number;
  count: number | null;
  low: number | null;
  high: number | null;
  /** 1: estimated from BLE visits (no counter report in the hour). */
  estimated: number;
  /** The door counters' entries as reported (method counter), for comparison; null without a report. */
  counted: number | null;
}

export const FOOTFALL_DEFINITIONS = {
  total:
    "signed error of the fused footfall (footfall-fused/1: door counters corrected by their audit, hours without a counter report estimated from BLE visits) summed over the window's whole clock hours against the visitors the truth has entering in them (staff and passers-by are not visitors), in % of the true count",
  hourly: 'mean over those hours of |fused − true| / true entering people of the hour, in %; the detail gives the largest',
  counterHourly: "the same for the door counters' entries as reported (method counter), over the hours they reported in: what the fused figure corrects",
  range: "share of those hours whose true entering people lie within the fused figure's stated 95 % range (n/a without a counter audit)",
  hoursWithin: `share of those hours whose fused figure is within ±${HOURLY_TARGET_PCT} % of the true entering people (issue #12's target per hour)`,
  perfectAudit: `mean over the hours the door counters reported in of |estimate − true| / true, the estimate their entries as reported times the one ratio that makes them right over all those hours (true entering people ÷ entries, from the truth: an audit without error of these very hours): what is left of the counter's error per hour once its average is known exactly (its misses and the staff it counts vary from hour to hour)`,
  perfectAuditWithin: `share of those hours in which the counter with a perfect audit (above) is within ±${HOURLY_TARGET_PCT} %`,
} as const;

/** The whole clock hours inside the window: [first, last) hour starts. */
export function wholeHours(windowStart: number, windowEnd: number): { from: number; to: number } {
  return { from: Math.ceil(windowStart / HOUR_MS) * HOUR_MS, to: Math.floor(windowEnd / HOUR_MS) * HOUR_MS };
}

function fmt(value: number): string {
  return value.toFixed(1);
}

/** The fused footfall's figures; `hours` are the clock hours of wholeHours(window). */
/**
 * Mean and largest |estimate − truth| / truth over the hours with both (a true count above 0 and an
 * estimate), in %, and a detail naming the largest after `span`; mean null without such an hour.
 */
export function hourlyErrors(hours: ReadonlyArray<{ estimate: number | null; truth: number }>, span: string): { mean: number | null; detail: string } {
  const errors = hours.flatMap((h) => (h.truth > 0 && h.estimate !== null ? [(Math.abs(h.estimate - h.truth) / h.truth) * 100] : []));
  const mean = errors.length === 0 ? null : errors.reduce((s, e) => s + e, 0) / errors.length;
  return { mean, detail: errors.length === 0 ? span : `largest ${fmt(Math.max(...errors))} %; ${span}` };
}

export function footfallFigures(truth: Pick<EvaluationTruth, 'visits' | 'windowStart' | 'windowEnd'>, hours: readonly FusedHour[]): Figure[] {
  const rows = hours
    .filter((h) => h.count !== null)
    .map((h) => ({ ...h, truth: truth.visits.filter((v) => v.enteredAt >= h.start && v.enteredAt < h.start + HOUR_MS).length }));
  const span = rows.length === 0 ? 'no whole hour' : `${rows.length} whole hours from ${new Date(rows[0]?.start ?? 0).toISOString()}`;
  const noHour = 'no whole clock hour of the window has a fused footfall (no door counter report or BLE visit)';
  const na = rows.length === 0 ? { reason: noHour } : {};
  const fused = rows.reduce((s, r) => s + (r.count ?? 0), 0);
  const entered = rows.reduce((s, r) => s + r.truth, 0);
  const hourlyError = (estimate: (r: (typeof rows)[number]) => number | null) =>
    hourlyErrors(
      rows.map((r) => ({ estimate: estimate(r), truth: r.truth })),
      span,
    );
  const hourly = hourlyError((r) => r.count);
  const counterHourly = hourlyError((r) => r.counted);
  const within = (estimate: number | null, trueCount: number) =>
    estimate !== null && trueCount > 0 && (Math.abs(estimate - trueCount) / trueCount) * 100 <= HOURLY_TARGET_PCT;
  const fusedWithin = rows.filter((r) => within(r.count, r.truth)).length;
  const reported = rows.filter((r) => r.counted !== null && r.truth > 0);
  const countedSum = reported.reduce((s, r) => s + (r.counted ?? 0), 0);
  const auditRatio = countedSum === 0 ? null : reported.reduce((s, r) => s + r.truth, 0) / countedSum;
  const audited = (r: (typeof rows)[number]) => (auditRatio === null || r.counted === null ? null : r.counted * auditRatio);
  const perfectAudit = hourlyError(audited);
  const perfectWithin = reported.filter((r) => within(audited(r), r.truth)).length;
  const ranged = rows.filter((r) => r.low !== null && r.high !== null);
  const held = ranged.filter((r) => (r.low ?? Infinity) <= r.truth && r.truth <= (r.high ?? -Infinity)).length;
  const estimated = rows.filter((r) => r.estimated === 1).length;
  return [
    {
      key: 'fused_footfall_error_pct',
      label: 'footfall error (fused)',
      value: rows.length === 0 ? null : footfallErrorPct(Math.round(fused), entered),
      unit: '%',
      definition: FOOTFALL_DEFINITIONS.total,
      ...(rows.length === 0 ? {} : { detail: `fused ${fmt(fused)}, true ${entered}; ${span}${estimated > 0 ? `, ${estimated} estimated from BLE` : ''}` }),
      ...na,
    },
    {
      key: 'fused_footfall_hourly_error_pct',
      label: 'footfall error per hour, mean absolute (fused)',
      value: hourly.mean,
      unit: '%',
      definition: FOOTFALL_DEFINITIONS.hourly,
      detail: hourly.detail,
      ...na,
    },
    {
      key: 'counter_footfall_hourly_error_pct',
      label: 'footfall error per hour, mean absolute (counter as reported)',
      value: counterHourly.mean,
      unit: '%',
      definition: FOOTFALL_DEFINITIONS.counterHourly,
      detail: counterHourly.detail,
      ...(counterHourly.mean === null ? { reason: 'no door counter reported in a whole clock hour of the window' } : {}),
    },
    {
      key: 'fused_footfall_hours_within_target_pct',
      label: `footfall hours within ±${HOURLY_TARGET_PCT} % (fused)`,
      value: rows.length === 0 ? null : (fusedWithin / rows.length) * 100,
      unit: '%',
      definition: FOOTFALL_DEFINITIONS.hoursWithin,
      detail: `${fusedWithin} of ${rows.length} hours`,
      ...na,
    },
    {
      key: 'counter_perfect_audit_hourly_error_pct',
      label: 'footfall error per hour, mean absolute (counter with a perfect audit, truth)',
      value: perfectAudit.mean,
      unit: '%',
      definition: FOOTFALL_DEFINITIONS.perfectAudit,
      detail: `${auditRatio === null ? '' : `ratio ${auditRatio.toFixed(3)}; `}${perfectAudit.detail}`,
      ...(perfectAudit.mean === null ? { reason: 'no door counter reported in a whole clock hour of the window' } : {}),
    },
    {
      key: 'counter_perfect_audit_hours_within_target_pct',
      label: `footfall hours within ±${HOURLY_TARGET_PCT} % (counter with a perfect audit, truth)`,
      value: reported.length === 0 ? null : (perfectWithin / reported.length) * 100,
      unit: '%',
      definition: FOOTFALL_DEFINITIONS.perfectAuditWithin,
      detail: `${perfectWithin} of ${reported.length} hours`,
      ...(reported.length === 0 ? { reason: 'no door counter reported in a whole clock hour of the window' } : {}),
    },
    {
      key: 'fused_footfall_range_hit_pct',
      label: 'hours within the fused range',
      value: ranged.length === 0 ? null : (held / ranged.length) * 100,
      unit: '%',
      definition: FOOTFALL_DEFINITIONS.range,
      detail: `${held} of ${ranged.length} hours`,
      ...(ranged.length === 0 ? { reason: rows.length === 0 ? noHour : 'no range: a door counter has no audit (config devices[].audit)' } : {}),
    },
  ];
}
