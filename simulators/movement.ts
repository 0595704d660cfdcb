/**
 * How a visitor moves: from a door, at walking speed, in straight lines from spot to spot inside a zone
 * and through the wall shared with the next zone on the route, pausing at spots, and back out through
 * the door. A walk is a list of waypoints; the position at any instant lies on the straight line
 * between two of them, so it never jumps. Group members follow their leader's waypoints a little
 * behind, standing a little beside them at each spot (docs/simulator.md, "Movement and groups").
 */
import { zoneById, type FloorPlan, type Point, type ZoneRect } from './floor-plan.js';
import type { Rng } from './prng.js';

export interface Waypoint extends Point {
  /** `door`: where the walk starts and ends; `cross`: a point on the wall into `zone`; `spot`: a place the visitor stops at. */
  kind: 'door' | 'cross' | 'spot';
  /** The zone the visitor is in from this waypoint on (a `cross` waypoint is the moment the zone changes). */
  zone: string;
  /** Epoch ms the visitor reaches the waypoint. */
  at: number;
  /** Epoch ms they walk on (after a pause at a spot; `at` elsewhere). */
  until: number;
}

/** A spot is kept this far off a zone's walls. */
const SPOT_MARGIN_M = 0.5;
/** A wall is crossed at least this far from the end of the stretch two zones share. */
const CROSSING_MARGIN_M = 0.5;
/** How far a group member stands from the leader's spot, m (assumed: a shopping companion an arm's length away). */
const MEMBER_OFFSET_M: readonly [number, number] = [0.4, 1];
/** A group member walks this far behind the one ahead of them, ms (assumed: about a step apart). */
export const MEMBER_LAG_MS = 1200;

/** Builds a walk at `speedMps`, one waypoint at a time. */
export class Walker {
  readonly waypoints: Waypoint[] = [];
  private t: number;
  private here: Point;

  constructor(
    private readonly plan: FloorPlan,
    private readonly speedMps: number,
    door: Point,
    zone: string,
    t: number,
  ) {
    this.t = t;
    this.here = { x: door.x, y: door.y };
    this.waypoints.push({ kind: 'door', zone, x: door.x, y: door.y, at: t, until: t });
  }

  /** Pauses at spots of `zone` for `pauseMs` in all, walking between them; a new spot about every `spotMs`. */
  browse(zone: string, pauseMs: number, spotMs: number, rng: Rng): void {
    const rect = zoneById(this.plan.zones, zone);
    const spots = Math.max(1, Math.round(pauseMs / spotMs));
    for (let i = 0; i < spots; i += 1) {
      const pause = Math.round(pauseMs / spots);
      this.walkTo('spot', zone, pointIn(rect, rng), pause);
    }
  }

  /** Walks from zone `from` into the adjacent zone `to` through the wall they share. */
  cross(from: string, to: string, rng: Rng): void {
    const a = zoneById(this.plan.zones, from);
    const b = zoneById(this.plan.zones, to);
    const shared = sharedWall(a, b);
    if (shared) {
      this.walkTo('cross', to, pointOnWall(shared, rng), 0);
      return;
    }
    // zones declared adjacent without a shared wall: leave `from` at its point nearest `to`, then step over
    const exit = clampInto(a, rectCentreOf(b), 0);
    this.walkTo('spot', from, exit, 0);
    this.walkTo('cross', to, clampInto(b, exit, 0), 0);
  }

  /** Walks out through the door. */
  leave(door: Point, zone: string): void {
    this.walkTo('door', zone, door, 0);
  }

  private walkTo(kind: Waypoint['kind'], zone: string, to: Point, pauseMs: number): void {
    this.t += walkMs(this.here, to, this.speedMps);
    this.waypoints.push({ kind, zone, x: to.x, y: to.y, at: this.t, until: this.t + pauseMs });
    this.t += pauseMs;
    this.here = to;
  }
}

/**
 * A group member's walk: the leader's waypoints, shifted by a fixed offset at spots (kept inside the
 * spot's zone), walls and doors crossed where the leader crossed them; starting `lagMs` after the leader
 * and leaving each spot `lagMs` after them, walking at the same speed in between.
 */
