/**
 * The experience engine as a sink of the event log. Per store with a layout, in event time: it keeps
 * an open window (store-window.ts) of the BLE sightings and beacon-carrying interactions of devices
 * whose visits have not closed, and at each boundary the watermark passes it assigns zones to the
 * devices whose visits closed (engine.ts), builds their visits, zone stays and exposures
 * (visit-events.ts) and the occupancy of the minutes no open visit can change any more, and appends
 * them to the log as derived records (gateway/log/derived-log.ts) with deterministic ids.
 *
 * Its window is state of its own: `persist` writes it to `<state.dir>/experience/state.json` before
 * each checkpoint the runner writes, tagged with the log position it covers. After a restart it is
 * read back and the records after that position are taken in again; final events recomputed from the
 * same records get the same ids, and the message index drops a second append.
 */
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';

import { Counter, type Registry } from 'prom-client';

import type { StoreConfig } from '../../config/index.js';
import { StoreloopError } from '../../lib/errors.js';
import type { Logger } from '../../lib/logger.js';
import { isConsentAction } from '../../protocol/index.js';
import { SyncCounter, replaceFileDurably } from '../../lib/spool/durable-fs.js';
import type { ExperienceEvent, OccupancyEvent } from '../log/derived-record.js';
import type { DerivedLog } from '../log/derived-log.js';
import type { LogRecord } from '../log/log-record.js';
import type { Sink, SinkOutcome } from '../sinks/sink.js';
import { touchpointAnchors } from './anchors.js';
import { registerExperienceGauges } from './experience-gauges.js';
import { assignZones } from './engine.js';
import { DEFAULT_PRESENCE_PARAMS, type PresenceParams } from './params.js';
import { MINUTE_MS } from './segments.js';
import type { StoreHours } from './staff-days.js';
import { presenceStore, type PresenceStore } from './store-model.js';
import { estimateStepClock } from './clock-offsets.js';
import type { StepClock } from './observations.js';
import { StoreWindow, type ClosedDevices, type StoreWindowOptions, type StoreWindowState } from './store-window.js';
import { DEFINITIONS, definitionParams, entranceZones, passerByEvent, visitEvents, visitSegments, type TouchpointPlace } from './visit-events.js';
import { DEFAULT_WIFI_PARAMS, WifiVisits, type WifiVisitParams, type WifiVisitsState } from './wifi-visits.js';

export interface ExperienceSinkOptions {
  stores: readonly StoreConfig[];
  /** `<state.dir>/experience`. */
  dir: string;
  derivedLog: Pick<DerivedLog, 'append'>;
  log: Logger;
  registry: Registry;
  finalizeEveryMs: number;
  maxSourceLagMs: number;
  lateToleranceMs: number;
  maxVisitMs: number;
  /** At most this many devices open at once per store (store-window.ts); absent: no bound. */
  maxOpenDevices?: number;
  /**
   * Occupancy of a minute is final at most this long after it: a device open longer (probably static,
   * or a long visit) no longer holds it back, and its minutes before then are left out of occupancy.
   */
  occupancyHoldMs: number;
  /** A device whose track starts while the store is closed (its openingHours) is staff that day; default true (staff-days.ts). */
  closedHoursAreStaff?: boolean;
  params?: PresenceParams;
  /** The wifi visits' parameters (default DEFAULT_WIFI_PARAMS). */
  wifiParams?: WifiVisitParams;
}

interface EngineStore {
  config: StoreConfig;
  model: PresenceStore;
  touchpoints: TouchpointPlace[];
  window: StoreWindow;
  /** Its wifi observations, linked into tracks and made wifi visits at the same boundaries (wifi-visits.ts). */
  wifi: WifiVisits;
  /** Events made final but not appended yet (the append failed: retried with the next delivery). */
  pending: ExperienceEvent[];
}

const STATE_FILE = 'state.json';
/**
 * Occupancy counts a visit in the minutes whose middle lies between its first and last sighting, not
 * in the imputed lead-in and lead-out (which help place a visitor's minutes, but would count people
 * at the door who were not in yet). **Tuned** on seeds 101–105 (`npm run experience-accuracy`): mean
 * absolute error per zone-minute 0.3 devices (bias −7.7 %) against 0.4 (+9.8 %) with 60 s of the
 * lead-in and lead-out and 0.6 (+27 %) with all 120 s.
 */
function heardIn(minute: number, visit: { start: number; end: number }): boolean {
  const middle = minute + MINUTE_MS / 2;
  return middle >= visit.start && middle <= visit.end;
}

