/**
 * From a device's zone assignment to experience events: its visits (one per track, split where the
 * device went unheard for longer than maxGapMs), each visit's zone stays, its exposures to
 * touchpoints, and its zone for each minute (for occupancy). Pure and deterministic: ids are hashes
 * of the device and the visit's start, so the same sightings always give the same events.
 */
import { createHash } from 'node:crypto';

import type { ExposureEvent, PasserByEvent, VisitEvent, ZoneStayEvent } from '../log/derived-record.js';
import type { PresenceParams } from './params.js';
import { CLOSED_MARGIN_MS } from './staff-days.js';
import { dwellByZone, mergeSpells, MINUTE_MS, minuteZones, stays, type Stay, type ZoneSegment } from './segments.js';

/** Version of the definitions below; a change of what they compute is a new version. */
export const DEFINITIONS = {
  visit: 'visit-ble/3',
  zoneStay: 'zone-stay/2',
  exposure: 'exposure-ble/1',
  occupancy: 'occupancy-ble/1',
  passerBy: 'passer-by-ble/2',
} as const;

/**
 * A track shorter than this (first to last sighting) is someone passing the shop front, not a visit.
 * **Assumed** (vendors differ: one counts a visitor after 2 minutes seen, another after 5 sightings in
 * 20 minutes). Checked on tuning seeds 101 and 102 (3 h each): of the app-carrying passers-by heard
 * (349 and 362), 12 and 2 were heard for a minute or longer and so counted as visits.
 */
export const MIN_VISIT_MS = 60_000;

/**
 * A track heard for under this (first to last sighting), at least `DOOR_SHARE` of that time in the
 * store's entrance zones (as the engine assigned them), is a passer-by too: someone walking past the
 * shop front heard through it for a minute or more (60–75 s on the simulator), placed at the door
 * and perhaps the zone beside it. A visitor who only stepped in at the door and out again (bounced)
 * is one too: the radio cannot tell them apart. **Tuned** on seeds 101–105 (`npm run
 * experience-accuracy`, docs/analytics.md): visits +2.5 % → −0.3 %, capture rate error 5.7 → 5.2 pp,
 * zone and dwell unchanged; any track under 90 s instead: −2.1 %, 4.9 pp, zone −0.2 pp.
 */
export const DOOR_MAX_MS = 120_000;

/** The share of a short track's heard time in entrance zones that makes it a passer-by (above). */
export const DOOR_SHARE = 0.4;

/** An exposure needs this long in the touchpoint's zone (or an interaction): in the zone long enough to have seen it. */
export const EXPOSURE_MIN_MS = 10_000;

const seconds = (ms: number) => `${Math.round(ms / 100) / 10}s`;

/** The engine's parameters a figure depends on, as the `params` field stores them; `maxVisitMs`: the static and staff threshold. */
export function definitionParams(params: PresenceParams, maxVisitMs?: number): string {
  return [
    `engine=hmm-${params.posteriorPath ? 'posterior' : 'viterbi'}`,
    'anchors=touchpoints',
    // which scanners listened in a step: every scan report in the window (points without this key: only
    // the sightings of the devices decoded together; docs/analytics.md, "Dwell: met")
    'listened=scan-reports',
    `minutes=${params.minutePosterior ? 'posterior' : 'path'}`,
    `step=${seconds(params.stepMs)}`,
    `maxGap=${seconds(params.maxGapMs)}`,
    `minStay=${seconds(params.minStaySteps * params.stepMs)}`,
    'passing=30s',
    `edge=${seconds(params.edgeExtendMs)}`,
    `entranceStay=${params.entranceSelfTransition}`,
    `emissionWeight=${params.emissionWeight}`,
    `mergeSpell=${seconds(params.mergeSpellMs)}`,
    `silence=${params.entranceWalkThrough ? 'entrance-walked' : 'middle'}`,
    `calibrate=${params.calibrate ? 'on' : 'off'}`,
    `exposure=${seconds(EXPOSURE_MIN_MS)}`,
    `minVisit=${seconds(MIN_VISIT_MS)}`,
    `doorPasser=${seconds(DOOR_MAX_MS)}@${DOOR_SHARE}`,
    ...(maxVisitMs === undefined ? [] : [`maxVisit=${seconds(maxVisitMs)}`, `staffClosedMargin=${seconds(CLOSED_MARGIN_MS)}`]),
  ].join(';');
}

