/**
 * Store geometry in metres: zone rectangles, where each BLE/wifi sensor and fixed beacon hangs, and
 * which zones a visitor can walk between (zones that share a wall segment of at least a metre).
 * The demo store has a hand-made plan; any other store is laid out on a grid.
 */
import type { StoreConfig } from '../config/index.js';
import { DEMO_STORE_ID } from '../config/index.js';
import { createRng, type Rng } from './prng.js';

export type ZoneKind = StoreConfig['zones'][number]['kind'];

export interface Point {
  x: number;
  y: number;
}

export interface ZoneRect {
  id: string;
  kind: ZoneKind;
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface PlacedSensor extends Point {
  id: string;
  type: 'ble' | 'wifi';
  zone: string;
}

export interface FixedBeacon extends Point {
  /** `eddystone:<namespace>:<instance>` */
  id: string;
  zone: string;
}

export interface FloorPlan {
  layout: 'demo' | 'grid';
  widthM: number;
  depthM: number;
  zones: ZoneRect[];
  /** Zones a visitor enters and leaves the store through (zone kind `entrance`, else the first zone). */
  entrances: string[];
  sensors: PlacedSensor[];
  beacons: FixedBeacon[];
  /** Zone id → ids of zones sharing a wall segment with it, in the store's zone order. */
  adjacency: Record<string, string[]>;
}

/** Hand-made demo floor plan (24 m × 18 m, door at the front middle). */
const DEMO_RECTS: Readonly<Record<string, Omit<ZoneRect, 'id' | 'kind'>>> = {
  entrance: { x: 8, y: 0, width: 6, height: 5 },
  checkout: { x: 14, y: 0, width: 10, height: 5 },
  'aisle-women': { x: 0, y: 0, width: 8, height: 12 },
  'aisle-shoes': { x: 8, y: 5, width: 6, height: 13 },
  'aisle-men': { x: 14, y: 5, width: 10, height: 13 },
  'fitting-rooms': { x: 0, y: 12, width: 8, height: 6 },
};
/** Hand-placed sensors of the demo store (ceiling positions); others sit at their zone's centre. */
const DEMO_SENSOR_POSITIONS: Readonly<Record<string, Point>> = {
  'wifi-front': { x: 12.5, y: 3.5 },
  'wifi-back': { x: 5, y: 14 },
};
/** Fixed store beacons of the demo store: door, fitting rooms, till. */
const DEMO_BEACONS: ReadonlyArray<{ zone: string; at: Point }> = [
  { zone: 'entrance', at: { x: 11, y: 0.5 } },
  { zone: 'fitting-rooms', at: { x: 2, y: 17 } },
  { zone: 'checkout', at: { x: 20, y: 1 } },
];
const GRID_CELL_M = 8;
const MIN_SHARED_WALL_M = 1;

/** Lays out the store: the hand-made plan for the demo store, a grid otherwise. */
export function buildFloorPlan(store: StoreConfig): FloorPlan {
  const demo = store.id === DEMO_STORE_ID && store.zones.every((z) => DEMO_RECTS[z.id] !== undefined);
  const zones = demo ? demoZones(store) : gridZones(store);
  const entrances = entranceZones(store);
  const sensors = placeSensors(store, zones, demo ? DEMO_SENSOR_POSITIONS : {});
  const beacons = placeBeacons(store, zones, demo);
  return {
    layout: demo ? 'demo' : 'grid',
    widthM: Math.max(...zones.map((z) => z.x + z.width)),
    depthM: Math.max(...zones.map((z) => z.y + z.height)),
    zones,
    entrances,
    sensors,
    beacons,
    adjacency: computeAdjacency(zones),
  };
}

function demoZones(store: StoreConfig): ZoneRect[] {
  return store.zones.map((z) => ({ id: z.id, kind: z.kind, ...(DEMO_RECTS[z.id] as Omit<ZoneRect, 'id' | 'kind'>) }));
}

/** Entrance zones first, then the others in config order, row by row: every cell touches the one before it or above it. */
function gridZones(store: StoreConfig): ZoneRect[] {
  const entrances = new Set(entranceZones(store));
  const ordered = [...store.zones.filter((z) => entrances.has(z.id)), ...store.zones.filter((z) => !entrances.has(z.id))];
  const cols = Math.ceil(Math.sqrt(ordered.length));
  return ordered.map((z, i) => ({
    id: z.id,
    kind: z.kind,
    x: (i % cols) * GRID_CELL_M,
    y: Math.floor(i / cols) * GRID_CELL_M,
    width: GRID_CELL_M,
    height: GRID_CELL_M,
  }));
}

function entranceZones(store: StoreConfig): string[] {
  const ids = store.zones.filter((z) => z.kind === 'entrance').map((z) => z.id);
  return ids.length > 0 ? ids : [(store.zones[0] as { id: string }).id]; // the schema requires at least one zone
}

function placeSensors(store: StoreConfig, zones: ZoneRect[], fixed: Readonly<Record<string, Point>>): PlacedSensor[] {
  const perZone = new Map<string, number>();
  return store.sensors.map((sensor) => {
    const preset = fixed[sensor.id];
    if (preset) return { id: sensor.id, type: sensor.type, zone: sensor.zone, ...preset };
    const rank = perZone.get(sensor.zone) ?? 0;
    perZone.set(sensor.zone, rank + 1);
    const centre = zoneCentre(zoneById(zones, sensor.zone));
    // a second sensor in the same zone hangs a metre and a half beside the first
    const angle = (rank * Math.PI) / 2;
    const offset = rank === 0 ? 0 : 1.5;
    return { id: sensor.id, type: sensor.type, zone: sensor.zone, x: centre.x + offset * Math.cos(angle), y: centre.y + offset * Math.sin(angle) };
  });
}

/** A few fixed Eddystone beacons; the namespace comes from the store id (an installation, not a run). */
function placeBeacons(store: StoreConfig, zones: ZoneRect[], demo: boolean): FixedBeacon[] {
  const rng = createRng(0, 'eddystone', store.id);
  const namespace = rng.hex(10);
  const spots = demo
    ? DEMO_BEACONS.filter((b) => zones.some((z) => z.id === b.zone))
    : zones
        .filter((z) => z.kind === 'entrance' || z.kind === 'fitting_room' || z.kind === 'checkout')
        .slice(0, 3)
        .map((z) => ({ zone: z.id, at: zoneCentre(z) }));
  return spots.map((spot) => ({ id: `eddystone:${namespace}:${rng.hex(6)}`, zone: spot.zone, x: spot.at.x, y: spot.at.y }));
}

/** Zones that share a wall segment of at least a metre. */
export function computeAdjacency(zones: readonly ZoneRect[]): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const a of zones) out[a.id] = zones.filter((b) => b.id !== a.id && sharedWallM(a, b) >= MIN_SHARED_WALL_M).map((b) => b.id);
  return out;
}

