/**
 * Who the visitors are (app, phone, randomised MAC, CRM id) and where they walk: entrance first, then
 * some aisles, maybe the fitting rooms, maybe the checkout, and out through the entrance they came in
 * by, walking (movement.ts), alone or in a group. Every hop follows the floor plan, so a path only ever
 * moves between adjacent zones, and a zone stay begins the moment the walk crosses the zone's wall.
 */
import { rectCentre } from '../config/index.js';
import { shortestRoute, zoneById, type FloorPlan, type Point, type ZoneKind } from './floor-plan.js';
import { followWalk, MEMBER_LAG_MS, positionOnWalk, Walker, type Waypoint } from './movement.js';
import { advertisingIntervals, drawRotationMs, type Interval } from './phones.js';
import { createRng, type Rng } from './prng.js';

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
  /** When the app advertises its beacon while inside (app users; ascending, clipped to the visit and the window). */
  advertising?: Interval[];
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
  /** Group id (`g000001`) shared by people who came together; absent for someone alone. */
  group?: string;
  /** The walk, from the door to the door (not clipped to the window). */
  walk: Waypoint[];
  /** Who this is when not a customer (staff.ts, street.ts): staff, a passer-by outside, or a device left behind. */
  role?: 'staff' | 'passer_by' | 'stray';
  /** A randomised MAC that stays the same all along (a per-network private address of a phone on the store wifi). */
  stableMac?: boolean;
  /** False for a device lying somewhere (no body or pocket loss). */
  carried?: boolean;
  /** The instant the rotation clock of a randomised MAC counts from (default `enteredAt`; a visitor's walk on the street keeps their clock). */
  rotationOriginMs?: number;
}