/**
 * Statuses (agents' and sensors' health) carry nothing the engine uses, and they do not move the
 * watermark either: the data sources (the scanners' batches) do. A status is too rare to pace it (the
 * simulator's agent speaks at connect and disconnect only, an edge agent every `status.intervalS`), and
 * its event time is not always its source's: the gateway stamps an offline status (a last will's
 * payload is written at connect time) and one without `ts` when it arrives, so traffic replayed late (an
 * edge's queue, a backfill) would carry the agent far ahead of every other source, leaving them past
 * maxSourceLag behind; the watermark would jump to the gateway's clock, close every open visit at once
 * and drop the sightings still to come as late. And a stamped status at the start of a run, never
 * followed by another, would hold the watermark back by itself until maxSourceLag.
 */
function isStatus(record: LogRecord): boolean {
  return record.kind === 'status';
}

/** The sensors' clocks drift slowly (unsynchronised ones by up to ±50 ppm: 0.2 s an hour): estimated again hourly. */
const CLOCK_REFRESH_MS = 60 * 60_000;

interface EngineState {
  version: 1;
  /** Every log record up to this seq is in the windows. */
  position: number;
  stores: Record<string, StoreWindowState & { pending: ExperienceEvent[]; wifi?: WifiVisitsState }>;
}

export class ExperienceSink implements Sink {
  readonly name = 'experience';
  readonly holdsBackIngest = false;
  private readonly stores = new Map<string, EngineStore>();
  private readonly params: PresenceParams;
  private readonly windowOptions: StoreWindowOptions;
  private position = 0;
  private busy: Promise<void> = Promise.resolve();
  private readonly syncs = new SyncCounter();
  private readonly eventsTotal: Counter<'store' | 'type'>;
  private readonly droppedTotal: Counter<'store' | 'reason'>;
  private readonly log: Logger;

  constructor(private readonly options: ExperienceSinkOptions) {
    this.log = options.log.child({ module: 'experience' });
    this.params = options.params ?? DEFAULT_PRESENCE_PARAMS;
    this.windowOptions = {
      finalizeEveryMs: options.finalizeEveryMs,
      maxGapMs: this.params.maxGapMs,
      maxSourceLagMs: options.maxSourceLagMs,
      lateToleranceMs: options.lateToleranceMs,
      maxVisitMs: options.maxVisitMs,
      ...(options.maxOpenDevices === undefined ? {} : { maxOpenDevices: options.maxOpenDevices }),
    };
    for (const store of options.stores) {
      if (store.layout === undefined) continue;
      this.stores.set(store.id, {
        config: store,
        model: presenceStore(store),
        touchpoints: store.touchpoints.map((t) => ({ id: t.id, zone: t.zone })),
        window: new StoreWindow(this.windowOptions, this.hoursOf(store)),
        wifi: this.wifiOf(store),
        pending: [],
      });
    }
    const registers = [options.registry];
    this.eventsTotal = new Counter({
      name: 'storeloop_experience_events_total',
      help: 'Final experience events the engine appended to the log, by type (visit, zone_stay, exposure, occupancy)',
      labelNames: ['store', 'type'],
      registers,
    });
    this.droppedTotal = new Counter({
      name: 'storeloop_experience_dropped_total',
      help: 'Sightings, wifi observations and interactions the engine could not use: stamped before a boundary it had already processed (late_closed, late_wifi, late_interaction), or of a new device while maxOpenDevices were open (window_full)',
      labelNames: ['store', 'reason'],
      registers,
    });
    registerExperienceGauges(registers, this.stores);
  }

