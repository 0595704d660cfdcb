/**
 * Staff on the floor all day: each staff member arrives through the door before the store opens and
 * leaves after it closes (opening.ts), takes one break out of the store, and in between moves between
 * the checkout, the aisles (restocking) and a back zone if the store has one, walking (movement.ts).
 * Their phone is on the store wifi: a per-network private address, one pseudonym all day. Staff pass
 * the people counter like anyone (devices.ts). Parameters and sources: docs/simulator.md.
 */
import { rectCentre } from '../config/index.js';
import { shortestRoute, zoneById, type FloorPlan, type ZoneKind } from './floor-plan.js';
import { Walker, type Waypoint } from './movement.js';
import { openDays, type Span } from './opening.js';
import { createRng, type Rng } from './prng.js';
import { clipPath, pathOfWalk, type PathSegment, type Visitor } from './visitors.js';
import type { StoreConfig } from '../config/index.js';

/** Staff indices start here, so their seeded streams (phone, carry, pseudonym) never meet a visitor's. */
export const STAFF_INDEX_BASE = 1_000_000;
/** Staff arrive this long before opening (uniform), ms (assumed: setting up the tills and the floor). */
const ARRIVE_BEFORE_MS: readonly [number, number] = [15 * 60_000, 30 * 60_000];
/** Staff leave this long after closing (uniform), ms (assumed: cashing up). */
const LEAVE_AFTER_MS: readonly [number, number] = [10 * 60_000, 20 * 60_000];
/** Length of the one break a day, out of the store (uniform), ms. */
const BREAK_MS: readonly [number, number] = [30 * 60_000, 60 * 60_000];
/** Mean time on one task (a till shift, restocking an aisle), exponential, clipped to [3, 45] min (assumed). */
const TASK_MEAN_MS = 15 * 60_000;
/** Staff move to a new spot within a task's zone about this often (assumed). */
const STAFF_SPOT_MS = 3 * 60_000;
/** Where staff work: the weight of each zone kind (assumed: tills staffed most, then restocking). */
const TASK_WEIGHT: Partial<Record<ZoneKind, number>> = { checkout: 0.45, aisle: 0.3, display: 0.1, backroom: 0.15, other: 0.15, fitting_room: 0.05 };

export interface StaffParams {
  seed: number;
  store: StoreConfig;
  plan: FloorPlan;
  startMs: number;
  endMs: number;
  staff: number;
  walkingSpeedMps: number;
}

/** One staff member's working day: the two stretches inside the store around the break. */
export interface StaffShift {
  /** `s001`, the same every day. */
  id: string;
  index: number;
  /** Arrival and departure, epoch ms (not clipped to the window). */
  shift: Span;
  /** The break out of the store, epoch ms. */
  break: Span;
  /** The stretches inside that meet the window, each a walk from the door to the door; paths clipped to the window. */
  stints: Visitor[];
  /** The stretch before the break and the one after it (undefined: outside the window). */
  before?: Visitor;
  after?: Visitor;
}

/** Every staff member's working days that meet the window. */
export function generateStaff(params: StaffParams): StaffShift[] {
  const { plan, startMs, endMs, staff } = params;
  if (staff <= 0 || (plan.doors.length === 0 && plan.entrances.length === 0)) return [];
  const out: StaffShift[] = [];
  for (const day of openDays(params.store, startMs, endMs, ARRIVE_BEFORE_MS[1] + LEAVE_AFTER_MS[1])) {
    for (let k = 0; k < staff; k += 1) {
      const rng = createRng(params.seed, 'staff', day.opens, k);
      const arrive = day.opens - Math.round(rng.uniform(...ARRIVE_BEFORE_MS));
      const leave = day.closes + Math.round(rng.uniform(...LEAVE_AFTER_MS));
      // breaks staggered over the middle of the day, so the others cover the floor
      const open = day.closes - day.opens;
      const breakLength = Math.round(rng.uniform(...BREAK_MS));
      const breakFrom = Math.round(day.opens + open * (0.3 + (0.4 * (k + 0.5)) / staff) - breakLength / 2);
      const brk = { from: breakFrom, to: breakFrom + breakLength };
      const index = STAFF_INDEX_BASE + k;
      const id = `s${String(k + 1).padStart(3, '0')}`;
      const before = stint(params, rng, index, id, arrive, brk.from);
      const after = stint(params, rng, index, id, brk.to, leave);
      const stints = [before, after].filter((s): s is Visitor => s !== undefined);
      if (stints.length > 0)
        out.push({ id, index, shift: { from: arrive, to: leave }, break: brk, stints, ...(before ? { before } : {}), ...(after ? { after } : {}) });
    }
  }
  return out;
}