export interface VisitorParams {
  seed: number;
  storeId: string;
  endMs: number;
  appShare: number;
  phoneShare: number;
  randomizedMacShare: number;
  /** Bounds of a randomised MAC's rotation interval (uniform between them), ms. */
  macRotationMinMs: number;
  macRotationMaxMs: number;
  /** Long-run share of time the app advertises its beacon (1: all the time). */
  appAdvertisingDutyCycle: number;
  /** Mean length of one on/off advertising cycle, ms. */
  appAdvertisingPeriodMs: number;
  /** Walking speed, m/s. */
  walkingSpeedMps: number;
  /** Share of arrivals that are groups of 2-4. */
  groupShare: number;
  /** Mean size of a group (2-4). */
  meanGroupSize: number;
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
const EXIT_MEDIAN_S = 8;
const DWELL_SIGMA = 0.6;
/** Chance that a visitor browses a zone of this kind. */
const BROWSE_CHANCE: Partial<Record<ZoneKind, number>> = { aisle: 0.65, display: 0.45, other: 0.35 };
const FITTING_CHANCE = 0.3;
const CHECKOUT_CHANCE = 0.45;
const KNOWN_CUSTOMER_CHANCE = 0.6;
/** A browsing visitor moves on to a new spot in the zone about this often (assumed; docs/simulator.md). */
const SPOT_MS = 40_000;

/** Builds every visitor of the parties arriving at the given instants (a party is one person or a group), in the order they enter. */
export function generateVisitors(arrivals: readonly number[], plan: FloorPlan, params: VisitorParams): Visitor[] {
  const people: Array<{ walk: Waypoint[]; group?: string }> = [];
  let groups = 0;
  arrivals.forEach((arrivedAt, party) => {
    const rng = createRng(params.seed, 'party', party);
    const size = drawPartySize(rng, params.groupShare, params.meanGroupSize);
    const walk = planWalk(plan, arrivedAt, rng, params.walkingSpeedMps);
    if (size === 1) {
      people.push({ walk });
      return;
    }
    groups += 1;
    const group = `g${String(groups).padStart(6, '0')}`;
    people.push({ walk, group });
    for (let member = 1; member < size; member += 1) {
      const follow = followWalk(plan, walk, member * MEMBER_LAG_MS, params.walkingSpeedMps, createRng(params.seed, 'member', party, member));
      people.push({ walk: follow, group });
    }
  });
  // sorted by the instant they step in (a member can enter after the next party's first person)
  const ordered = people.map((p, i) => ({ ...p, i })).sort((a, b) => (a.walk[0] as Waypoint).at - (b.walk[0] as Waypoint).at || a.i - b.i);
  const registry = new IdentityRegistry(params.seed, params.storeId);
  return ordered.map(({ walk, group }, index) => {
    const rng = createRng(params.seed, 'visitor', index);
    const app = rng.chance(params.appShare);
    const phone = app || rng.chance(params.phoneShare);
    const randomizedMac = phone && rng.chance(params.randomizedMacShare);
    const knownCustomer = app && rng.chance(KNOWN_CUSTOMER_CHANCE);
    const rotationMs = drawRotationMs(rng, params.macRotationMinMs, params.macRotationMaxMs);
    const rotationPhaseMs = Math.floor(rng.uniform(0, rotationMs));
    const fullPath = pathOfWalk(walk);
    const lastTo = (fullPath[fullPath.length - 1] as PathSegment).to;
    const visitor: Visitor = {
      index,
      id: `v${String(index + 1).padStart(6, '0')}`,
      ...(group !== undefined ? { group } : {}),
      app,
      phone,
      randomizedMac,
      rotationMs,
      rotationPhaseMs,
      enteredAt: (walk[0] as Waypoint).at,
      leftAt: lastTo <= params.endMs ? lastTo : null,
      path: clipPath(fullPath, params.endMs),
      walk,
    };
    if (app) {
      visitor.beaconId = registry.nextBeaconId();
      const until = visitor.leftAt ?? params.endMs;
      const advRng = createRng(params.seed, 'advertising', index);
      visitor.advertising = advertisingIntervals(advRng, visitor.enteredAt, until, params.appAdvertisingDutyCycle, params.appAdvertisingPeriodMs);
      visitor.appPseudonym = createRng(params.seed, 'app-pseudonym', index).hex(12);
      if (knownCustomer) visitor.customer = registry.nextCustomerId();
    }
    return visitor;
  });
}

/** 1 for someone coming alone; 2-4 for a group: 2 + Binomial(2, (meanGroupSize − 2) / 2), so groups average `meanGroupSize`. */
export function drawPartySize(rng: Rng, groupShare: number, meanGroupSize: number): number {
  if (!rng.chance(groupShare)) return 1;
  const p = (meanGroupSize - 2) / 2;
  return 2 + (rng.chance(p) ? 1 : 0) + (rng.chance(p) ? 1 : 0);
}

/** Mean number of people per arrival (party), to keep `visitorsPerHour` a rate of people. */
export function meanPartySize(groupShare: number, meanGroupSize: number): number {
  return 1 - groupShare + groupShare * meanGroupSize;
}

/**
 * The walk of one visitor (or a group's leader): in through a door, some browsing in the entrance zone,
 * then each stop in turn over the shortest route of adjacent zones (walking straight through the zones
 * on the way), browsing each stop for a log-normal dwell, back to the entrance zone and out by the door.
 */
export function planWalk(plan: FloorPlan, arrivedAt: number, rng: Rng, speedMps: number): Waypoint[] {
  const door = rng.pick(plan.doors.length > 0 ? plan.doors : plan.entrances.map((zone) => ({ zone, ...rectCentre(zoneById(plan.zones, zone)) })));
  const entrance = door.zone;
  const stops = pickStops(plan, entrance, rng);
  const walker = new Walker(plan, speedMps, door, entrance, arrivedAt);
  walker.browse(entrance, dwellMs(rng, stops.length === 0 ? DWELL_MEDIAN_S.other : DWELL_MEDIAN_S.entrance), SPOT_MS, rng);
  let here = entrance;
  for (const stop of [...stops, entrance]) {
    const route = shortestRoute(plan, here, stop);
    for (let i = 1; i < route.length; i += 1) walker.cross(route[i - 1] as string, route[i] as string, rng);
    const median = stop === entrance ? EXIT_MEDIAN_S : DWELL_MEDIAN_S[zoneById(plan.zones, stop).kind];
    walker.browse(stop, dwellMs(rng, median), SPOT_MS, rng);
    here = stop;
  }
  walker.leave(door, entrance);
  return walker.waypoints;
}

/** The zone stays of a walk: a new stay begins at each wall crossing; the last ends at the door. */
export function pathOfWalk(walk: readonly Waypoint[]): PathSegment[] {
  const first = walk[0] as Waypoint;
  const last = walk[walk.length - 1] as Waypoint;
  const out: PathSegment[] = [{ zone: first.zone, from: first.at, to: last.until }];
  for (const wp of walk) {
    const current = out[out.length - 1] as PathSegment;
    if (wp.zone === current.zone) continue;
    current.to = wp.at;
    out.push({ zone: wp.zone, from: wp.at, to: last.until });
  }
  return out;
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

/** Drops what happens after the window's end and cuts the stay that spans it. */
export function clipPath(segments: PathSegment[], endMs: number): PathSegment[] {
  return segments.filter((s) => s.from <= endMs).map((s) => ({ ...s, to: Math.min(s.to, endMs) }));
}

/** The segment the visitor is in at `t` (from ≤ t < to), if any. */
export function segmentIndexAt(visitor: Visitor, t: number): number {
  return visitor.path.findIndex((s) => s.from <= t && t < s.to);
}

/** Where the visitor stands at `t` (on their walk; at the door before entering and after leaving). */
export function positionAt(visitor: Visitor, t: number): Point {
  return positionOnWalk(visitor.walk, t);
}

/** The wifi pseudonym the visitor's phone uses at `t` (a randomised MAC rotates; 32 hex digits). */
export function wifiPseudonymAt(seed: number, visitor: Visitor, t: number): string {
  const origin = visitor.rotationOriginMs ?? visitor.enteredAt;
  const epoch = visitor.randomizedMac && visitor.stableMac !== true ? Math.floor((t - origin + visitor.rotationPhaseMs) / visitor.rotationMs) : 0;
  return createRng(seed, 'wifi-pseudonym', visitor.index, epoch).hex(16);
}

/** Every wifi pseudonym the phone used while inside during the window, in order. */
export function wifiPseudonymsDuring(seed: number, visitor: Visitor): string[] {
  if (!visitor.phone) return [];
  const last = visitor.path[visitor.path.length - 1];
  const until = last ? last.to : visitor.enteredAt;
  const out = [wifiPseudonymAt(seed, visitor, visitor.enteredAt)];
  if (visitor.randomizedMac && visitor.stableMac !== true) {
    // rotations fall at origin − phase + k·rotationMs (origin: enteredAt unless the clock started earlier); the first after entering
    const origin = visitor.rotationOriginMs ?? visitor.enteredAt;
    const k = Math.floor((visitor.enteredAt - origin + visitor.rotationPhaseMs) / visitor.rotationMs) + 1;
    for (let t = origin - visitor.rotationPhaseMs + k * visitor.rotationMs; t < until; t += visitor.rotationMs) out.push(wifiPseudonymAt(seed, visitor, t));
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