  async start(): Promise<void> {
    await mkdir(this.options.dir, { recursive: true });
    let text: string;
    try {
      text = await readFile(join(this.options.dir, STATE_FILE), 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw err;
    }
    let state: EngineState;
    try {
      state = JSON.parse(text) as EngineState;
      if (state.version !== 1) throw new Error(`version ${String(state.version)}`);
    } catch (err) {
      throw new StoreloopError('SL_ERR_EXPERIENCE_STATE', `the experience engine's state file cannot be read: ${(err as Error).message}`, {
        file: join(this.options.dir, STATE_FILE),
      });
    }
    this.position = state.position;
    for (const [id, windowState] of Object.entries(state.stores)) {
      const store = this.stores.get(id);
      if (store === undefined) continue;
      store.window = StoreWindow.fromState(this.windowOptions, windowState, this.hoursOf(store.config));
      store.wifi = this.wifiOf(store.config, windowState.wifi);
      store.pending = windowState.pending;
    }
    this.log.info({ position: this.position, stores: Object.keys(state.stores).length }, 'experience engine: state restored');
  }

  deliver(records: readonly LogRecord[]): Promise<SinkOutcome[]> {
    return this.exclusive(() => this.take(records));
  }

  /** Writes the windows as of every record taken in so far (at or past `position`, the runner's). */
  persist(position: number): Promise<void> {
    return this.exclusive(async () => {
      const state: EngineState = { version: 1, position: Math.max(position, this.position), stores: {} };
      for (const [id, store] of this.stores) state.stores[id] = { ...store.window.toState(), pending: store.pending, wifi: store.wifi.toState() };
      await replaceFileDurably(this.options.dir, STATE_FILE, JSON.stringify(state), this.syncs);
    });
  }

  /** Runs `work` after the previous delivery or persist: the state written is never half a batch. */
  private exclusive<T>(work: () => Promise<T>): Promise<T> {
    const run = this.busy.then(work);
    this.busy = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  private async take(records: readonly LogRecord[]): Promise<SinkOutcome[]> {
    const outcomes: SinkOutcome[] = [];
    const touched = new Set<string>();
    for (const record of records) {
      if (record.seq <= this.position) {
        outcomes.push('delivered'); // already in the restored state
        continue;
      }
      outcomes.push(this.absorb(record, touched));
    }
    const last = records[records.length - 1];
    if (last !== undefined) this.position = Math.max(this.position, last.seq);
    for (const id of touched) await this.finalize(id);
    return outcomes;
  }

  /** Takes one record into its store's window; what the engine does not use is `filtered`. */
  private absorb(record: LogRecord, touched: Set<string>): SinkOutcome {
    const storeId = record.source.storeId;
    const store = this.stores.get(storeId);
    if (store === undefined || record.kind === 'experience') return 'filtered';
    if (isStatus(record)) return 'filtered';
    const { window } = store;
    window.heard(record.source.sourceId, record.eventTime, record.source.role === 'sensor' || record.source.role === 'agent');
    touched.add(storeId);
    if (record.kind === 'ble') {
      if (!store.model.scanners.has(record.source.sourceId)) return 'filtered';
      window.addReport(record.source.sourceId, record.eventTime);
      for (const s of record.message.sightings) {
        const late = window.addSighting({ ts: record.eventTime, sensor: record.source.sourceId, device: s.id, rssi: s.rssi });
        if (late !== undefined) this.droppedTotal.inc({ store: storeId, reason: late });
      }
      return 'delivered';
    }
    if (record.kind === 'wifi') {
      if (!store.config.sensors.some((s) => s.id === record.source.sourceId && s.type === 'wifi')) return 'filtered';
      store.wifi.report(record.eventTime);
      for (const o of record.message.observations) {
        const dropped = store.wifi.add({ ts: record.eventTime, sensor: record.source.sourceId, id: o.id, rssi: o.rssi, randomized: o.randomized });
        if (dropped !== undefined) this.droppedTotal.inc({ store: storeId, reason: dropped });
      }
      return 'delivered';
    }
    if (record.kind === 'touchpoint') {
      const beacon = record.message.beacon;
      // a consent choice is not a use of the touchpoint: no interaction for an exposure (nor for the evaluation's truth)
      if (beacon === undefined || isConsentAction(record.message.action)) return 'filtered';
      if (!window.addInteraction({ ts: record.eventTime, touchpoint: record.source.sourceId, device: beacon })) {
        this.droppedTotal.inc({ store: storeId, reason: 'late_interaction' });
      }
      return 'delivered';
    }
    return 'filtered'; // its event time moved the watermark; its content is not used yet
  }

  /** Processes every boundary the store's watermark has passed, in order, and appends what became final. */
  private async finalize(storeId: string): Promise<void> {
    const store = this.stores.get(storeId) as EngineStore;
    await this.appendPending(storeId, store);
    for (let boundary = store.window.nextBoundary(); boundary !== null; boundary = store.window.nextBoundary()) {
      store.pending = this.eventsAt(storeId, store, boundary);
      await this.appendPending(storeId, store);
    }
  }

  /** Appends the events of the last boundary; if that fails they stay pending (and in the state) for the retry. */
  private async appendPending(storeId: string, store: EngineStore): Promise<void> {
    if (store.pending.length === 0) return;
    await this.options.derivedLog.append(storeId, store.pending);
    for (const event of store.pending) this.eventsTotal.inc({ store: storeId, type: event.type });
    store.pending = [];
  }

  /** The store's wifi visits, fresh or from its state. */
  private wifiOf(store: StoreConfig, state?: WifiVisitsState): WifiVisits {
    const options = {
      params: this.options.wifiParams ?? DEFAULT_WIFI_PARAMS,
      maxGapMs: this.params.maxGapMs,
      maxVisitMs: this.options.maxVisitMs,
      ...(this.options.maxOpenDevices === undefined ? {} : { maxOpen: this.options.maxOpenDevices }),
    };
    return new WifiVisits(store.id, store, this.hoursOf(store), options, state);
  }

  /** The opening hours the staff rules go by: none (rule off) when closed hours are not to mean staff. */
  private hoursOf(store: StoreConfig): StoreHours {
    return this.options.closedHoursAreStaff === false ? { timezone: store.timezone } : store;
  }

  private eventsAt(storeId: string, store: EngineStore, boundary: number): ExperienceEvent[] {
    const closed = store.window.close(boundary);
    if (closed.statics.length > 0) this.log.info({ store: storeId, devices: closed.statics.length }, 'experience engine: devices classed static (no visit)');
    if (closed.staff.length > 0) this.log.info({ store: storeId, devices: closed.staff.length }, "experience engine: staff's tracks (no visit)");
    if (closed.droppedFull > 0)
      this.log.warn(
        { store: storeId, sightings: closed.droppedFull },
        'experience engine: too many devices open at once (a flood of ids?): sightings of new devices dropped',
      );
    const wifi = store.wifi.close(boundary);
    if (wifi.counts.static + wifi.counts.staff > 0)
      this.log.info({ store: storeId, ...wifi.counts }, 'experience engine: wifi tracks closed, some static or staff');
    if (wifi.droppedFull > 0)
      this.log.warn({ store: storeId, observations: wifi.droppedFull }, 'experience engine: too many wifi pseudonyms open: new ones dropped');
    const events: ExperienceEvent[] = [...wifi.events];
    if (closed.devices.length > 0) {
      const anchors = touchpointAnchors(
        store.config,
        closed.interactions.map((i) => ({ ts: i.ts, touchpoint: i.touchpoint, beacon: i.device })),
      );
      const assignment = assignZones(store.model, closed.rows, this.params, { anchors, clock: this.clockAt(store, closed), reports: closed.reports });
      const entrances = entranceZones(store.config);
      for (const device of closed.devices) {
        const zones = assignment.devices.get(device);
        if (zones === undefined) continue;
        const interactions = closed.interactions.filter((i) => i.device === device);
        for (const segments of visitSegments(zones.segments)) {
          const passer = passerByEvent(storeId, device, segments, { params: this.params, entrances, maxVisitMs: this.options.maxVisitMs });
          if (passer !== undefined) {
            events.push(passer);
            continue;
          }
          const visit = visitEvents(storeId, device, segments, {
            params: this.params,
            maxVisitMs: this.options.maxVisitMs,
            touchpoints: store.touchpoints,
            interactions,
            deviceMinutes: zones.minutes,
            deviceStays: zones.stays,
          });
          if (visit === undefined) continue;
          events.push(visit.visit, ...visit.stays, ...visit.exposures);
          for (const [minute, zone] of visit.minutes) {
            if (store.window.occupancyFrom !== null && minute < store.window.occupancyFrom) continue; // emitted already
            if (!heardIn(minute, visit.visit)) continue;
            const counts = store.window.occupancy.get(minute) ?? new Map<string, number>();
            counts.set(zone, (counts.get(zone) ?? 0) + 1);
            store.window.occupancy.set(minute, counts);
          }
        }
      }
    }
    events.push(...this.finalOccupancy(storeId, store));
    return events;
  }

  /**
   * The sensors' clocks for a boundary: estimated from every sighting in the window (the open devices'
   * too: far more evidence than the few devices that closed), again every CLOCK_REFRESH_MS of event time.
   */
  private clockAt(store: EngineStore, closed: ClosedDevices): StepClock {
    const { window } = store;
    if (window.clock === null || closed.boundary - window.clock.at >= CLOCK_REFRESH_MS) {
      const known = closed.clockRows.filter((r) => store.model.scanners.has(r.sensor));
      window.clock = { at: closed.boundary, clock: estimateStepClock(known, this.params.stepMs, this.params.maxClockOffsetMs) };
    }
    return window.clock.clock;
  }

  /** Occupancy of the minutes before any open visit (with its imputed lead-in) could reach, zeros included. */
  private finalOccupancy(storeId: string, store: EngineStore): OccupancyEvent[] {
    const { window } = store;
    if (window.occupancyFrom === null) return [];
    const until = Math.floor(window.openFrom(this.params.edgeExtendMs, this.options.occupancyHoldMs) / MINUTE_MS) * MINUTE_MS;
    const params = definitionParams(this.params, this.options.maxVisitMs);
    const out: OccupancyEvent[] = [];
    for (let minute = window.occupancyFrom; minute < until; minute += MINUTE_MS) {
      const counts = window.occupancy.get(minute);
      for (const zone of store.model.zones) {
        out.push({
          type: 'occupancy',
          id: `occupancy-${storeId}-${zone}-${minute}`,
          zone,
          minute,
          devices: counts?.get(zone) ?? 0,
          definition: DEFINITIONS.occupancy,
          params,
        });
      }
      window.occupancy.delete(minute);
    }
    if (until > window.occupancyFrom) window.occupancyFrom = until;
    return out;
  }
}
