/**
 * Wifi visits (`visit-wifi/1`): of one store's wifi tracks (wifi-tracks.ts: a phone's probe requests,
 * its rotated pseudonyms linked), those that are a phone's visit to the store. A track closed at a
 * boundary is
 *
 * - **static** when heard for longer than `maxVisitMs` without a gap of `maxGapMs` (store equipment, a
 *   phone left behind, staff on a shift): no visit, as for BLE;
 * - **staff's** when the staff-day rules say so (staff-days.ts, keyed by the track's first pseudonym:
 *   a staff phone on the store wifi keeps one pseudonym all day, so its day adds up): no visit;
 * - **begun before the data**: its first observation lies within `startMarginMs` of the first wifi
 *   report the engine took in (a sensor's batch, empty or not): the phone was already there when the engine began, so when it
 *   came in is not known, and a visit counts at its start;
 * - a **passer-by** when heard (first to last observation) for under `minVisitMs`, or for under
 *   `doorMaxMs` and heard by the store's entrance sensors only (wifi sensors in zones of kind
 *   `entrance`) or never louder than `weakRssiDbm` on any sensor: someone walking past the shop
 *   front, heard through it (the spirit of `passer-by-ble/2`);
 * - otherwise a **visit**, counted at its start: a phone that probes, so it counts people carrying one,
 *   not everyone.
 *
 * Deterministic: the events of a boundary depend only on the observations stamped before it, and the
 * id is a hash of the store, the track's first pseudonym and its start. No event names a pseudonym.
 */
import { createHash } from 'node:crypto';

import type { StoreConfig } from '../../config/index.js';
import type { WifiVisitEvent } from '../log/derived-record.js';
import { StaffDays, type StaffDaysState, type StoreHours } from './staff-days.js';
import { WifiTracks, type ClosedWifiTrack, type WifiDrop, type WifiLinkParams, type WifiObservationRow, type WifiTracksState } from './wifi-tracks.js';

export const WIFI_VISIT_DEFINITION = 'visit-wifi/1';

export interface WifiVisitParams extends Omit<WifiLinkParams, 'maxGapMs' | 'maxVisitMs'> {
  /** A track heard for less than this is a passer-by, ms. */
  minVisitMs: number;
  /** A track heard for less than this, by entrance sensors only or weakly, is a passer-by, ms. */
  doorMaxMs: number;
  /** Never heard louder than this on any sensor: weak (through the shop front), dBm. */
  weakRssiDbm: number;
  /** A track that begins within this of the first wifi observation was there before the data, ms. */
  startMarginMs: number;
}

/**
 * The engine's own wifi parameters. **Tuned** on simulator seeds 101–105 (`npm run
 * experience-accuracy`, docs/analytics.md#wifi-footfall); nothing is read from the simulator.
 */
export const DEFAULT_WIFI_PARAMS: WifiVisitParams = {
  linkGapMs: 90_000,
  edgeMs: 60_000,
  maxRssiDiffDb: 8,
  minLinkMs: 30_000,
  minVisitMs: 60_000,
  doorMaxMs: 120_000,
  weakRssiDbm: -80,
  startMarginMs: 60_000,
};

const seconds = (ms: number) => `${Math.round(ms / 100) / 10}s`;

/** The `params` field of a wifi visit. */
export function wifiDefinitionParams(params: WifiVisitParams, maxGapMs: number, maxVisitMs: number): string {
  return [
    'link=rotation',
    `linkGap=${seconds(params.linkGapMs)}`,
    `edge=${seconds(params.edgeMs)}`,
    `rssiDiff=${params.maxRssiDiffDb}dB`,
    `minLink=${seconds(params.minLinkMs)}`,
    'doorLink=off',
    `maxGap=${seconds(maxGapMs)}`,
    `minVisit=${seconds(params.minVisitMs)}`,
    `doorPasser=${seconds(params.doorMaxMs)}@entrance-only-or-under${params.weakRssiDbm}dBm`,
    `startMargin=${seconds(params.startMarginMs)}`,
    `maxVisit=${seconds(maxVisitMs)}`,
  ].join(';');
}

export type WifiTrackKind = 'visit' | 'passer_by' | 'static' | 'staff' | 'before_data';

/** What a closed track is (module comment), but staff's (decided with the staff day, WifiVisits). */
export function wifiTrackKind(
  track: ClosedWifiTrack,
  context: { params: WifiVisitParams; entranceSensors: ReadonlySet<string>; since: number | null },
): Exclude<WifiTrackKind, 'staff'> {
  const { params } = context;
  if (track.static) return 'static';
  if (context.since !== null && track.start - context.since < params.startMarginMs) return 'before_data';
  const heardMs = track.end - track.start;
  if (heardMs < params.minVisitMs) return 'passer_by';
  if (heardMs >= params.doorMaxMs) return 'visit';
  const sensors = Object.entries(track.heard);
  const doorOnly = context.entranceSensors.size > 0 && sensors.every(([sensor]) => context.entranceSensors.has(sensor));
  const weak = sensors.every(([, h]) => h.maxRssi < params.weakRssiDbm);
  return doorOnly || weak ? 'passer_by' : 'visit';
}

