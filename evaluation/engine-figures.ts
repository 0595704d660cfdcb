/**
 * `storeloop evaluate`, the experience engine's side: its measurements (visits, zone stays,
 * exposures, passers-by, occupancy; engine-events.ts) against the run's ground truth. The engine sees
 * app carriers only (their beacons); each figure says whom it covers. Only visits the engine has made
 * final are compared: those of visitors who left at least `settleMs` before the window's end.
 */
import { dwellByZone, minuteZones, PASSING_MS, truthMinutes } from '../simulators/truth-minutes.js';
import type { EngineEvents, EngineStay } from './engine-events.js';
import { dwellByEndsFigures } from './dwell-by-ends.js';
import { dwellByLengthFigures } from './dwell-by-length.js';
import { zoneBound } from './zone-bound.js';
import { perfectRadioFigures, type SilenceRules } from './zone-oracle.js';
import type { EvaluationTruth, Figure } from './evaluate.js';
import { dwellMdapePct, engagementPct, footfallErrorPct, MINUTE_MS, zoneAccuracy, addTo, type Engagement, type ZoneMinutes } from './metrics.js';

/** By default: the engine's 15 min gap, a 5 min boundary and its 1 min tolerance, with room to spare. */
export const DEFAULT_SETTLE_MS = 25 * 60_000;

export const ENGINE_DEFINITIONS = {
  visits:
    'signed error of the visits the engine made (definition visit-ble/3) against the app carriers the truth has entering, both in the compared span, in % of the true count',
  repeats:
    "the engine's repeat visits (its visits in the compared span − the distinct visitors among them, as the metrics API's `repeat_visits`) minus the truth's (the compared app carriers' visits − their distinct beacon ids): a visit split in two by a long silence shows as a repeat",
  zoneApp:
    "share of the compared app carriers' visitor-minutes (the truth's minutes) for which the engine's zone that minute is the truth's (the `minutes` its visits stored; a minute it has no zone for counts wrong)",
  zoneAdvertising:
    "the same over the minutes in which the visitor's app advertised its beacon at some time (the truth's `advertising` intervals): the minutes the radio could speak for; the others (the app silent the whole minute) are left out",
  zoneBound:
    "from the truth alone, not the engine: the share of the compared app carriers' minutes that are advertising minutes, or silent ones whose true zone is the zone at the app's last advertising before or first after the minute, or of a touchpoint used in it with the beacon id; an engine always right when the app speaks and always choosing the right one of those zones in a silence would reach it (a bound for such guesses, not for every estimator)",
  dwell: `median over the compared app carriers' visits and the zones they stayed in (the truth's stays, passing ones under ${PASSING_MS / 1000} s left out) of |engine − true dwell| / true dwell, the engine's dwell the sum of its non-passing zone stays (zone-stay/2) in that visit's span`,
  engagement:
    "|engine − truth| of the share of (touchpoint, visitor) pairs with an exposure that ended in an interaction; engine: its exposures (exposure-ble/1) of app carriers and their `interacted`; truth: every visitor's exposures",
  engagementApp:
    "the same against the truth's exposures of app carriers only: the engine's own error, without the difference between app carriers and everyone",
  capture:
    '|engine − truth| of the capture rate; engine: visits ÷ (visits + passers-by) of app carriers (passer-by-ble/2: heard for under a minute, or under two minutes mostly at the entrance); truth: entered / (entered + passers-by), everyone',
  occupancy:
    "mean absolute error per zone-minute of the engine's occupancy (occupancy-ble/1: tracked devices whose zone that minute is the zone) against the app carriers the truth has in the zone that minute, over the minutes the engine has made final in the compared span",
  occupancyBias: "signed error of the engine's device-minutes summed over those zone-minutes against the truth's app-carrier minutes, in % of the truth's",
} as const;

/** Seconds in a definition's `params` (e.g. `edge=120s`), or undefined. */
export function paramSeconds(params: string, key: string): number | undefined {
  const match = new RegExp(`(?:^|;)${key}=([0-9.]+)s(?:;|$)`).exec(params);
  return match === null ? undefined : Number(match[1]);
}

