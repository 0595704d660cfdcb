/**
 * `storeloop evaluate`: compares the figures computed from a simulator run's signals with the run's
 * ground truth. Until the experience engine writes its measurements, the computed figures are two
 * naive baselines over the raw signals: the people counters for footfall, the strongest scanner per
 * minute for zone and dwell (docs/simulator.md#evaluate).
 */
import type { GroundTruth } from '../simulators/ground-truth.js';
import { EXPOSURE_MIN_MS, SIGHT_RADIUS_M } from '../simulators/exposures.js';
import { dwellByZone, minuteZones, PASSING_MS } from '../simulators/truth-minutes.js';
import {
  addTo,
  dwellMdapePct,
  engagementPct,
  estimatedDwellMs,
  footfallErrorPct,
  strongestZoneMinutes,
  zoneAccuracy,
  type Engagement,
  type SightingRow,
  type ZoneMinutes,
} from './metrics.js';

/** The parts of the truth the evaluation reads. */
export type EvaluationTruth = Pick<GroundTruth, 'seed' | 'storeId' | 'windowStart' | 'windowEnd' | 'visits' | 'interactions' | 'exposures' | 'captureRate'> & {
  floorPlan: Pick<GroundTruth['floorPlan'], 'entrances' | 'touchpoints'>;
  footfall: ReadonlyArray<Pick<GroundTruth['footfall'][number], 'counter' | 'zone'>>;
};

/** The raw signals of the run's window, as read from InfluxDB (`signals.ts`). */
export interface Signals {
  /** People counter id → sum of `in` over the window. */
  counterIn: Map<string, number>;
  /** BLE sightings of iBeacon ids (the app) and wifi observations. */
  sightings: Array<SightingRow & { source: 'ble' | 'wifi' }>;
  /** Interactions with their beacon id, when the touchpoint knew it. */
  interactions: Array<{ touchpoint: string; beacon?: string }>;
}

/** One figure with its definition; `value` null means n/a, with the reason. */
export interface Figure {
  key: string;
  label: string;
  value: number | null;
  unit: '%' | 'pp' | 'devices' | 'visits' | 'people';
  definition: string;
  detail?: string;
  reason?: string;
}

export interface Evaluation {
  seed: number;
  storeId: string;
  windowStart: number;
  windowEnd: number;
  /** The naive baselines over the raw signals. */
  figures: Figure[];
  /** The experience engine's measurements against the truth (engine-figures.ts); null when it wrote none for the window. */
  engine?: Figure[] | null;
  /** The people figures the metrics API shows analysts: engagement of everyone, the fused footfall, occupancy of people (engagement-, footfall-, people-figures.ts). */
  footfall?: Figure[];
}

export const DEFINITIONS = {
  footfall:
    "signed error of the people counters' entries summed over the window (counters at an entrance or without a zone) against the visitors the truth has entering, in % of the true count",
  zoneApp:
    "share of the truth's visitor-minutes of app carriers (the truth's minutes: those they spent at least half of inside, the zone they spent most of it in) for which the strongest scanner of their beacon id that minute (highest mean RSSI) is in the truth's zone; a minute without a sighting counts as wrong",
  zoneAll:
    "the same over every visitor's minutes, each visitor estimated from their beacon's BLE sightings, else from their phone's wifi observations that minute (the truth says which pseudonyms were theirs); visitors without a phone count wrong every minute",
  dwell: `median over app carriers' visits and the zones they stayed in (the truth's stays, passing ones under ${PASSING_MS / 1000} s left out) of |estimated − true dwell| / true dwell, the estimate being one minute per minute the strongest scanner placed their beacon in the zone`,
  engagement: `|signals − truth| of the share of (touchpoint, visitor) pairs with an exposure that ended in an interaction at the touchpoint; signals (naive): an app carrier's beacon placed in the touchpoint's zone by the strongest scanner in any minute is exposed, engaged when an interaction carries that beacon id; truth: the truth's exposures (in the zone within ${SIGHT_RADIUS_M} m of the touchpoint for ${EXPOSURE_MIN_MS / 1000} s, or used it) and whether they ended in an interaction`,
  capture:
    "|signals − truth| of the capture rate, the share of the people passing the shop front who entered; signals: the door counters' entries over the window ÷ the distinct wifi pseudonyms the wifi sensors in entrance zones heard in it (everyone near the front with a probing phone, inside or out); truth: entered / (entered + passers-by)",
} as const;

const CAPTURE_NA = 'the truth has no capture rate (a run without passers-by, or written before the simulator modelled them)';

