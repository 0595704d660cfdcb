/**
 * One store's open window for the experience engine, in event time: the BLE sightings of devices whose
 * visits are not final yet, the touchpoint interactions that carry a beacon id, each source's newest
 * event time (the watermark), and the occupancy counts of minutes not final yet. Compact and
 * serialisable (the sink checkpoints it), so a long-open visit never pins the event log.
 *
 * Watermark: the oldest of the sources' newest event times, over the sources that are not more than
 * `maxSourceLagMs` behind the store's newest. An edge agent that is offline holds it back (its
 * replay lands in place) until it falls that far behind; then the others go on without it, and what
 * it replays later than that is late.
 *
 * Determinism: what is decided at a boundary B (which devices closed, which are static, the rows
 * handed out) depends only on the sightings stamped before B, all of which are in once the watermark
 * has passed B. Sightings stamped after B that arrived early wait for their own boundary. So the same
 * sightings give the same decisions whatever order and batches they arrive in.
 */
import type { BleObservation, ScanReport, StepClock } from './observations.js';
import { StaffDays, type StaffDaysState, type StoreHours } from './staff-days.js';
import { MIN_VISIT_MS } from './visit-events.js';

export interface StoreWindowOptions {
  /** Boundaries at which closed visits are finalised, ms (event time, epoch-aligned). */
  finalizeEveryMs: number;
  /** A device unheard for longer than this has left: its visit closes (the engine's maxGapMs). */
  maxGapMs: number;
  /** A source further behind the store's newest event time than this no longer holds the watermark back. */
  maxSourceLagMs: number;
  /**
   * A boundary is processed once the watermark is this far past it: room for the ordinary delay of a
   * message (and for sources that send only when something happens, touchpoints and devices, which do
   * not hold the watermark back).
   */
  lateToleranceMs: number;
  /** A device heard for longer than this without a gap is static (store equipment, a phone left behind, staff). */
  maxVisitMs: number;
  /**
   * At most this many devices open at once (static ones included): a new device's sightings beyond it
   * are dropped (`window_full`). A store never has that many; a flood of ids does (BLE advertising
   * spam with random addresses, a scanner gone wrong), and would otherwise grow the window, its
   * persisted state and the next boundary's work without bound. Absent: no bound.
   */
  maxOpenDevices?: number;
}

/** A touchpoint interaction that names the visitor's beacon. */
export interface BeaconInteraction {
  ts: number;
  touchpoint: string;
  device: string;
}

/** What one boundary hands to the engine: the devices whose visits closed, with their evidence. */
export interface ClosedDevices {
  boundary: number;
  rows: BleObservation[];
  interactions: BeaconInteraction[];
  devices: string[];
  /** Devices classed static at this boundary. */
  statics: string[];
  /** Devices whose track closed at this boundary but is staff's (staff-days.ts): no visit, no occupancy. */
  staff: string[];
  /** Every sighting in the window stamped before the boundary (the closed devices' and the open ones'): for the sensors' clocks. */
  clockRows: BleObservation[];
  /**
   * Every BLE scan report from the closed devices' first sighting to the boundary (of any device,
   * store beacons and static devices included, and empty ones): which scanners were listening
   * when a closed device was not heard (ZoneEvidence `reports`).
   */
  reports: ScanReport[];
  /** Sightings of new devices dropped since the last boundary because the window was full (`window_full`). */
  droppedFull: number;
}

type Row = [ts: number, sensor: string, device: string, rssi: number];

/** The serialised window (version 1). */
export interface StoreWindowState {
  v: 1;
  ble: Row[];
  interactions: Array<[ts: number, touchpoint: string, device: string]>;
  sources: Array<[source: string, newest: number]>;
  /** Static devices with their sightings since the last boundary minus maxGap (dropped from visits). */
  statics: Array<[device: string, rows: Row[]]>;
  boundary: number | null;
  occupancyFrom: number | null;
  occupancy: Array<[minute: number, zone: string, devices: number]>;
  /** The sensors' clocks as last estimated, and the boundary they were estimated at. */
  clock: { at: number; stepMs: number; phaseMs: number; offsets: Array<[sensor: string, ms: number]> } | null;
  /** Devices classed staff per local day, and their time heard that day (absent in states written before). */
  staffDays?: StaffDaysState;
  /** Each scanner's scan report stamps still needed by an open device (absent in states written before). */
  reports?: Array<[sensor: string, stamps: number[]]>;
}

