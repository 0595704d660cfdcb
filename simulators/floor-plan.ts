/**
 * The store's floor plan as the simulator uses it: zone rectangles, doors, where each BLE/wifi sensor
 * hangs (with its calibration), where each touchpoint stands, the store's fixed beacons, and which
 * zones a visitor can walk between. Everything comes from the config's `stores[].layout`; a store
 * without one is laid out on a grid (8 m cells, sensors at zone centres, a door in the front wall of
 * each entrance zone), so any config can be simulated.
 */
import type { StoreConfig } from '../config/index.js';
import { DEFAULT_RSSI_AT_1M_DBM, deriveAdjacency, layoutAdjacency, rectCentre, type Layout, type Point } from '../config/index.js';
import { createRng, type Rng } from './prng.js';

export type { Point } from '../config/index.js';
export type ZoneKind = StoreConfig['zones'][number]['kind'];

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
  /** What the scanner reads at 1 m from a reference transmitter, dBm (its calibration). */
  rssiAt1m: number;
}

export interface PlacedTouchpoint extends Point {
  id: string;
  zone: string;
}

export interface Door extends Point {
  zone: string;
}

export interface FixedBeacon extends Point {
  /** `eddystone:<namespace>:<instance>` */
  id: string;
  zone: string;
}

export interface FloorPlan {
  /** `config`: the store's own layout; `grid`: laid out by the simulator (the store has none). */
  layout: 'config' | 'grid';
  widthM: number;
  depthM: number;
  zones: ZoneRect[];
  doors: Door[];
  /** Zones a visitor enters and leaves the store through: those the doors open into. */
  entrances: string[];
  sensors: PlacedSensor[];
  touchpoints: PlacedTouchpoint[];
  beacons: FixedBeacon[];
  /** Zone id → ids of the zones a visitor walks to from it, in the store's zone order. */
  adjacency: Record<string, string[]>;
}

const GRID_CELL_M = 8;
/** A fixed door beacon hangs this far inside the door. */
const DOOR_BEACON_INSET_M = 0.5;

/** Lays out the store: from its config layout, or on a grid when it has none. */
export function buildFloorPlan(store: StoreConfig): FloorPlan {
  return store.layout ? configPlan(store, store.layout) : gridPlan(store);
}

function configPlan(store: StoreConfig, layout: Layout): FloorPlan {
  // the schema checked that every zone, sensor and touchpoint of a store with a layout has its place
  const zones = store.zones.map((z) => ({ id: z.id, kind: z.kind, ...(layout.zones[z.id] as Layout['zones'][string]).rect }));
  const doors = layout.doors.map((d) => ({ x: d.x, y: d.y, zone: d.zone }));
  const sensors = store.sensors.map((s) => {
    const at = layout.sensors[s.id] as Layout['sensors'][string];
    return { id: s.id, type: s.type, zone: s.zone, x: at.x, y: at.y, rssiAt1m: at.rssiAt1m ?? DEFAULT_RSSI_AT_1M_DBM[s.type] };
  });
  const touchpoints = store.touchpoints.map((t) => ({ id: t.id, zone: t.zone, ...(layout.touchpoints[t.id] as Point) }));
  const plan = { widthM: layout.widthM, depthM: layout.depthM, zones, doors, sensors, touchpoints };
  return {
    layout: 'config',
    ...plan,
    entrances: unique(doors.map((d) => d.zone)),
    beacons: placeBeacons(store, plan),
    adjacency: layoutAdjacency(
      layout,
      zones.map((z) => z.id),
    ),
  };
}