/** Evaluates the baselines of `signals` against `truth`. */
export function evaluate(truth: EvaluationTruth, signals: Signals): Evaluation {
  const figures: Figure[] = [];

  // footfall: counters at the door count store entries (simulators/devices.ts)
  const doorCounters = truth.footfall.filter((f) => f.zone === null || truth.floorPlan.entrances.includes(f.zone)).map((f) => f.counter);
  const counted = doorCounters.reduce((sum, c) => sum + (signals.counterIn.get(c) ?? 0), 0);
  const entered = truth.visits.filter((v) => v.enteredAt >= truth.windowStart && v.enteredAt <= truth.windowEnd).length;
  figures.push({
    key: 'footfall_error_pct',
    label: 'footfall error',
    value: footfallErrorPct(counted, entered),
    unit: '%',
    definition: DEFINITIONS.footfall,
    detail: `counted ${counted}, true ${entered}`,
    ...(entered === 0 ? { reason: 'no visitor entered in the window' } : {}),
  });

  const ble = strongestZoneMinutes(signals.sightings.filter((s) => s.source === 'ble'));
  const wifi = strongestZoneMinutes(signals.sightings.filter((s) => s.source === 'wifi'));
  const truthMinutes = new Map(truth.visits.map((v) => [v.visitor, minuteZones(v.minutes)]));
  const appVisits = truth.visits.filter((v) => v.app && v.beacon !== undefined);
  const beaconEstimate = (v: EvaluationTruth['visits'][number]): ZoneMinutes | undefined => (v.beacon === undefined ? undefined : ble.get(v.beacon));

  const app = zoneAccuracy(appVisits.map((v) => ({ truth: truthMinutes.get(v.visitor) ?? new Map(), estimate: beaconEstimate(v) })));
  figures.push({
    key: 'zone_accuracy_pct',
    label: 'zone accuracy, app carriers',
    value: app.pct,
    unit: '%',
    definition: DEFINITIONS.zoneApp,
    detail: `${app.correct} of ${app.minutes} visitor-minutes right, ${app.estimated} had a sighting`,
    ...(app.pct === null ? { reason: 'no app carrier spent a minute inside' } : {}),
  });

  const all = zoneAccuracy(
    truth.visits.map((v) => {
      const estimate: ZoneMinutes = new Map();
      for (const id of v.wifiPseudonyms) for (const [minute, zone] of wifi.get(id) ?? []) estimate.set(minute, zone);
      for (const [minute, zone] of beaconEstimate(v) ?? []) estimate.set(minute, zone); // BLE over wifi
      return { truth: truthMinutes.get(v.visitor) ?? new Map(), estimate };
    }),
  );
  figures.push({
    key: 'zone_accuracy_all_pct',
    label: 'zone accuracy, all visitors',
    value: all.pct,
    unit: '%',
    definition: DEFINITIONS.zoneAll,
    detail: `${all.correct} of ${all.minutes} visitor-minutes right, ${all.estimated} had a signal`,
    ...(all.pct === null ? { reason: 'no visitor spent a minute inside' } : {}),
  });

  const dwell = dwellMdapePct(appVisits.map((v) => ({ truth: dwellByZone(v.stays), estimate: estimatedDwellMs(beaconEstimate(v)) })));
  figures.push({
    key: 'dwell_mdape_pct',
    label: 'dwell error (median absolute)',
    value: dwell.pct,
    unit: '%',
    definition: DEFINITIONS.dwell,
    detail: `${dwell.pairs} visit-zone stays`,
    ...(dwell.pct === null ? { reason: 'no app carrier stayed in a zone' } : {}),
  });

  const engagement = compareEngagement(truth, signals, ble);
  figures.push({
    key: 'engagement_error_pp',
    label: 'engagement error',
    value: engagement.signals.pct === null || engagement.truth.pct === null ? null : Math.abs(engagement.signals.pct - engagement.truth.pct),
    unit: 'pp',
    definition: DEFINITIONS.engagement,
    detail: `signals ${fmt(engagement.signals.pct)} % (${engagement.signals.engaged}/${engagement.signals.exposures}), truth ${fmt(engagement.truth.pct)} % (${engagement.truth.engaged}/${engagement.truth.exposures})`,
    ...(engagement.signals.pct === null || engagement.truth.pct === null ? { reason: 'no exposure to a touchpoint in the signals or the truth' } : {}),
  });

  figures.push(captureFigure(truth, signals, counted));
  return { seed: truth.seed, storeId: truth.storeId, windowStart: truth.windowStart, windowEnd: truth.windowEnd, figures };
}

/**
 * The capture rate's baseline: door entries ÷ distinct wifi pseudonyms heard by the wifi sensors of the
 * entrance zones over the window. Naive on purpose: phones without wifi probing go unheard, rotating
 * MACs count one phone several times, staff and visitors inside are heard as well as the street.
 */