/** Why a sighting was dropped: stamped before a boundary already processed, or a new device with the window full. */
export type LateReason = 'late_closed' | 'window_full';

const byTs = (a: BleObservation, b: BleObservation) =>
  a.ts - b.ts || (a.device < b.device ? -1 : a.device > b.device ? 1 : 0) || (a.sensor < b.sensor ? -1 : a.sensor > b.sensor ? 1 : 0) || a.rssi - b.rssi;

const toRow = (r: BleObservation): Row => [r.ts, r.sensor, r.device, r.rssi];
const fromRow = ([ts, sensor, device, rssi]: Row): BleObservation => ({ ts, sensor, device, rssi });

export class StoreWindow {
  /** Open devices' sightings (a device is open while it has any). */
  private readonly devices = new Map<string, BleObservation[]>();
  private interactions: BeaconInteraction[] = [];
  private readonly sources = new Map<string, number>();
  /** Static devices, with their recent sightings (kept to tell when they left, then dropped). */
  private readonly statics = new Map<string, BleObservation[]>();
  /** Scanner → stamps of its scan reports not yet before every open device's first sighting (pruned at each boundary). */
  private readonly reports = new Map<string, Set<number>>();
  /** Sightings dropped with `window_full` since the last boundary (reported with the next one; not persisted). */
  private droppedFull = 0;
  /** The last boundary processed (null: none yet). */
  boundary: number | null = null;
  /** The first minute whose occupancy is not emitted yet (null: nothing seen yet). */
  occupancyFrom: number | null = null;
  /** Occupancy counts of minutes not emitted yet: minute → zone → devices. */
  readonly occupancy = new Map<number, Map<string, number>>();
  /** The sensors' clocks as last estimated (from the whole window), and the boundary they were estimated at. */
  clock: { at: number; clock: StepClock } | null = null;

  /** Which devices are staff today (staff-days.ts). */
  private staffDays: StaffDays;

  /** `hours`: the store's opening hours and time zone (absent: not known, only the day and static rules apply). */
  constructor(
    private readonly options: StoreWindowOptions,
    private readonly hours: StoreHours = { timezone: 'UTC' },
  ) {
    this.staffDays = new StaffDays(hours, { maxVisitMs: options.maxVisitMs, minTrackMs: MIN_VISIT_MS });
  }

  /**
   * A record's event time. `periodic`: its source reports all the time (a scanner's batches, an
   * agent's own sightings), so its newest event time moves the watermark; sources that send only when
   * something happens (touchpoints, devices) do not, nor do statuses (experience-sink.ts).
   */
  heard(source: string, ts: number, periodic: boolean): void {
    if (periodic) {
      const newest = this.sources.get(source);
      if (newest === undefined || ts > newest) this.sources.set(source, ts);
    }
    if (this.occupancyFrom === null) this.occupancyFrom = Math.floor(ts / 60_000) * 60_000;
  }

  /**
   * A scanner's scan report, whatever it heard (empty, store beacons, visitors): the scanner was
   * listening then. One stamped before a boundary already processed is dropped, as its sightings are.
   */
  addReport(sensor: string, ts: number): void {
    if (this.boundary !== null && ts < this.boundary) return;
    const stamps = this.reports.get(sensor) ?? new Set<number>();
    stamps.add(ts);
    this.reports.set(sensor, stamps);
  }

  /** A BLE sighting; returns why it was dropped, or undefined when kept. */
  addSighting(row: BleObservation): LateReason | undefined {
    // stamped before a boundary already processed: what it belonged to was decided without it
    if (this.boundary !== null && row.ts < this.boundary) return 'late_closed';
    const staticRows = this.statics.get(row.device);
    if (staticRows !== undefined) staticRows.push(row);
    else {
      const rows = this.devices.get(row.device);
      if (rows !== undefined) rows.push(row);
      else if (this.devices.size + this.statics.size >= (this.options.maxOpenDevices ?? Infinity)) {
        this.droppedFull += 1;
        return 'window_full';
      } else this.devices.set(row.device, [row]);
    }
    return undefined;
  }

  /** An interaction naming a beacon; false when it is stamped before a boundary already processed. */
  addInteraction(interaction: BeaconInteraction): boolean {
    if (this.boundary !== null && interaction.ts < this.boundary) return false;
    this.interactions.push(interaction);
    return true;
  }