/** The engine's zone per minute of one visitor: the minutes its visits stored, else from its stays and each visit's imputed lead-in and lead-out. */
export function engineMinutes(events: EngineEvents, visitor: string, from: number, to: number): ZoneMinutes {
  const segments: Array<{ zone: string; from: number; to: number }> = [];
  const stored = new Map<number, string>();
  let allStored = true;
  for (const visit of events.visits) {
    if (visit.visitor !== visitor || visit.end < from || visit.start > to) continue;
    if (visit.minutes === undefined) allStored = false;
    else for (const [minute, zone] of visit.minutes) stored.set(minute, zone);
    const stays = events.stays.filter((s) => s.visitId === visit.id).sort((a, b) => a.enter - b.enter);
    const first = stays[0];
    const last = stays[stays.length - 1];
    if (first === undefined || last === undefined) continue;
    const edge = (paramSeconds(visit.params, 'edge') ?? 0) * 1000;
    segments.push({ zone: first.zone, from: visit.start - edge, to: visit.start });
    for (const s of stays) segments.push({ zone: s.zone, from: s.enter, to: s.exit });
    segments.push({ zone: last.zone, from: visit.end, to: visit.end + edge });
  }
  if (allStored) return stored; // the engine's own minutes, as it stored them
  // older definitions: from the stays, by the truth's rule (the zone of most of the minute, for minutes at least half covered)
  return minuteZones(truthMinutes(segments.sort((a, b) => a.from - b.from)));
}

/** The minutes of `truth` in which the app advertised at some time; none without advertising intervals. */
export function advertisingMinutes(truth: ZoneMinutes, advertising: ReadonlyArray<{ from: number; to: number }> | undefined): ZoneMinutes {
  const out: ZoneMinutes = new Map();
  for (const [minute, zone] of truth) {
    if (advertising?.some((a) => a.from < minute + MINUTE_MS && a.to > minute) === true) out.set(minute, zone);
  }
  return out;
}

function fmt(value: number | null): string {
  return value === null ? 'n/a' : value.toFixed(1);
}