export function captureFigure(truth: EvaluationTruth, signals: Signals, doorEntries: number): Figure {
  const base = { key: 'capture_rate_error_pp', label: 'capture rate error', unit: 'pp', definition: DEFINITIONS.capture } as const;
  const truthRate = truth.captureRate?.rate ?? null;
  if (truthRate === null || truth.captureRate === undefined) return { ...base, value: null, reason: CAPTURE_NA };
  const heard = new Set(signals.sightings.filter((s) => s.source === 'wifi' && truth.floorPlan.entrances.includes(s.zone)).map((s) => s.visitor));
  const truthDetail = `truth ${fmt(truthRate * 100)} % (${truth.captureRate.entered} entered, ${truth.captureRate.passersBy} passed by)`;
  if (heard.size === 0) return { ...base, value: null, detail: truthDetail, reason: 'no wifi sensor in an entrance zone heard anyone' };
  const estimate = Math.min(1, doorEntries / heard.size);
  return {
    ...base,
    value: Math.abs(estimate - truthRate) * 100,
    detail: `signals ${fmt(estimate * 100)} % (${doorEntries} entries, ${heard.size} pseudonyms at the front), ${truthDetail}`,
  };
}

function compareEngagement(truth: EvaluationTruth, signals: Signals, ble: Map<string, ZoneMinutes>) {
  const zoneOf = new Map(truth.floorPlan.touchpoints.map((t) => [t.id, t.zone]));
  const truthSide: Engagement = { exposed: new Map(), interacted: new Map() };
  for (const e of truth.exposures) {
    addTo(truthSide.exposed, e.touchpoint, e.visitor);
    if (e.interacted) addTo(truthSide.interacted, e.touchpoint, e.visitor);
  }

  const signalSide: Engagement = { exposed: new Map(), interacted: new Map() };
  for (const [beacon, minutes] of ble) {
    const zones = new Set(minutes.values());
    for (const [tp, zone] of zoneOf) if (zones.has(zone)) addTo(signalSide.exposed, tp, beacon);
  }
  for (const i of signals.interactions) if (i.beacon !== undefined) addTo(signalSide.interacted, i.touchpoint, i.beacon);
  return { truth: engagementPct(truthSide), signals: engagementPct(signalSide) };
}

function fmt(value: number | null): string {
  return value === null ? 'n/a' : value.toFixed(1);
}

/** The report as text: one line per figure with its value, then its definition. */
export function formatEvaluation(e: Evaluation): string {
  const lines = [
    `storeloop evaluate: seed ${e.seed}, store ${e.storeId}, ${new Date(e.windowStart).toISOString()} to ${new Date(e.windowEnd).toISOString()}`,
    '',
  ];
  if (e.engine === null) lines.push('experience engine: no measurements for this window (sinks.experience off, no layout, or no visit closed yet)', '');
  else if (e.engine !== undefined) {
    lines.push('experience engine: its measurements in InfluxDB (docs/analytics.md)');
    for (const f of e.engine) lines.push(...figureLines(f));
    lines.push('');
  }
  if (e.footfall !== undefined) {
    lines.push(
      "people as analysts read them: the metrics API's engagement of everyone, fused footfall, occupancy of people and wifi footfall (docs/analytics.md)",
    );
    for (const f of e.footfall) lines.push(...figureLines(f));
    lines.push('');
  }
  lines.push('baselines from the raw signals: people counters (footfall), strongest scanner per minute (zone, dwell)');
  for (const f of e.figures) lines.push(...figureLines(f));
  return `${lines.join('\n')}\n`;
}

function figureLines(f: Figure): string[] {
  const lines: string[] = [];
  {
    const value = f.value === null ? 'n/a' : `${f.value.toFixed(1)} ${f.unit}`;
    lines.push(`${f.label}: ${value}${f.detail === undefined ? '' : `  (${f.detail})`}`);
    if (f.reason !== undefined) lines.push(`  n/a: ${f.reason}`);
    lines.push(`  = ${f.definition}`);
  }
  return lines;
}

/** The report as one JSON object: every figure under its key (null for n/a), the seed, and the definitions. */
export function evaluationJson(e: Evaluation): Record<string, unknown> {
  const out: Record<string, unknown> = { seed: e.seed, store: e.storeId, window_start: e.windowStart, window_end: e.windowEnd, baseline: 'raw-signals' };
  for (const f of e.figures) out[f.key] = f.value === null ? null : round(f.value);
  out['figures'] = e.figures.map((f) => ({ ...f, value: f.value === null ? null : round(f.value) }));
  if (e.engine !== undefined) {
    out['engine'] = e.engine === null ? null : Object.fromEntries(e.engine.map((f) => [f.key, f.value === null ? null : round(f.value)]));
    out['engine_figures'] = e.engine?.map((f) => ({ ...f, value: f.value === null ? null : round(f.value) })) ?? null;
  }
  if (e.footfall !== undefined) {
    out['footfall'] = Object.fromEntries(e.footfall.map((f) => [f.key, f.value === null ? null : round(f.value)]));
    out['footfall_figures'] = e.footfall.map((f) => ({ ...f, value: f.value === null ? null : round(f.value) }));
  }
  return out;
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}