/** Entrance zones first, then the others in config order, row by row: every cell touches the one before it or above it. */
function gridPlan(store: StoreConfig): FloorPlan {
  const entrances = entranceZones(store);
  const ordered = [...store.zones.filter((z) => entrances.includes(z.id)), ...store.zones.filter((z) => !entrances.includes(z.id))];
  const cols = Math.ceil(Math.sqrt(ordered.length));
  const zones = ordered.map((z, i) => ({
    id: z.id,
    kind: z.kind,
    x: (i % cols) * GRID_CELL_M,
    y: Math.floor(i / cols) * GRID_CELL_M,
    width: GRID_CELL_M,
    height: GRID_CELL_M,
  }));
  const doors = zones.filter((z) => entrances.includes(z.id)).map((z) => ({ x: z.x + z.width / 2, y: z.y, zone: z.id }));
  const widthM = Math.max(...zones.map((z) => z.x + z.width));
  const depthM = Math.max(...zones.map((z) => z.y + z.height));
  const sensors = gridSensors(store, zones);
  const touchpoints = store.touchpoints.map((t) => ({ id: t.id, zone: t.zone, ...rectCentre(zoneById(zones, t.zone)) }));
  const plan = { widthM, depthM, zones, doors, sensors, touchpoints };
  return { layout: 'grid', ...plan, entrances, beacons: placeBeacons(store, plan), adjacency: deriveAdjacency(zones) };
}

function entranceZones(store: StoreConfig): string[] {
  const ids = store.zones.filter((z) => z.kind === 'entrance').map((z) => z.id);
  return ids.length > 0 ? ids : [(store.zones[0] as { id: string }).id]; // the schema requires at least one zone
}

function gridSensors(store: StoreConfig, zones: ZoneRect[]): PlacedSensor[] {
  const perZone = new Map<string, number>();
  return store.sensors.map((sensor) => {
    const rank = perZone.get(sensor.zone) ?? 0;
    perZone.set(sensor.zone, rank + 1);
    const centre = rectCentre(zoneById(zones, sensor.zone));
    // a second sensor in the same zone hangs a metre and a half beside the first
    const angle = (rank * Math.PI) / 2;
    const offset = rank === 0 ? 0 : 1.5;
    const rssiAt1m = DEFAULT_RSSI_AT_1M_DBM[sensor.type];
    return { id: sensor.id, type: sensor.type, zone: sensor.zone, x: centre.x + offset * Math.cos(angle), y: centre.y + offset * Math.sin(angle), rssiAt1m };
  });
}

/**
 * The store's fixed Eddystone beacons: one just inside the first door, one in the middle of the first
 * fitting room and of the first checkout zone. The namespace comes from the store id (an installation, not a run).
 */
function placeBeacons(store: StoreConfig, plan: Pick<FloorPlan, 'widthM' | 'depthM' | 'zones' | 'doors'>): FixedBeacon[] {
  const rng = createRng(0, 'eddystone', store.id);
  const namespace = rng.hex(10);
  const door = plan.doors[0];
  const spots = [
    ...(door ? [{ zone: door.zone, at: insideDoor(door, plan) }] : []),
    ...(['fitting_room', 'checkout'] as const).flatMap((kind) => {
      const zone = plan.zones.find((z) => z.kind === kind);
      return zone ? [{ zone: zone.id, at: rectCentre(zone) }] : [];
    }),
  ];
  return spots.map((spot) => ({ id: `eddystone:${namespace}:${rng.hex(6)}`, zone: spot.zone, x: spot.at.x, y: spot.at.y }));
}

/** A point DOOR_BEACON_INSET_M inside a door on the floor's edge. */
function insideDoor(door: Door, plan: Pick<FloorPlan, 'widthM' | 'depthM'>): Point {
  if (door.y === 0) return { x: door.x, y: DOOR_BEACON_INSET_M };
  if (door.y === plan.depthM) return { x: door.x, y: door.y - DOOR_BEACON_INSET_M };
  if (door.x === 0) return { x: DOOR_BEACON_INSET_M, y: door.y };
  return { x: door.x - DOOR_BEACON_INSET_M, y: door.y };
}

function unique(ids: readonly string[]): string[] {
  return [...new Set(ids)];
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
