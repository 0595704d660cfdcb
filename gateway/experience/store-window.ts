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
 */
import type { BleObservation } from './observations.js';

export interface StoreWindowOptions {
  /** Boundaries at which closed visits are finalised, ms (event time, epoch-aligned). */
  finalizeEveryMs: number;
  /** A device unheard for longer than this has left: its visit closes (the engine's maxGapMs). */
  maxGapMs: number;
  /** A source further behind the store's newest event time than this no longer holds the watermark back. */
  maxSourceLagMs: number;
  /** A device heard continuously for longer than this is static (store equipment, a phone left behind, staff). */
  maxVisitMs: number;
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
}

/** The serialised window (version 1). */
export interface StoreWindowState {
  v: 1;
  ble: Array<[ts: number, sensor: string, device: string, rssi: number]>;
  interactions: Array<[ts: number, touchpoint: string, device: string]>;
  sources: Array<[source: string, newest: number]>;
  statics: Array<[device: string, lastHeard: number]>;
  boundary: number | null;
  occupancyFrom: number | null;
  occupancy: Array<[minute: number, zone: string, devices: number]>;
}

interface OpenDevice {
  first: number;
  last: number;
  rows: BleObservation[];
}

export type LateReason = 'late_closed' | 'late_static';

export class StoreWindow {
  private readonly devices = new Map<string, OpenDevice>();
  private interactions: BeaconInteraction[] = [];
  private readonly sources = new Map<string, number>();
  /** Static devices and when they were last heard: ignored until unheard for maxGapMs. */
  private readonly statics = new Map<string, number>();
  /** The last boundary processed (null: none yet). */
  boundary: number | null = null;
  /** The first minute whose occupancy is not emitted yet (null: nothing seen yet). */
  occupancyFrom: number | null = null;
  /** Occupancy counts of minutes not emitted yet: minute → zone → devices. */
  readonly occupancy = new Map<number, Map<string, number>>();

  constructor(private readonly options: StoreWindowOptions) {}

  /** A source's event time (any record it sent): moves the watermark. */
  heard(source: string, ts: number): void {
    const newest = this.sources.get(source);
    if (newest === undefined || ts > newest) this.sources.set(source, ts);
    if (this.occupancyFrom === null) this.occupancyFrom = Math.floor(ts / 60_000) * 60_000;
  }

  /** A BLE sighting; returns why it was dropped, or undefined when kept. */
  addSighting(row: BleObservation): LateReason | undefined {
    const staticSince = this.statics.get(row.device);
    if (staticSince !== undefined) {
      this.statics.set(row.device, Math.max(staticSince, row.ts));
      return 'late_static';
    }
    const open = this.devices.get(row.device);
    if (open === undefined) {
      // a device first heard before the last boundary: its visit may have been finalised without this
      if (this.boundary !== null && row.ts < this.boundary) return 'late_closed';
      this.devices.set(row.device, { first: row.ts, last: row.ts, rows: [row] });
      return undefined;
    }
    if (this.boundary !== null && row.ts < Math.min(open.first, this.boundary)) return 'late_closed';
    open.rows.push(row);
    if (row.ts < open.first) open.first = row.ts;
    if (row.ts > open.last) open.last = row.ts;
    return undefined;
  }

  /** An interaction naming a beacon; false when it is too late to count for a visit. */
  addInteraction(interaction: BeaconInteraction): boolean {
    if (this.boundary !== null && interaction.ts < this.boundary - this.options.maxGapMs && !this.devices.has(interaction.device)) return false;
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
    return next <= mark ? next : null;
  }