  /** The store's watermark (event time up to which every source's data is in), or null before any. */
  watermark(): number | null {
    let newest = -Infinity;
    for (const ts of this.sources.values()) newest = Math.max(newest, ts);
    if (newest === -Infinity) return null;
    let mark = newest;
    for (const ts of this.sources.values()) if (ts >= newest - this.options.maxSourceLagMs) mark = Math.min(mark, ts);
    return mark;
  }

  /** The next boundary to process, when the watermark has passed it. */
  nextBoundary(): number | null {
    const mark = this.watermark();
    if (mark === null || this.occupancyFrom === null) return null;
    const every = this.options.finalizeEveryMs;
    const next = this.boundary === null ? Math.floor(this.occupancyFrom / every) * every + every : this.boundary + every;
    return next + this.options.lateToleranceMs <= mark ? next : null;
  }

  /**
   * Moves to `boundary`. Over each device's sightings stamped before it: heard for longer than
   * maxVisitMs → static (dropped; its later sightings too, until it has been unheard for maxGapMs);
   * unheard for maxGapMs before the boundary → closed, handed out with its interactions and removed
   * (sightings stamped after the boundary start its next visit), unless its track is staff's
   * (staff-days.ts: started while the store was closed, or the device's day adds up to more than
   * maxVisitMs, or it was static today): then removed without a visit.
   */
  close(boundary: number): ClosedDevices {
    this.boundary = boundary;
    const { maxGapMs, maxVisitMs } = this.options;
    const out: ClosedDevices = {
      boundary,
      rows: [],
      interactions: [],
      devices: [],
      statics: [],
      staff: [],
      clockRows: [],
      reports: [],
      droppedFull: this.droppedFull,
    };
    this.droppedFull = 0;
    // a track closing from here on started after this (else it would be static): older days are done
    this.staffDays.prune(boundary - maxVisitMs - maxGapMs - this.options.finalizeEveryMs);
    for (const [device, rows] of this.statics) {
      const recent = rows.filter((r) => r.ts >= boundary - maxGapMs);
      if (recent.some((r) => r.ts < boundary)) this.statics.set(device, recent);
      else {
        // it left: what it sent after the boundary is a new candidate visit
        this.statics.delete(device);
        if (recent.length > 0) this.devices.set(device, recent);
      }
    }
    const closed = new Set<string>();
    for (const device of [...this.devices.keys()].sort()) {
      const rows = this.devices.get(device) as BleObservation[];
      const before = rows.filter((r) => r.ts < boundary);
      if (before.length === 0) continue;
      out.clockRows.push(...before);
      let first = Infinity;
      let last = -Infinity;
      for (const r of before) {
        first = Math.min(first, r.ts);
        last = Math.max(last, r.ts);
      }
      if (last - first > maxVisitMs) {
        this.devices.delete(device);
        this.statics.set(device, rows);
        out.statics.push(device);
        this.staffDays.markStatic(device, last);
      } else if (last < boundary - maxGapMs) {
        if (this.staffDays.closeTrack(device, first, last) === null) {
          closed.add(device);
          out.devices.push(device);
          out.rows.push(...before);
        } else out.staff.push(device);
        const after = rows.filter((r) => r.ts >= boundary);
        if (after.length > 0) this.devices.set(device, after);
        else this.devices.delete(device);
      }
    }
    const keep: BeaconInteraction[] = [];
    for (const interaction of this.interactions) {
      if (interaction.ts < boundary && closed.has(interaction.device)) out.interactions.push(interaction);
      else if (interaction.ts >= boundary - maxGapMs || this.devices.has(interaction.device)) keep.push(interaction);
    }
    this.interactions = keep;
    out.interactions.sort((a, b) => a.ts - b.ts || (a.touchpoint < b.touchpoint ? -1 : a.touchpoint > b.touchpoint ? 1 : 0));
    out.rows.sort(byTs);
    out.clockRows.sort(byTs);
    out.reports = this.reportsBetween(out.rows[0]?.ts ?? boundary, boundary);
    this.pruneReports(boundary);
    return out;
  }