/** The store's entrance zones: its zones of kind `entrance` in the config. */
export function entranceZones(store: { zones: ReadonlyArray<{ id: string; kind?: string }> }): Set<string> {
  return new Set(store.zones.filter((z) => z.kind === 'entrance').map((z) => z.id));
}

/** The deterministic id of a device's visit that starts at `start`. */
export function visitId(storeId: string, device: string, start: number): string {
  const hash = createHash('sha256').update(`${storeId}\u0000${device}\u0000${start}`).digest('base64url').slice(0, 22);
  return `visit-${hash}`;
}

/** Splits a device's segments into visits: runs of segments that follow one another without a gap. */
export function visitSegments(segments: readonly ZoneSegment[]): ZoneSegment[][] {
  const out: ZoneSegment[][] = [];
  let current: ZoneSegment[] = [];
  for (const segment of segments) {
    const last = current[current.length - 1];
    if (last !== undefined && segment.from > last.to) {
      out.push(current);
      current = [];
    }
    current.push(segment);
  }
  if (current.length > 0) out.push(current);
  return out;
}

export interface VisitEvents {
  visit: VisitEvent;
  stays: ZoneStayEvent[];
  exposures: ExposureEvent[];
  /** The visit's zone per minute (minute start → zone), imputed lead-in and lead-out included. */
  minutes: Map<number, string>;
}

/**
 * Whether a track (its heard segments) is a passer-by, not a visit: heard (first to last sighting) for
 * under `MIN_VISIT_MS`, or for under `DOOR_MAX_MS` with at least `DOOR_SHARE` of it in entrance zones.
 */
export function isPasserBy(heard: readonly ZoneSegment[], entrances: ReadonlySet<string>): boolean {
  const first = heard[0];
  const last = heard[heard.length - 1];
  if (first === undefined || last === undefined) return false;
  const heardMs = last.to - first.from;
  if (heardMs < MIN_VISIT_MS) return true;
  if (heardMs >= DOOR_MAX_MS) return false;
  const atDoorMs = heard.reduce((sum, s) => sum + (entrances.has(s.zone) ? s.to - s.from : 0), 0);
  return atDoorMs >= DOOR_SHARE * heardMs;
}

/** A track that is no visit (`isPasserBy`), as a passer-by; undefined when it is a visit (or was never heard). */
export function passerByEvent(
  storeId: string,
  device: string,
  segments: readonly ZoneSegment[],
  context: { params: PresenceParams; entrances: ReadonlySet<string>; maxVisitMs?: number },
): PasserByEvent | undefined {
  const { params, maxVisitMs } = context;
  const heard = segments.filter((s) => s.imputed === undefined);
  if (!isPasserBy(heard, context.entrances)) return undefined;
  const at = (heard[0] as ZoneSegment).from;
  const heardMs = (heard[heard.length - 1] as ZoneSegment).to - at;
  const id = visitId(storeId, device, at).replace('visit-', 'passer-');
  return { type: 'passer_by', id, visitor: device, at, heardMs, definition: DEFINITIONS.passerBy, params: definitionParams(params, maxVisitMs) };
}

export interface TouchpointPlace {
  id: string;
  zone: string;
}