/** Length of the wall two rectangles share (0 when they only touch at a corner or not at all). */
export function sharedWallM(a: ZoneRect, b: ZoneRect): number {
  const eps = 1e-6;
  const overlap = (a0: number, a1: number, b0: number, b1: number) => Math.max(0, Math.min(a1, b1) - Math.max(a0, b0));
  const touchX = Math.abs(a.x + a.width - b.x) < eps || Math.abs(b.x + b.width - a.x) < eps;
  const touchY = Math.abs(a.y + a.height - b.y) < eps || Math.abs(b.y + b.height - a.y) < eps;
  if (touchX) return overlap(a.y, a.y + a.height, b.y, b.y + b.height);
  if (touchY) return overlap(a.x, a.x + a.width, b.x, b.x + b.width);
  return 0;
}

/** Shortest walk from one zone to another (both included), ties broken by zone order. */
export function shortestRoute(plan: FloorPlan, from: string, to: string): string[] {
  const previous = new Map<string, string | null>([[from, null]]);
  const queue = [from];
  for (let i = 0; i < queue.length && !previous.has(to); i += 1) {
    const zone = queue[i] as string;
    for (const next of plan.adjacency[zone] ?? []) {
      if (!previous.has(next)) {
        previous.set(next, zone);
        queue.push(next);
      }
    }
  }
  if (!previous.has(to)) throw new RangeError(`zone '${to}' cannot be reached from '${from}' on the floor plan`);
  const route: string[] = [];
  for (let zone: string | null = to; zone !== null; zone = previous.get(zone) ?? null) route.unshift(zone);
  return route;
}

/** The zone rectangle with this id; throws naming the zones there are. */
export function zoneById(zones: readonly ZoneRect[], id: string): ZoneRect {
  const zone = zones.find((z) => z.id === id);
  if (!zone) throw new RangeError(`unknown zone '${id}' (zones: ${zones.map((z) => z.id).join(', ')})`);
  return zone;
}

/** Middle of a zone. */
export function zoneCentre(zone: ZoneRect): Point {
  return { x: zone.x + zone.width / 2, y: zone.y + zone.height / 2 };
}

/** A uniformly random spot in the zone, keeping `marginM` off its walls. */
export function randomPointIn(zone: ZoneRect, rng: Rng, marginM = 0.5): Point {
  const mx = Math.min(marginM, zone.width / 4);
  const my = Math.min(marginM, zone.height / 4);
  return { x: rng.uniform(zone.x + mx, zone.x + zone.width - mx), y: rng.uniform(zone.y + my, zone.y + zone.height - my) };
}

/** Straight-line distance in metres. */
export function distanceM(a: Point, b: Point): number {
  return Math.hypot(a.x - b.x, a.y - b.y);
}