/** The deterministic id of a wifi visit: a hash of the store, the track's first pseudonym and its start. */
export function wifiVisitId(storeId: string, key: string, start: number): string {
  return `wifi-visit-${createHash('sha256').update(`${storeId}\u0000wifi\u0000${key}\u0000${start}`).digest('base64url').slice(0, 22)}`;
}

/** The store's wifi sensors in zones of kind `entrance` (none when every wifi sensor is: then nothing tells the door from the rest). */
export function entranceWifiSensors(store: Pick<StoreConfig, 'zones' | 'sensors'>): Set<string> {
  const entrances = new Set(store.zones.filter((z) => z.kind === 'entrance').map((z) => z.id));
  const wifi = store.sensors.filter((s) => s.type === 'wifi');
  const atDoor = wifi.filter((s) => s.zone !== undefined && entrances.has(s.zone)).map((s) => s.id);
  return atDoor.length === wifi.length ? new Set() : new Set(atDoor);
}

/** The serialised wifi part of a store's window (version 1). */
export interface WifiVisitsState {
  v: 1;
  tracks: WifiTracksState;
  staffDays: StaffDaysState;
}

export interface WifiVisitsOptions {
  params: WifiVisitParams;
  maxGapMs: number;
  maxVisitMs: number;
  /** At most this many pseudonyms open at once (wifi-tracks.ts); absent: no bound. */
  maxOpen?: number;
}

/** Counts of what the closed tracks were, for the sink's log and metrics. */
export type WifiTrackCounts = Record<WifiTrackKind, number>;

/** One store's wifi visits: its tracks, its staff days, and the events of each boundary. */
export class WifiVisits {
  private tracks: WifiTracks;
  private staffDays: StaffDays;
  private readonly entranceSensors: Set<string>;
  private readonly paramsText: string;
  /** Observations of new pseudonyms dropped with `window_full` since the last boundary (reported with the next one; not persisted). */
  private droppedFull = 0;

  constructor(
    private readonly storeId: string,
    store: Pick<StoreConfig, 'zones' | 'sensors'>,
    hours: StoreHours,
    private readonly options: WifiVisitsOptions,
    state?: WifiVisitsState,
  ) {
    const link = { ...options.params, maxGapMs: options.maxGapMs, maxVisitMs: options.maxVisitMs };
    this.entranceSensors = entranceWifiSensors(store);
    this.tracks =
      state === undefined
        ? new WifiTracks(link, this.entranceSensors, options.maxOpen)
        : WifiTracks.fromState(link, state.tracks, this.entranceSensors, options.maxOpen);
    const staffOptions = { maxVisitMs: options.maxVisitMs, minTrackMs: options.params.minVisitMs };
    this.staffDays = StaffDays.fromState(hours, staffOptions, state?.staffDays);
    this.paramsText = wifiDefinitionParams(options.params, options.maxGapMs, options.maxVisitMs);
  }

  /** A wifi sensor's report (with or without observations) stamped `ts`. */
  report(ts: number): void {
    this.tracks.report(ts);
  }

  /** An observation; why it was dropped (late, or the window full), or undefined when kept. */
  add(row: WifiObservationRow): WifiDrop | undefined {
    const dropped = this.tracks.add(row);
    if (dropped === 'window_full') this.droppedFull += 1;
    return dropped;
  }

  get openTracks(): number {
    return this.tracks.openTracks;
  }

  /** The wifi visits made final at `boundary`, what the closed tracks were, and the observations dropped with the window full since the last boundary. */
  close(boundary: number): { events: WifiVisitEvent[]; counts: WifiTrackCounts; droppedFull: number } {
    const counts: WifiTrackCounts = { visit: 0, passer_by: 0, static: 0, staff: 0, before_data: 0 };
    const droppedFull = this.droppedFull;
    this.droppedFull = 0;
    this.staffDays.prune(boundary - this.options.maxVisitMs - this.options.maxGapMs - this.options.params.edgeMs);
    const events: WifiVisitEvent[] = [];
    for (const track of this.tracks.close(boundary)) {
      let kind: WifiTrackKind = wifiTrackKind(track, { params: this.options.params, entranceSensors: this.entranceSensors, since: this.tracks.since });
      if (kind === 'static') this.staffDays.markStatic(track.key, track.end);
      else if (kind !== 'before_data' && this.staffDays.closeTrack(track.key, track.start, track.end) !== null) kind = 'staff';
      counts[kind] += 1;
      if (kind !== 'visit') continue;
      events.push({
        type: 'wifi_visit',
        id: wifiVisitId(this.storeId, track.key, track.start),
        start: track.start,
        end: track.end,
        pseudonyms: track.pseudonyms,
        definition: WIFI_VISIT_DEFINITION,
        params: this.paramsText,
      });
    }
    return { events, counts, droppedFull };
  }

  toState(): WifiVisitsState {
    return { v: 1, tracks: this.tracks.toState(), staffDays: this.staffDays.toState() };
  }
}