/** A stretch inside: in at the door at `from`, tasks until `until`, out by the door; undefined when it misses the window. */
function stint(params: StaffParams, rng: Rng, index: number, id: string, from: number, until: number): Visitor | undefined {
  const { plan } = params;
  const door = plan.doors[0] ?? { zone: plan.entrances[0] as string, ...rectCentre(zoneById(plan.zones, plan.entrances[0] as string)) };
  const walker = new Walker(plan, params.walkingSpeedMps, door, door.zone, from);
  let here = door.zone;
  const lastUntil = () => (walker.waypoints[walker.waypoints.length - 1] as Waypoint).until;
  while (lastUntil() < until) {
    const zone = pickTaskZone(plan, rng);
    const route = shortestRoute(plan, here, zone);
    for (let i = 1; i < route.length; i += 1) walker.cross(route[i - 1] as string, route[i] as string, rng);
    const task = Math.min(45 * 60_000, Math.max(3 * 60_000, rng.exponential(TASK_MEAN_MS)));
    walker.browse(zone, Math.max(30_000, Math.min(Math.round(task), until - lastUntil())), STAFF_SPOT_MS, rng);
    here = zone;
  }
  const route = shortestRoute(plan, here, door.zone);
  for (let i = 1; i < route.length; i += 1) walker.cross(route[i - 1] as string, route[i] as string, rng);
  walker.leave(door, door.zone);
  const walk = walker.waypoints;
  const enteredAt = (walk[0] as Waypoint).at;
  const end = (walk[walk.length - 1] as Waypoint).until;
  if (end <= params.startMs || enteredAt > params.endMs) return undefined;
  const path = clipPath(pathOfWalk(walk), params.endMs)
    .filter((s) => s.to > params.startMs)
    .map((s) => ({ ...s, from: Math.max(s.from, params.startMs) }));
  return {
    index,
    id,
    role: 'staff',
    app: false,
    phone: true,
    randomizedMac: true,
    stableMac: true,
    rotationMs: 0,
    rotationPhaseMs: 0,
    enteredAt,
    leftAt: end <= params.endMs ? end : null,
    path,
    walk,
  };
}

function pickTaskZone(plan: FloorPlan, rng: Rng): string {
  const zones = plan.zones.filter((z) => (TASK_WEIGHT[z.kind] ?? 0) > 0 && z.kind !== 'entrance');
  if (zones.length === 0) return (plan.zones[0] as { id: string }).id;
  const total = zones.reduce((sum, z) => sum + (TASK_WEIGHT[z.kind] ?? 0), 0);
  let r = rng.uniform(0, total);
  for (const z of zones) {
    r -= TASK_WEIGHT[z.kind] ?? 0;
    if (r <= 0) return z.id;
  }
  return (zones[zones.length - 1] as { id: string }).id;
}

/** A staff member's day as the truth tells it: in the store, out on the break (zone `outside`), back, clipped to the window. */
export function staffPath(shift: StaffShift, startMs: number, endMs: number): PathSegment[] {
  const { before, after } = shift;
  const out: PathSegment[] = [...(before?.path ?? [])];
  // out from when they walked out (still inside at the window's end: no break in the window) until they came back
  const leftAt = before ? before.leftAt : shift.break.from;
  const outFrom = Math.max(startMs, leftAt ?? endMs);
  const outTo = Math.min(endMs, after?.enteredAt ?? shift.break.to);
  if (outTo > outFrom) out.push({ zone: 'outside', from: outFrom, to: outTo });
  out.push(...(after?.path ?? []));
  return out;
}
