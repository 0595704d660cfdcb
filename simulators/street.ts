/**
 * Outside the shop: people walking along the street past the shop front (the outer wall the first
 * door is in), at a rate set by the capture rate, carrying phones like visitors do; and neighbouring
 * shops' fixed beacons beyond the side walls and across the street. Scanners inside hear them through
 * the outer walls (`outerLossDb`). None of them ever enters the store. Parameters and sources:
 * docs/simulator.md, "Staff, left-behind phones and the street".
 */
import type { StoreConfig } from '../config/index.js';
import { drawArrivals } from './arrivals.js';
import type { FixedBeacon, FloorPlan, Point } from './floor-plan.js';
import type { ArrivalProfile } from './options.js';
import { advertisingIntervals, drawRotationMs } from './phones.js';
import { createRng } from './prng.js';
import type { RadioOptions } from './radio-options.js';
import type { Waypoint } from './movement.js';
import { retailerUuid, type Visitor, type VisitorParams } from './visitors.js';

/** Passers-by indices start here (seeded streams apart from visitors' and staff's). */
export const PASSER_INDEX_BASE = 3_000_000;
/** The zone id of anywhere outside the store, in the truth. */
export const OUTSIDE_ZONE = 'outside';
/** How far along the street beyond each end of the shop front a passer-by is followed, m (out of every scanner's reach). */
export const STREET_REACH_M = 25;
/** The pavement: a passer-by walks this far out from the shop front (uniform), m (assumed). */
const PAVEMENT_M: readonly [number, number] = [1, 4];
/** Mean walking speed on the street, m/s, and its spread between people (Bosina and Weidmann 2017; docs/simulator.md). */
const STREET_SPEED_MPS = 1.34;
const STREET_SPEED_SD = 0.2;
/** Neighbouring shops' beacons: this far beyond a side wall, or across the street from the front, m (assumed). */
const NEIGHBOUR_SIDE_M = 3;
const ACROSS_STREET_M = 14;

/** The side of the floor's rectangle the shop front is on (the first door's wall; the front y = 0 when unknown). */
export type Front = 'south' | 'north' | 'west' | 'east';

export function frontOf(plan: Pick<FloorPlan, 'doors' | 'widthM' | 'depthM'>): Front {
  const door = plan.doors[0];
  if (!door) return 'south';
  const distances: Array<[Front, number]> = [
    ['south', Math.abs(door.y)],
    ['north', Math.abs(plan.depthM - door.y)],
    ['west', Math.abs(door.x)],
    ['east', Math.abs(plan.widthM - door.x)],
  ];
  return distances.reduce((best, d) => (d[1] < best[1] ? d : best))[0];
}

/** A point given as `u` metres along the shop front (from its left end seen from the street) and `w` metres out from it (negative: inside the depth). */
export function streetPoint(plan: Pick<FloorPlan, 'doors' | 'widthM' | 'depthM'>, u: number, w: number): Point {
  switch (frontOf(plan)) {
    case 'south':
      return { x: u, y: -w };
    case 'north':
      return { x: plan.widthM - u, y: plan.depthM + w };
    case 'west':
      return { x: -w, y: plan.depthM - u };
    case 'east':
      return { x: plan.widthM + w, y: u };
  }
}

/** Length of the shop front, m. */
export function frontLengthM(plan: Pick<FloorPlan, 'doors' | 'widthM' | 'depthM'>): number {
  const front = frontOf(plan);
  return front === 'south' || front === 'north' ? plan.widthM : plan.depthM;
}

/**
 * Loss of the store's outer wall between a transmitter at `p` and a scanner inside: none when `p` is
 * inside the floor's rectangle, `shopFrontLossDb` when the line comes in through the shop front,
 * `outerWallLossDb` through any other outer wall.
 */
export function outerLossDb(plan: Pick<FloorPlan, 'doors' | 'widthM' | 'depthM'>, p: Point, scanner: Point, radio: RadioOptions): number {
  const inside = p.x >= 0 && p.x <= plan.widthM && p.y >= 0 && p.y <= plan.depthM;
  if (inside) return 0;
  // where the line from the scanner (inside) leaves the rectangle: the first edge it meets
  const dx = p.x - scanner.x;
  const dy = p.y - scanner.y;
  const exits: Array<[Front, number]> = [];
  if (dy < 0) exits.push(['south', (0 - scanner.y) / dy]);
  if (dy > 0) exits.push(['north', (plan.depthM - scanner.y) / dy]);
  if (dx < 0) exits.push(['west', (0 - scanner.x) / dx]);
  if (dx > 0) exits.push(['east', (plan.widthM - scanner.x) / dx]);
  const through = exits.reduce((best, e) => (e[1] < best[1] ? e : best), ['south', Infinity] as [Front, number])[0];
  return through === frontOf(plan) ? radio.shopFrontLossDb : radio.outerWallLossDb;
}