export function followWalk(plan: FloorPlan, leader: readonly Waypoint[], lagMs: number, speedMps: number, rng: Rng): Waypoint[] {
  const angle = rng.uniform(0, 2 * Math.PI);
  const radius = rng.uniform(MEMBER_OFFSET_M[0], MEMBER_OFFSET_M[1]);
  const offset = { x: radius * Math.cos(angle), y: radius * Math.sin(angle) };
  const out: Waypoint[] = [];
  for (const wp of leader) {
    const prev = out[out.length - 1];
    const pauses = wp.until > wp.at;
    const point = wp.kind === 'spot' && pauses ? clampInto(zoneById(plan.zones, wp.zone), { x: wp.x + offset.x, y: wp.y + offset.y }, 0.2) : wp;
    const at = prev ? prev.until + walkMs(prev, point, speedMps) : wp.at + lagMs;
    const until = pauses ? Math.max(at, wp.until + lagMs) : at;
    out.push({ kind: wp.kind, zone: wp.zone, x: point.x, y: point.y, at, until });
  }
  return out;
}

/** Where a walk is at `t`: at a waypoint while paused there, else on the straight line between two. */
export function positionOnWalk(walk: readonly Waypoint[], t: number): Point {
  let lo = 0;
  let hi = walk.length - 1;
  // the last waypoint reached at or before t
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if ((walk[mid] as Waypoint).at <= t) lo = mid;
    else hi = mid - 1;
  }
  const a = walk[lo] as Waypoint;
  const b = walk[lo + 1];
  if (t <= a.until || !b || b.at <= a.until) return { x: a.x, y: a.y };
  const f = Math.min(1, (t - a.until) / (b.at - a.until));
  return { x: a.x + f * (b.x - a.x), y: a.y + f * (b.y - a.y) };
}

/** Time to walk a straight line, ms: rounded up, so the walk never goes faster than `speedMps`. */
function walkMs(from: Point, to: Point, speedMps: number): number {
  const d = Math.hypot(to.x - from.x, to.y - from.y);
  return d === 0 ? 0 : Math.max(1, Math.ceil((d / speedMps) * 1000));
}

interface Wall {
  /** The wall is vertical (x fixed) or horizontal (y fixed). */
  vertical: boolean;
  at: number;
  from: number;
  to: number;
}

/** The stretch of wall two touching rectangles share, if it has a length. */
export function sharedWall(a: ZoneRect, b: ZoneRect): Wall | undefined {
  const eps = 1e-9;
  const y0 = Math.max(a.y, b.y);
  const y1 = Math.min(a.y + a.height, b.y + b.height);
  const x0 = Math.max(a.x, b.x);
  const x1 = Math.min(a.x + a.width, b.x + b.width);
  if (y1 - y0 > eps && (Math.abs(a.x + a.width - b.x) < eps || Math.abs(b.x + b.width - a.x) < eps))
    return { vertical: true, at: Math.abs(a.x + a.width - b.x) < eps ? b.x : a.x, from: y0, to: y1 };
  if (x1 - x0 > eps && (Math.abs(a.y + a.height - b.y) < eps || Math.abs(b.y + b.height - a.y) < eps))
    return { vertical: false, at: Math.abs(a.y + a.height - b.y) < eps ? b.y : a.y, from: x0, to: x1 };
  return undefined;
}

function pointOnWall(wall: Wall, rng: Rng): Point {
  const margin = Math.min(CROSSING_MARGIN_M, (wall.to - wall.from) / 4);
  const along = rng.uniform(wall.from + margin, wall.to - margin);
  return wall.vertical ? { x: wall.at, y: along } : { x: along, y: wall.at };
}

function pointIn(rect: ZoneRect, rng: Rng): Point {
  const mx = Math.min(SPOT_MARGIN_M, rect.width / 4);
  const my = Math.min(SPOT_MARGIN_M, rect.height / 4);
  return { x: rng.uniform(rect.x + mx, rect.x + rect.width - mx), y: rng.uniform(rect.y + my, rect.y + rect.height - my) };
}

/** The point of the rectangle (less `marginM` off its walls) nearest `p`. */
function clampInto(rect: ZoneRect, p: Point, marginM: number): Point {
  const mx = Math.min(marginM, rect.width / 4);
  const my = Math.min(marginM, rect.height / 4);
  return { x: Math.min(rect.x + rect.width - mx, Math.max(rect.x + mx, p.x)), y: Math.min(rect.y + rect.height - my, Math.max(rect.y + my, p.y)) };
}

function rectCentreOf(r: ZoneRect): Point {
  return { x: r.x + r.width / 2, y: r.y + r.height / 2 };
}
