/**
 * The wifi footfall (the engine's wifi visits, visit-wifi/1: phones that probe, their rotated
 * pseudonyms linked) against the truth's entering visitors who carry a probing phone: over the
 * window's whole clock hours, per hour, and the pseudonyms per visit before and after linking.
 * Compared as the BLE visits are (engine-figures.ts): visitors who entered in the hour and left at
 * least `settleMs` before the window's end (their visits are final by then), and the engine's wifi
 * visits that started in the hour and ended by then.
 */
import type { EvaluationTruth, Figure } from './evaluate.js';
import { hourlyErrors, wholeHours } from './footfall-figures.js';
import { footfallErrorPct } from './metrics.js';

const HOUR_MS = 3_600_000;

/** A wifi visit as the engine wrote it. */
export interface EngineWifiVisit {
  start: number;
  end: number;
}

export const WIFI_DEFINITIONS = {
  total:
    "signed error of the engine's wifi visits (visit-wifi/1) that started in the window's whole clock hours against the visitors with a probing phone the truth has entering in them, both in the compared span (left by the window's end − settle), in % of the true count",
  hourly: 'mean over those hours of |wifi visits − true visitors with a phone| / true, in %; the detail gives the largest',
  phoneShare: 'the compared visitors with a probing phone ÷ all compared visitors entering: what the wifi footfall covers of the people',
  before:
    "pseudonyms per visit before linking: the distinct wifi pseudonyms the sensors heard from the compared visitors' phones inside ÷ those visitors (what counting pseudonyms would give)",
  after: "wifi visits per visit after linking: the engine's wifi visits ÷ the compared visitors with a phone (1 is right)",
} as const;

/** `heard`: the wifi pseudonyms the sensors reported in the window (for the before-linking figure). */
export function wifiFigures(
  truth: Pick<EvaluationTruth, 'visits' | 'windowStart' | 'windowEnd'>,
  visits: readonly EngineWifiVisit[],
  heard: ReadonlySet<string>,
  settleMs: number,
): Figure[] {
  const cut = truth.windowEnd - settleMs;
  const { from, to } = wholeHours(truth.windowStart, truth.windowEnd);
  const entered = truth.visits.filter((v) => v.enteredAt >= from && v.enteredAt < to && v.leftAt !== null && v.leftAt <= cut);
  const phones = entered.filter((v) => v.phone);
  const made = visits.filter((v) => v.start >= from && v.start < to && v.end <= cut);
  const span =
    to > from
      ? `${(to - from) / HOUR_MS} whole hours from ${new Date(from).toISOString()}, visitors who left by ${new Date(cut).toISOString()}`
      : 'the window holds no whole clock hour';
  const none =
    to <= from
      ? { reason: 'the window holds no whole clock hour' }
      : phones.length === 0
        ? { reason: 'no visitor with a phone entered and left in the compared span' }
        : {};
  const perHour: Array<{ estimate: number; truth: number }> = [];
  for (let hour = from; hour < to; hour += HOUR_MS) {
    perHour.push({
      estimate: made.filter((v) => v.start >= hour && v.start < hour + HOUR_MS).length,
      truth: phones.filter((v) => v.enteredAt >= hour && v.enteredAt < hour + HOUR_MS).length,
    });
  }
  const hourly = hourlyErrors(perHour, span);
  const pseudonyms = phones.reduce((sum, v) => sum + new Set(v.wifiPseudonyms.filter((p) => heard.has(p))).size, 0);
  return [
    {
      key: 'wifi_footfall_error_pct',
      label: 'wifi footfall error (phones)',
      value: footfallErrorPct(made.length, phones.length),
      unit: '%',
      definition: WIFI_DEFINITIONS.total,
      detail: `engine ${made.length}, true ${phones.length}; ${span}`,
      ...none,
    },
    {
      key: 'wifi_footfall_hourly_error_pct',
      label: 'wifi footfall error per hour, mean absolute',
      value: hourly.mean,
      unit: '%',
      definition: WIFI_DEFINITIONS.hourly,
      detail: hourly.detail,
      ...none,
    },
    {
      key: 'wifi_phone_share_pct',
      label: 'visitors with a probing phone (truth)',
      value: entered.length === 0 ? null : (phones.length / entered.length) * 100,
      unit: '%',
      definition: WIFI_DEFINITIONS.phoneShare,
      detail: `${phones.length} of ${entered.length}`,
    },
    {
      key: 'wifi_pseudonyms_per_visit',
      label: 'pseudonyms per visit, before linking',
      value: phones.length === 0 ? null : pseudonyms / phones.length,
      unit: 'visits',
      definition: WIFI_DEFINITIONS.before,
      detail: `${pseudonyms} pseudonyms of ${phones.length} visitors`,
      ...none,
    },
    {
      key: 'wifi_visits_per_visit',
      label: 'wifi visits per visit, after linking',
      value: phones.length === 0 ? null : made.length / phones.length,
      unit: 'visits',
      definition: WIFI_DEFINITIONS.after,
      detail: `${made.length} wifi visits of ${phones.length} visitors`,
      ...none,
    },
  ];
}