/** The phone shares and rotation of passers-by are those of visitors. */
type PhoneParams = Pick<
  VisitorParams,
  'appShare' | 'phoneShare' | 'randomizedMacShare' | 'macRotationMinMs' | 'macRotationMaxMs' | 'appAdvertisingDutyCycle' | 'appAdvertisingPeriodMs'
>;

export interface StreetParams extends PhoneParams {
  seed: number;
  store: StoreConfig;
  plan: FloorPlan;
  startMs: number;
  endMs: number;
  /** People entering per hour (visitorsPerHour) and the capture rate: passers-by come at visitorsPerHour × (1 − c)/c. */
  visitorsPerHour: number;
  captureRate: number;
  profile: ArrivalProfile;
}

/** Passers-by per hour for a rate of people entering and a capture rate c: entering × (1 − c)/c. */
export function passersByPerHour(enteringPerHour: number, captureRate: number): number {
  return (enteringPerHour * (1 - captureRate)) / captureRate;
}

/**
 * People walking past the shop front from one end of the street stretch to the other (STREET_REACH_M
 * beyond each end of the front), on the pavement, at their own walking speed; their arrivals follow the
 * same profile as visitors' (a daily profile: none while the store is closed). Ordered by `enteredAt`,
 * the instant they come into the stretch.
 */
export function generatePassersBy(params: StreetParams): Visitor[] {
  const { plan, seed } = params;
  const rate = passersByPerHour(params.visitorsPerHour, params.captureRate);
  const arrivals = drawArrivals(
    {
      startMs: params.startMs,
      endMs: params.endMs,
      visitorsPerHour: rate,
      profile: params.profile,
      timeZone: params.store.timezone,
      ...(params.store.openingHours ? { openingHours: params.store.openingHours } : {}),
    },
    createRng(seed, 'passers-by'),
  );
  const length = frontLengthM(plan);
  const uuid = retailerUuid(params.store.id);
  return arrivals.map((at, i) => {
    const rng = createRng(seed, 'passer-by', i);
    const leftToRight = rng.chance(0.5);
    const w = rng.uniform(...PAVEMENT_M);
    const speed = Math.min(2.2, Math.max(0.7, rng.normal(STREET_SPEED_MPS, STREET_SPEED_SD)));
    const from = streetPoint(plan, leftToRight ? -STREET_REACH_M : length + STREET_REACH_M, w);
    const to = streetPoint(plan, leftToRight ? length + STREET_REACH_M : -STREET_REACH_M, w);
    const until = at + Math.ceil(((length + 2 * STREET_REACH_M) / speed) * 1000);
    const app = rng.chance(params.appShare);
    const phone = app || rng.chance(params.phoneShare);
    const randomizedMac = phone && rng.chance(params.randomizedMacShare);
    const rotationMs = drawRotationMs(rng, params.macRotationMinMs, params.macRotationMaxMs);
    const rotationPhaseMs = Math.floor(rng.uniform(0, rotationMs));
    const index = PASSER_INDEX_BASE + i;
    const leftAt = until <= params.endMs ? until : null;
    const passer: Visitor = {
      index,
      id: `p${String(i + 1).padStart(6, '0')}`,
      role: 'passer_by',
      app,
      phone,
      randomizedMac,
      rotationMs,
      rotationPhaseMs,
      enteredAt: at,
      leftAt,
      path: [{ zone: OUTSIDE_ZONE, from: at, to: Math.min(until, params.endMs) }],
      walk: [
        { kind: 'spot', zone: OUTSIDE_ZONE, ...from, at, until: at },
        { kind: 'spot', zone: OUTSIDE_ZONE, ...to, at: until, until },
      ],
    };
    if (app) {
      const ids = createRng(seed, 'passer-beacon', i);
      passer.beaconId = `ibeacon:${uuid}:${ids.int(1, 65535)}:${ids.int(0, 65535)}`;
      passer.advertising = advertisingIntervals(
        createRng(seed, 'passer-advertising', i),
        at,
        leftAt ?? params.endMs,
        params.appAdvertisingDutyCycle,
        params.appAdvertisingPeriodMs,
      );
    }
    return passer;
  });
}

