/**
 * Who the visitors are (app, phone, randomised MAC, CRM id) and where they walk: entrance first, then
 * some aisles, maybe the fitting rooms, maybe the checkout, and out through the entrance they came in
 * by. Every hop follows the floor plan, so a path only ever moves between adjacent zones.
 */
import { createRng, type Rng } from './prng.js';
import { randomPointIn, shortestRoute, zoneById, type FloorPlan, type Point, type ZoneKind } from './floor-plan.js';

export interface PathSegment {
  zone: string;
  /** Epoch ms the visitor stepped into the zone. */
  from: number;
  /** Epoch ms they stepped out (clipped to the window's end while still inside). */
  to: number;
}

export interface Visitor {
  /** Position in arrival order. */
  index: number;
  /** Internal id, e.g. `v000042` (never on the wire). */
  id: string;
  app: boolean;
  /** `ibeacon:<retailer uuid>:<major>:<minor>` advertised by the retailer's app. */
  beaconId?: string;
  /** The pseudonym the retailer's app gives touchpoints. */
  appPseudonym?: string;
  /** CRM id, for app users who are known customers. */
  customer?: string;
  phone: boolean;
  randomizedMac: boolean;
  /** How often a randomised MAC changes, ms. */
  rotationMs: number;
  /** Offset of the rotation clock relative to entering, ms. */
  rotationPhaseMs: number;
  enteredAt: number;
  /** Epoch ms the visitor left, or null when still inside at the window's end. */
  leftAt: number | null;
  path: PathSegment[];
}

export interface VisitorParams {
  seed: number;
  storeId: string;
  endMs: number;
  appShare: number;
  phoneShare: number;
  randomizedMacShare: number;
}

/** Median dwell per zone kind, seconds; dwell is log-normal around it. */
const DWELL_MEDIAN_S: Readonly<Record<ZoneKind, number>> = {
  entrance: 12,
  aisle: 150,
  display: 90,
  fitting_room: 300,
  checkout: 150,
  other: 60,
  backroom: 60,
};
const TRANSIT_MEDIAN_S = 10;
const EXIT_MEDIAN_S = 8;
const DWELL_SIGMA = 0.6;
/** Chance that a visitor browses a zone of this kind. */
const BROWSE_CHANCE: Partial<Record<ZoneKind, number>> = { aisle: 0.65, display: 0.45, other: 0.35 };
const FITTING_CHANCE = 0.3;
const CHECKOUT_CHANCE = 0.45;
const KNOWN_CUSTOMER_CHANCE = 0.6;
const ROTATION_MIN_MS = 3 * 60_000;
const ROTATION_MAX_MS = 10 * 60_000;
/** A visitor picks a new spot in the zone this often. */
const WANDER_SLOT_MS = 20_000;

/** Builds every visitor arriving at the given instants. */
export function generateVisitors(arrivals: readonly number[], plan: FloorPlan, params: VisitorParams): Visitor[] {
  const registry = new IdentityRegistry(params.seed, params.storeId);
  return arrivals.map((arrivedAt, index) => {
    const rng = createRng(params.seed, 'visitor', index);
    const app = rng.chance(params.appShare);
    const phone = app || rng.chance(params.phoneShare);
    const randomizedMac = phone && rng.chance(params.randomizedMacShare);
    const knownCustomer = app && rng.chance(KNOWN_CUSTOMER_CHANCE);
    const rotationMs = Math.round(rng.uniform(ROTATION_MIN_MS, ROTATION_MAX_MS));
    const rotationPhaseMs = Math.floor(rng.uniform(0, rotationMs));
    const fullPath = planPath(plan, arrivedAt, rng);
    const lastTo = (fullPath[fullPath.length - 1] as PathSegment).to;
    const visitor: Visitor = {
      index,
      id: `v${String(index + 1).padStart(6, '0')}`,
      app,
      phone,
      randomizedMac,
      rotationMs,
      rotationPhaseMs,
      enteredAt: arrivedAt,
      leftAt: lastTo <= params.endMs ? lastTo : null,
      path: clipPath(fullPath, params.endMs),
    };
    if (app) {
      visitor.beaconId = registry.nextBeaconId();
      visitor.appPseudonym = createRng(params.seed, 'app-pseudonym', index).hex(12);
      if (knownCustomer) visitor.customer = registry.nextCustomerId();
    }
    return visitor;
  });
}

/** The zone sequence with dwell times, from the door back to the door. */
export function planPath(plan: FloorPlan, arrivedAt: number, rng: Rng): PathSegment[] {
  const entrance = rng.pick(plan.entrances);
  const stops = pickStops(plan, entrance, rng);
  const segments: PathSegment[] = [];
  let t = arrivedAt;
  const stay = (zone: string, ms: number) => {
    segments.push({ zone, from: t, to: t + ms });
    t += ms;
  };
  stay(entrance, dwellMs(rng, stops.length === 0 ? DWELL_MEDIAN_S.other : DWELL_MEDIAN_S.entrance));
  let here = entrance;
  for (const stop of [...stops, entrance]) {
    const route = shortestRoute(plan, here, stop);
    for (const passing of route.slice(1, -1)) stay(passing, dwellMs(rng, TRANSIT_MEDIAN_S));
    if (stop === entrance) stay(stop, dwellMs(rng, EXIT_MEDIAN_S));
    else stay(stop, dwellMs(rng, DWELL_MEDIAN_S[zoneById(plan.zones, stop).kind]));
    here = stop;
  }
  return mergeRepeats(segments);
}