  /** The scan reports stamped in [from, to), by stamp then scanner. */
  private reportsBetween(from: number, to: number): ScanReport[] {
    const out: ScanReport[] = [];
    for (const [sensor, stamps] of this.reports) for (const ts of stamps) if (ts >= from && ts < to) out.push({ ts, sensor });
    return out.sort((a, b) => a.ts - b.ts || (a.sensor < b.sensor ? -1 : a.sensor > b.sensor ? 1 : 0));
  }

  /**
   * Drops the scan reports no open device can need: before the earliest sighting of an open device,
   * and before `boundary − maxGapMs` (a static device that leaves starts a visit from its sightings
   * since then; a new device's are stamped after the boundary).
   */
  private pruneReports(boundary: number): void {
    let from = boundary - this.options.maxGapMs;
    for (const rows of this.devices.values()) for (const r of rows) from = Math.min(from, r.ts);
    for (const [sensor, stamps] of this.reports) {
      for (const ts of stamps) if (ts < from) stamps.delete(ts);
      if (stamps.size === 0) this.reports.delete(sensor);
    }
  }

  /**
   * Up to when occupancy is final: the earliest event time a device open for less than `holdMs` may
   * still add to (its first sighting minus the imputed lead-in), and never more than `holdMs` before
   * the boundary.
   */
  openFrom(leadInMs: number, holdMs: number): number {
    const boundary = this.boundary ?? 0;
    let from = boundary - leadInMs;
    for (const rows of this.devices.values()) {
      let first = Infinity;
      for (const r of rows) first = Math.min(first, r.ts);
      if (first >= boundary - holdMs) from = Math.min(from, first - leadInMs);
    }
    return Math.max(from, boundary - holdMs);
  }

  get openDevices(): number {
    return this.devices.size;
  }

  get staticDevices(): number {
    return this.statics.size;
  }

  /** Devices classed staff for their current day. */
  get staffDevices(): number {
    return this.staffDays.staffDevices;
  }

  toState(): StoreWindowState {
    const ble: Row[] = [];
    for (const rows of this.devices.values()) for (const r of rows) ble.push(toRow(r));
    const occupancy: StoreWindowState['occupancy'] = [];
    for (const [minute, zones] of this.occupancy) for (const [zone, n] of zones) occupancy.push([minute, zone, n]);
    return {
      v: 1,
      ble,
      interactions: this.interactions.map((i) => [i.ts, i.touchpoint, i.device]),
      sources: [...this.sources],
      statics: [...this.statics].map(([device, rows]) => [device, rows.map(toRow)]),
      boundary: this.boundary,
      occupancyFrom: this.occupancyFrom,
      occupancy,
      clock:
        this.clock === null
          ? null
          : { at: this.clock.at, stepMs: this.clock.clock.stepMs, phaseMs: this.clock.clock.phaseMs, offsets: [...this.clock.clock.offsets] },
      staffDays: this.staffDays.toState(),
      reports: [...this.reports].map(([sensor, stamps]) => [sensor, [...stamps].sort((a, b) => a - b)]),
    };
  }

  static fromState(options: StoreWindowOptions, state: StoreWindowState, hours?: StoreHours): StoreWindow {
    const window = new StoreWindow(options, hours);
    window.staffDays = StaffDays.fromState(window.hours, { maxVisitMs: options.maxVisitMs, minTrackMs: MIN_VISIT_MS }, state.staffDays);
    window.boundary = state.boundary;
    window.occupancyFrom = state.occupancyFrom;
    for (const [source, ts] of state.sources) window.sources.set(source, ts);
    for (const [device, rows] of state.statics) window.statics.set(device, rows.map(fromRow));
    for (const [sensor, stamps] of state.reports ?? []) window.reports.set(sensor, new Set(stamps));
    for (const row of state.ble) {
      const r = fromRow(row);
      const rows = window.devices.get(r.device);
      if (rows === undefined) window.devices.set(r.device, [r]);
      else rows.push(r);
    }
    window.interactions = state.interactions.map(([ts, touchpoint, device]) => ({ ts, touchpoint, device }));
    if (state.clock !== null) {
      const { at, stepMs, phaseMs, offsets } = state.clock;
      window.clock = { at, clock: { stepMs, phaseMs, offsets: new Map(offsets) } };
    }
    for (const [minute, zone, n] of state.occupancy) {
      const zones = window.occupancy.get(minute) ?? new Map<string, number>();
      zones.set(zone, n);
      window.occupancy.set(minute, zones);
    }
    return window;
  }
}