  /**
   * Moves to `boundary`: devices heard continuously longer than maxVisitMs become static (their rows
   * dropped), devices unheard for maxGapMs before it are closed and handed out with their rows and
   * interactions (and leave the window), statics unheard that long are forgotten.
   */
  close(boundary: number): ClosedDevices & { statics: string[] } {
    this.boundary = boundary;
    const { maxGapMs, maxVisitMs } = this.options;
    const out: ClosedDevices & { statics: string[] } = { boundary, rows: [], interactions: [], devices: [], statics: [] };
    for (const [device, lastHeard] of this.statics) if (lastHeard < boundary - maxGapMs) this.statics.delete(device);
    const closed = new Set<string>();
    for (const [device, open] of [...this.devices].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
      if (open.last - open.first > maxVisitMs) {
        this.statics.set(device, open.last);
        this.devices.delete(device);
        out.statics.push(device);
      } else if (open.last < boundary - maxGapMs) {
        closed.add(device);
        out.devices.push(device);
        for (const row of open.rows) out.rows.push(row);
        this.devices.delete(device);
      }
    }
    const keep: BeaconInteraction[] = [];
    for (const interaction of this.interactions) {
      if (closed.has(interaction.device)) out.interactions.push(interaction);
      else if (this.devices.has(interaction.device) || interaction.ts >= boundary - maxGapMs) keep.push(interaction);
    }
    this.interactions = keep;
    out.interactions.sort((a, b) => a.ts - b.ts || (a.touchpoint < b.touchpoint ? -1 : a.touchpoint > b.touchpoint ? 1 : 0));
    out.rows.sort((a, b) => a.ts - b.ts || (a.device < b.device ? -1 : a.device > b.device ? 1 : 0) || (a.sensor < b.sensor ? -1 : 1) || a.rssi - b.rssi);
    return out;
  }

  /**
   * Up to when occupancy is final: the earliest event time a device open for less than `holdMs` may
   * still add to (its first sighting minus the imputed lead-in), and never more than `holdMs` before
   * the boundary.
   */
  openFrom(leadInMs: number, holdMs: number): number {
    const boundary = this.boundary ?? 0;
    let from = boundary - leadInMs;
    for (const open of this.devices.values()) if (open.first >= boundary - holdMs) from = Math.min(from, open.first - leadInMs);
    return Math.max(from, boundary - holdMs);
  }

  get openDevices(): number {
    return this.devices.size;
  }

  get staticDevices(): number {
    return this.statics.size;
  }

  toState(): StoreWindowState {
    const ble: StoreWindowState['ble'] = [];
    for (const open of this.devices.values()) for (const r of open.rows) ble.push([r.ts, r.sensor, r.device, r.rssi]);
    const occupancy: StoreWindowState['occupancy'] = [];
    for (const [minute, zones] of this.occupancy) for (const [zone, n] of zones) occupancy.push([minute, zone, n]);
    return {
      v: 1,
      ble,
      interactions: this.interactions.map((i) => [i.ts, i.touchpoint, i.device]),
      sources: [...this.sources],
      statics: [...this.statics],
      boundary: this.boundary,
      occupancyFrom: this.occupancyFrom,
      occupancy,
    };
  }

  static fromState(options: StoreWindowOptions, state: StoreWindowState): StoreWindow {
    const window = new StoreWindow(options);
    window.boundary = state.boundary;
    window.occupancyFrom = state.occupancyFrom;
    for (const [source, ts] of state.sources) window.sources.set(source, ts);
    for (const [device, last] of state.statics) window.statics.set(device, last);
    for (const [ts, sensor, device, rssi] of state.ble) {
      const open = window.devices.get(device);
      const row = { ts, sensor, device, rssi };
      if (open === undefined) window.devices.set(device, { first: ts, last: ts, rows: [row] });
      else {
        open.rows.push(row);
        open.first = Math.min(open.first, ts);
        open.last = Math.max(open.last, ts);
      }
    }
    window.interactions = state.interactions.map(([ts, touchpoint, device]) => ({ ts, touchpoint, device }));
    for (const [minute, zone, n] of state.occupancy) {
      const zones = window.occupancy.get(minute) ?? new Map<string, number>();
      zones.set(zone, n);
      window.occupancy.set(minute, zones);
    }
    return window;
  }
}