/** The events of one visit of `device` (its segments, in order), with the interactions that named its beacon. */
export function visitEvents(
  storeId: string,
  device: string,
  segments: readonly ZoneSegment[],
  context: {
    params: PresenceParams;
    /** The static and staff threshold (stored in `params`; absent: left out). */
    maxVisitMs?: number;
    touchpoints: readonly TouchpointPlace[];
    interactions: ReadonlyArray<{ ts: number; touchpoint: string }>;
    /** The engine's zone per minute for the device (absent: from the segments). */
    deviceMinutes?: ReadonlyMap<number, string>;
    /** The engine's stays of the device, with their confidence (absent: from the segments as the engine makes them, spells merged, without confidence). */
    deviceStays?: readonly Stay[];
  },
): VisitEvents | undefined {
  const heard = segments.filter((s) => s.imputed === undefined);
  if (heard.length === 0) return undefined;
  const start = (heard[0] as ZoneSegment).from;
  const end = (heard[heard.length - 1] as ZoneSegment).to;
  const params = definitionParams(context.params, context.maxVisitMs);
  const id = visitId(storeId, device, start);
  const spanFrom = (segments[0] as ZoneSegment).from;
  const spanTo = (segments[segments.length - 1] as ZoneSegment).to;
  const list: Stay[] =
    context.deviceStays?.filter((st) => st.enter >= spanFrom && st.exit <= spanTo) ?? mergeSpells(stays(segments), context.params.mergeSpellMs);
  const path: string[] = [];
  for (const stay of list) if (path[path.length - 1] !== stay.zone) path.push(stay.zone);
  const visit: VisitEvent = {
    type: 'visit',
    id,
    visitor: device,
    start,
    end,
    path,
    zones: new Set(list.filter((s) => !s.passing).map((s) => s.zone)).size,
    dwell: [...dwellByZone(list)].map(([zone, ms]) => ({ zone, seconds: Math.round(ms / 1000) })),
    definition: DEFINITIONS.visit,
    params,
  };
  const stayEvents: ZoneStayEvent[] = list.map((stay, i) => ({
    type: 'zone_stay',
    id: `${id}/stay-${i}`,
    visitId: id,
    visitor: device,
    zone: stay.zone,
    enter: stay.enter,
    exit: stay.exit,
    passing: stay.passing === true,
    confidence: stay.confidence ?? null,
    definition: DEFINITIONS.zoneStay,
    params,
  }));
  const during = context.interactions.filter((i) => i.ts >= spanFrom && i.ts <= spanTo);
  const exposures: ExposureEvent[] = [];
  for (const touchpoint of context.touchpoints) {
    const inZone = list.filter((s) => s.zone === touchpoint.zone); // walking through counts, once it adds up to 10 s
    const exposedMs = inZone.reduce((sum, s) => sum + s.dwellMs, 0);
    const used = during.filter((i) => i.touchpoint === touchpoint.id);
    if (exposedMs < EXPOSURE_MIN_MS && used.length === 0) continue;
    const at = Math.min(inZone[0]?.enter ?? Infinity, used[0]?.ts ?? Infinity);
    exposures.push({
      type: 'exposure',
      id: `${id}/exposure-${touchpoint.id}`,
      visitId: id,
      visitor: device,
      touchpoint: touchpoint.id,
      zone: touchpoint.zone,
      at,
      exposedMs,
      interacted: used.length > 0,
      definition: DEFINITIONS.exposure,
      params,
    });
  }
  const minutes = visitMinutes(segments, context.deviceMinutes);
  visit.minutes = minuteList(minutes);
  return { visit, stays: stayEvents, exposures, minutes };
}

/** The visit's zone per minute: the engine's for the device, over the minutes the visit's segments touch. */
function visitMinutes(segments: readonly ZoneSegment[], deviceMinutes: ReadonlyMap<number, string> | undefined): Map<number, string> {
  const own = minuteZones(segments);
  if (deviceMinutes === undefined) return own;
  const from = Math.floor((segments[0] as ZoneSegment).from / MINUTE_MS) * MINUTE_MS;
  const to = (segments[segments.length - 1] as ZoneSegment).to;
  const out = new Map<number, string>();
  for (let minute = from; minute < to; minute += MINUTE_MS) {
    const zone = deviceMinutes.get(minute);
    if (zone !== undefined) out.set(minute, zone);
  }
  return out;
}

/** Minutes as a list from the first: null where the visit has no zone. */
function minuteList(minutes: ReadonlyMap<number, string>): { from: number; zones: Array<string | null> } | undefined {
  const keys = [...minutes.keys()].sort((a, b) => a - b);
  const first = keys[0];
  const last = keys[keys.length - 1];
  if (first === undefined || last === undefined) return undefined;
  const zones: Array<string | null> = [];
  for (let minute = first; minute <= last; minute += MINUTE_MS) zones.push(minutes.get(minute) ?? null);
  return { from: first, zones };
}