/** The zones a visitor means to visit, in order; the entrance itself is never a stop. */
function pickStops(plan: FloorPlan, entrance: string, rng: Rng): string[] {
  const candidates = plan.zones.filter((z) => z.id !== entrance && z.kind !== 'entrance' && z.kind !== 'backroom');
  const browsable = candidates.filter((z) => BROWSE_CHANCE[z.kind] !== undefined);
  let browse = browsable.filter((z) => rng.chance(BROWSE_CHANCE[z.kind] ?? 0)).map((z) => z.id);
  if (browse.length === 0 && browsable.length > 0) browse = [rng.pick(browsable).id];
  const stops = rng.shuffle(browse);
  const fitting = candidates.filter((z) => z.kind === 'fitting_room');
  if (fitting.length > 0 && rng.chance(FITTING_CHANCE)) stops.splice(rng.int(Math.min(1, stops.length), stops.length), 0, rng.pick(fitting).id);
  const checkout = candidates.filter((z) => z.kind === 'checkout');
  if (checkout.length > 0 && rng.chance(CHECKOUT_CHANCE)) stops.push(rng.pick(checkout).id);
  if (stops.length === 0 && candidates.length > 0) stops.push(rng.pick(candidates).id);
  return stops;
}

function dwellMs(rng: Rng, medianS: number): number {
  const s = Math.min(4 * medianS, Math.max(3, rng.logNormal(medianS, DWELL_SIGMA)));
  return Math.round(s * 1000);
}

/** Joins back-to-back stays in one zone (a route that ends where the next begins). */
function mergeRepeats(segments: PathSegment[]): PathSegment[] {
  const out: PathSegment[] = [];
  for (const seg of segments) {
    const last = out[out.length - 1];
    if (last && last.zone === seg.zone) last.to = seg.to;
    else out.push({ ...seg });
  }
  return out;
}

/** Drops what happens after the window's end and cuts the stay that spans it. */
function clipPath(segments: PathSegment[], endMs: number): PathSegment[] {
  return segments.filter((s) => s.from <= endMs).map((s) => ({ ...s, to: Math.min(s.to, endMs) }));
}

/** The segment the visitor is in at `t` (from ≤ t < to), if any. */
export function segmentIndexAt(visitor: Visitor, t: number): number {
  return visitor.path.findIndex((s) => s.from <= t && t < s.to);
}

/** Where the visitor stands at `t` while in segment `segIndex`: a new spot in the zone every 20 s. */
export function positionAt(plan: FloorPlan, seed: number, visitor: Visitor, segIndex: number, t: number): Point {
  const seg = visitor.path[segIndex] as PathSegment;
  const slot = Math.floor((t - seg.from) / WANDER_SLOT_MS);
  return randomPointIn(zoneById(plan.zones, seg.zone), createRng(seed, 'spot', visitor.index, segIndex, slot), 0.5);
}

/** The wifi pseudonym the visitor's phone uses at `t` (a randomised MAC rotates; 32 hex digits). */
export function wifiPseudonymAt(seed: number, visitor: Visitor, t: number): string {
  const epoch = visitor.randomizedMac ? Math.floor((t - visitor.enteredAt + visitor.rotationPhaseMs) / visitor.rotationMs) : 0;
  return createRng(seed, 'wifi-pseudonym', visitor.index, epoch).hex(16);
}

/** Every wifi pseudonym the phone used while inside during the window, in order. */
export function wifiPseudonymsDuring(seed: number, visitor: Visitor): string[] {
  if (!visitor.phone) return [];
  const last = visitor.path[visitor.path.length - 1];
  const until = last ? last.to : visitor.enteredAt;
  const out = [wifiPseudonymAt(seed, visitor, visitor.enteredAt)];
  if (visitor.randomizedMac) {
    // rotations fall at enteredAt − phase + k·rotationMs; the first one after entering is k = 1
    for (let t = visitor.enteredAt - visitor.rotationPhaseMs + visitor.rotationMs; t < until; t += visitor.rotationMs)
      out.push(wifiPseudonymAt(seed, visitor, t));
  }
  return out;
}

/** Hands out iBeacon major/minor pairs and CRM ids, unique within a run. */
class IdentityRegistry {
  private readonly rng: Rng;
  private readonly retailerUuid: string;
  private readonly beacons = new Set<string>();
  private readonly customers = new Set<string>();

  constructor(seed: number, storeId: string) {
    this.rng = createRng(seed, 'identities');
    this.retailerUuid = retailerUuid(storeId);
  }

  nextBeaconId(): string {
    for (;;) {
      const id = `ibeacon:${this.retailerUuid}:${this.rng.int(1, 65535)}:${this.rng.int(0, 65535)}`;
      if (!this.beacons.has(id)) {
        this.beacons.add(id);
        return id;
      }
    }
  }

  nextCustomerId(): string {
    for (;;) {
      const id = `C-${String(this.rng.int(1, 999_999)).padStart(6, '0')}`;
      if (!this.customers.has(id)) {
        this.customers.add(id);
        return id;
      }
    }
  }
}

/** The retailer's app UUID: fixed per store, not per run (lowercase, dashed, version 4 shape). */
export function retailerUuid(storeId: string): string {
  const hex = createRng(0, 'retailer-uuid', storeId).hex(16);
  const v4 = `${hex.slice(0, 12)}4${hex.slice(13, 16)}${((parseInt(hex.slice(16, 17), 16) & 0x3) | 0x8).toString(16)}${hex.slice(17)}`;
  return `${v4.slice(0, 8)}-${v4.slice(8, 12)}-${v4.slice(12, 16)}-${v4.slice(16, 20)}-${v4.slice(20, 32)}`;
}