/** The engine's figures against the truth, over visitors who left by `windowEnd − settleMs`. */
export function evaluateEngine(
  truth: EvaluationTruth,
  events: EngineEvents,
  settleMs = DEFAULT_SETTLE_MS,
  /** The engine's rules for silences (its parameters), for the perfect radio's figures (zone-oracle.ts); n/a without. */
  silence?: Omit<SilenceRules, 'entrances'>,
): Figure[] {
  const cut = truth.windowEnd - settleMs;
  const span = `visitors who entered from ${new Date(truth.windowStart).toISOString()} and left by ${new Date(cut).toISOString()}`;
  const compared = truth.visits.filter((v) => v.app && v.beacon !== undefined && v.enteredAt >= truth.windowStart && v.leftAt !== null && v.leftAt <= cut);
  const figures: Figure[] = [];

  const made = events.visits.filter((v) => v.start >= truth.windowStart && v.end <= cut).length;
  figures.push({
    key: 'engine_visits_error_pct',
    label: 'visits of app carriers (engine)',
    value: footfallErrorPct(made, compared.length),
    unit: '%',
    definition: ENGINE_DEFINITIONS.visits,
    detail: `engine ${made}, true ${compared.length}; ${span}`,
    ...(compared.length === 0 ? { reason: 'no app carrier visited in the compared span' } : {}),
  });

  const madeVisits = events.visits.filter((v) => v.start >= truth.windowStart && v.end <= cut);
  const engineRepeats = madeVisits.length - new Set(madeVisits.map((v) => v.visitor)).size;
  const trueRepeats = compared.length - new Set(compared.map((v) => v.beacon)).size;
  figures.push({
    key: 'engine_repeat_visits_error',
    label: 'repeat visits of app carriers, engine − truth',
    value: engineRepeats - trueRepeats,
    unit: 'visits',
    definition: ENGINE_DEFINITIONS.repeats,
    detail: `engine ${engineRepeats}, true ${trueRepeats}; ${span}`,
  });

  const minutes = compared.map((v) => ({
    truth: minuteZones(v.minutes),
    estimate: engineMinutes(events, v.beacon as string, v.enteredAt - 5 * MINUTE_MS, (v.leftAt as number) + 5 * MINUTE_MS),
  }));
  const zone = zoneAccuracy(minutes);
  figures.push({
    key: 'engine_zone_accuracy_pct',
    label: 'zone accuracy, app carriers (engine)',
    value: zone.pct,
    unit: '%',
    definition: ENGINE_DEFINITIONS.zoneApp,
    detail: `${zone.correct} of ${zone.minutes} visitor-minutes right, ${zone.estimated} placed`,
    ...(zone.pct === null ? { reason: 'no compared app carrier spent a minute inside' } : {}),
  });

  const advertised = zoneAccuracy(
    compared.map((v, i) => ({ truth: advertisingMinutes(minutes[i]?.truth ?? new Map(), v.advertising), estimate: minutes[i]?.estimate })),
  );
  figures.push({
    key: 'engine_zone_accuracy_advertising_pct',
    label: 'zone accuracy, app carriers, minutes advertising (engine)',
    value: advertised.pct,
    unit: '%',
    definition: ENGINE_DEFINITIONS.zoneAdvertising,
    detail: `${advertised.correct} of ${advertised.minutes} visitor-minutes right (of ${zone.minutes} in all)`,
    ...(advertised.pct === null
      ? { reason: 'the truth records no advertising interval of a compared app carrier (a truth written before intermittent advertising)' }
      : {}),
  });

  const bound = zoneBound(
    truth,
    compared.map((v, i) => ({ visit: v, minutes: minutes[i]?.truth ?? new Map() })),
  );
  figures.push({
    key: 'zone_bound_pct',
    label: "zone accuracy within the radio's reach (truth)",
    value: bound.pct,
    unit: '%',
    definition: ENGINE_DEFINITIONS.zoneBound,
    detail: `${bound.advertising} advertising minutes and ${bound.silentReachable} of ${bound.minutes - bound.advertising} silent ones`,
    ...(bound.pct === null ? { reason: 'no compared app carrier spent a minute inside' } : {}),
  });
  figures.push(...perfectRadioFigures(truth, compared, silence));

  const estimates = compared.map((v) => {
    const estimate = new Map<string, number>();
    const inSpan = (s: EngineStay) =>
      s.visitor === v.beacon && !s.passing && s.exit > v.enteredAt - 5 * MINUTE_MS && s.enter < (v.leftAt as number) + 5 * MINUTE_MS;
    for (const s of events.stays.filter(inSpan)) estimate.set(s.zone, (estimate.get(s.zone) ?? 0) + (s.exit - s.enter));
    return estimate;
  });
  const dwell = dwellMdapePct(compared.map((v, i) => ({ truth: dwellByZone(v.stays), estimate: estimates[i] ?? new Map<string, number>() })));
  figures.push({
    key: 'engine_dwell_mdape_pct',
    label: 'dwell error, median absolute (engine)',
    value: dwell.pct,
    unit: '%',
    definition: ENGINE_DEFINITIONS.dwell,
    detail: `${dwell.pairs} visit-zone stays`,
    ...(dwell.pct === null ? { reason: 'no compared app carrier stayed in a zone' } : {}),
  });
  figures.push(...dwellByEndsFigures(truth.floorPlan.entrances, compared, estimates, silence));
  figures.push(...dwellByLengthFigures(compared, estimates));

  const truthSide: Engagement = { exposed: new Map(), interacted: new Map() };
  for (const e of truth.exposures) {
    addTo(truthSide.exposed, e.touchpoint, e.visitor);
    if (e.interacted) addTo(truthSide.interacted, e.touchpoint, e.visitor);
  }
  const engineSide: Engagement = { exposed: new Map(), interacted: new Map() };
  for (const e of events.exposures) {
    addTo(engineSide.exposed, e.touchpoint, e.visitor);
    if (e.interacted) addTo(engineSide.interacted, e.touchpoint, e.visitor);
  }
  const t = engagementPct(truthSide);
  const g = engagementPct(engineSide);
  // the engine sees app carriers only: the truth's share among them, for the reader
  const appVisitors = new Set(truth.visits.filter((v) => v.app).map((v) => v.visitor));
  const appSide: Engagement = { exposed: new Map(), interacted: new Map() };
  for (const e of truth.exposures.filter((x) => appVisitors.has(x.visitor))) {
    addTo(appSide.exposed, e.touchpoint, e.visitor);
    if (e.interacted) addTo(appSide.interacted, e.touchpoint, e.visitor);
  }
  const a = engagementPct(appSide);
  figures.push({
    key: 'engine_engagement_error_pp',
    label: "engagement error, the app carriers' rate taken for everyone (engine)",
    value: t.pct === null || g.pct === null ? null : Math.abs(g.pct - t.pct),
    unit: 'pp',
    definition: ENGINE_DEFINITIONS.engagement,
    detail: `engine ${fmt(g.pct)} % (${g.engaged}/${g.exposures}), truth ${fmt(t.pct)} % (${t.engaged}/${t.exposures}); truth among app carriers ${fmt(a.pct)} % (${a.engaged}/${a.exposures})`,
    ...(t.pct === null || g.pct === null ? { reason: 'no exposure in the engine or the truth' } : {}),
  });
  figures.push({
    key: 'engine_engagement_app_error_pp',
    label: 'engagement error against app carriers (engine)',
    value: a.pct === null || g.pct === null ? null : Math.abs(g.pct - a.pct),
    unit: 'pp',
    definition: ENGINE_DEFINITIONS.engagementApp,
    detail: `engine ${fmt(g.pct)} % (${g.engaged}/${g.exposures}), truth among app carriers ${fmt(a.pct)} % (${a.engaged}/${a.exposures})`,
    ...(a.pct === null || g.pct === null ? { reason: 'no exposure of an app carrier in the engine or the truth' } : {}),
  });

  const visits = events.visits.length;
  const passers = events.passersBy.length;
  const truthRate = truth.captureRate?.rate ?? null;
  const engineRate = visits + passers === 0 ? null : visits / (visits + passers);
  figures.push({
    key: 'engine_capture_rate_error_pp',
    label: 'capture rate error (engine)',
    value: truthRate === null || engineRate === null ? null : Math.abs(engineRate - truthRate) * 100,
    unit: 'pp',
    definition: ENGINE_DEFINITIONS.capture,
    detail: `engine ${fmt(engineRate === null ? null : engineRate * 100)} % (${visits} visits, ${passers} passers-by), truth ${fmt(truthRate === null ? null : truthRate * 100)} %`,
    ...(truthRate === null || engineRate === null ? { reason: 'no capture rate in the truth, or no visit or passer-by in the engine' } : {}),
  });

  figures.push(...occupancyFigures(truth, events, cut));
  return figures;
}