/** A visitor's walk on the street: to the door before entering (`approach`) or away from it after leaving (`departure`). */
export interface StreetWalk extends Visitor {
  leg: 'approach' | 'departure';
}

/**
 * Visitors with a phone walk along the street before they enter and after they leave: from STREET_REACH_M
 * beyond one end of the shop front (either, at random) along the pavement straight to their door,
 * arriving at the instant they enter, and from the door at the instant they leave to the other end or the
 * same. Their phone probes on the street under the pseudonyms of its own rotation clock (the app's beacon
 * advertises only inside: not modelled outside). Clipped to the window; streams of their own.
 */
export function streetWalks(seed: number, plan: FloorPlan, visitors: readonly Visitor[], startMs: number, endMs: number): StreetWalk[] {
  const length = frontLengthM(plan);
  const out: StreetWalk[] = [];
  for (const v of visitors) {
    if (!v.phone) continue;
    const door = v.walk[0] as Waypoint;
    const rng = createRng(seed, 'street-walk', v.index);
    const speed = Math.min(2.2, Math.max(0.7, rng.normal(STREET_SPEED_MPS, STREET_SPEED_SD)));
    const end = (side: boolean) => streetPoint(plan, side ? -STREET_REACH_M : length + STREET_REACH_M, rng.uniform(...PAVEMENT_M));
    const from = end(rng.chance(0.5));
    const to = end(rng.chance(0.5));
    const legMs = (p: Point) => Math.ceil((Math.hypot(p.x - door.x, p.y - door.y) / speed) * 1000);
    const base = { ...v, app: false, rotationOriginMs: v.enteredAt };
    delete base.beaconId;
    delete base.advertising;
    const legs: Array<[StreetWalk['leg'], number, number, Point, Point]> = [['approach', v.enteredAt - legMs(from), v.enteredAt, from, door]];
    if (v.leftAt !== null) legs.push(['departure', v.leftAt, v.leftAt + legMs(to), door, to]);
    for (const [leg, t0, t1, a, b] of legs) {
      if (t1 <= startMs || t0 > endMs || t1 <= t0) continue;
      out.push({
        ...base,
        leg,
        enteredAt: t0,
        leftAt: t1 <= endMs ? t1 : null,
        path: [{ zone: OUTSIDE_ZONE, from: Math.max(t0, startMs), to: Math.min(t1, endMs) }],
        walk: [
          { kind: 'spot', zone: OUTSIDE_ZONE, x: a.x, y: a.y, at: t0, until: t0 },
          { kind: 'spot', zone: OUTSIDE_ZONE, x: b.x, y: b.y, at: t1, until: t1 },
        ],
      });
    }
  }
  return out;
}

/**
 * Neighbouring shops' fixed iBeacons, each shop its own UUID: in turn beyond the left side wall, beyond
 * the right one and across the street. Fixed per store (an installation next door, not a run).
 */
export function neighbourBeacons(plan: FloorPlan, storeId: string, count: number): FixedBeacon[] {
  const length = frontLengthM(plan);
  const front = frontOf(plan);
  const depth = front === 'south' || front === 'north' ? plan.depthM : plan.widthM;
  const out: FixedBeacon[] = [];
  for (let j = 0; j < count; j += 1) {
    const rng = createRng(0, 'neighbour-beacon', storeId, j);
    const uuid = rng.hex(16).replace(/^(.{8})(.{4})(.{4})(.{4})(.{12})$/, '$1-$2-$3-$4-$5');
    const side = j % 3;
    const u = side === 0 ? -NEIGHBOUR_SIDE_M : side === 1 ? length + NEIGHBOUR_SIDE_M : rng.uniform(0, length);
    const w = side === 2 ? ACROSS_STREET_M : -rng.uniform(Math.min(2, depth / 4), Math.max(depth - 2, depth / 2));
    out.push({ id: `ibeacon:${uuid}:${rng.int(1, 65535)}:${rng.int(0, 65535)}`, zone: OUTSIDE_ZONE, ...streetPoint(plan, u, w) });
  }
  return out;
}