function occupancyFigures(truth: EvaluationTruth, events: EngineEvents, cut: number): Figure[] {
  const trueCounts = new Map<string, number>(); // `${zone} ${minute}` → app carriers
  for (const v of truth.visits) {
    if (!v.app || v.beacon === undefined) continue;
    for (const [minute, zone] of minuteZones(v.minutes)) trueCounts.set(`${zone} ${minute}`, (trueCounts.get(`${zone} ${minute}`) ?? 0) + 1);
  }
  let n = 0;
  let error = 0;
  let engineTotal = 0;
  let trueTotal = 0;
  for (const [zone, byMinute] of events.occupancy) {
    for (const [minute, devices] of byMinute) {
      if (minute < truth.windowStart || minute + MINUTE_MS > cut) continue;
      const real = trueCounts.get(`${zone} ${minute}`) ?? 0;
      n += 1;
      error += Math.abs(devices - real);
      engineTotal += devices;
      trueTotal += real;
    }
  }
  const detail = `${n} zone-minutes, engine ${engineTotal} device-minutes, truth ${trueTotal}`;
  const none = n === 0 ? { reason: 'the engine made no occupancy final in the compared span' } : {};
  return [
    {
      key: 'engine_occupancy_mae',
      label: 'occupancy error per zone-minute (engine)',
      value: n === 0 ? null : error / n,
      unit: 'devices',
      definition: ENGINE_DEFINITIONS.occupancy,
      detail,
      ...none,
    },
    {
      key: 'engine_occupancy_bias_pct',
      label: 'occupancy bias (engine)',
      value: trueTotal === 0 ? null : ((engineTotal - trueTotal) / trueTotal) * 100,
      unit: '%',
      definition: ENGINE_DEFINITIONS.occupancyBias,
      detail,
      ...(trueTotal === 0 ? { reason: 'no app carrier inside in the compared minutes' } : {}),
    },
  ];
}
