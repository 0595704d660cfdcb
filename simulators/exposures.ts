/**
 * Exposures (docs/simulator.md, "Ground truth"): who was where they could see a touchpoint, long
 * enough to have seen it, and whether they then used it. From the model alone (the walk and the
 * interactions), never from the signals.
 *
 * A visitor is in sight of a touchpoint while they stand in the touchpoint's zone (a zone's walls and
 * shelving block the view from the next zone) within SIGHT_RADIUS_M of it. One stay in the zone gives
 * one exposure when the visitor was in sight for at least EXPOSURE_MIN_MS in all during it, or used the
 * touchpoint during it (someone who used it has seen it).
 */
import type { FloorPlan, PlacedTouchpoint, Point } from './floor-plan.js';
import type { Waypoint } from './movement.js';
import type { Interaction } from './touchpoints.js';
import { zoneStays, type ZoneStay } from './truth-minutes.js';
import type { PathSegment } from './visitors.js';

/**
 * How far a touchpoint is in sight, m: about 30 ft, the outer edge of the "opportunity to see" range
 * a Bluetooth signage-audience product counts (SignMetrix, "Understanding How SignMetrix Audience
 * Metrics Are Calculated": OTS within 15–30 ft of the display).
 */
export const SIGHT_RADIUS_M = 9;
/**
 * How long in sight is long enough to have seen it, ms. **Assumed**: audience products count a device
 * after 1 s in range (SignMetrix's default minimum dwell) and people look at a screen for about 0.7 s
 * on average (Ravnik and Solina, "Audience Measurement of Digital Signage", Interacting with
 * Computers 25(3), 2013); 10 s in sight leaves out a walk past the far edge of the range.
 */
export const EXPOSURE_MIN_MS = 10_000;

export interface Exposure {
  touchpoint: string;
  /** The visit's internal id (`visits[].visitor`, `interactions[].visit`). */
  visitor: string;
  /** Epoch ms: first and last instant in sight during the stay (widened to the interactions of the stay). */
  from: number;
  to: number;
  /** Time in sight during the stay, ms. */
  inSightMs: number;
  /** Whether the visitor used the touchpoint during this stay in its zone. */
  interacted: boolean;
  /** The stay's first interaction with the touchpoint, epoch ms (only when `interacted`). */
  interactedAt?: number;
}

/** What exposures need of a visitor: the internal id, the walk and the (window-clipped) path. */
export interface ExposedVisitor {
  id: string;
  walk: readonly Waypoint[];
  path: readonly PathSegment[];
}

/** Every exposure of the run, ordered by `from`, then touchpoint, then visitor. */
export function exposures(plan: Pick<FloorPlan, 'touchpoints'>, visitors: readonly ExposedVisitor[], interactions: readonly Interaction[]): Exposure[] {
  const used = new Map<string, number[]>(); // `${touchpoint} ${visit}` → ascending ts
  for (const i of interactions) {
    const key = `${i.touchpoint} ${i.visit}`;
    used.set(key, [...(used.get(key) ?? []), i.ts]);
  }
  const out: Exposure[] = [];
  for (const visitor of visitors) {
    const stays = zoneStays(visitor.path);
    for (const tp of plan.touchpoints) {
      const uses = used.get(`${tp.id} ${visitor.id}`) ?? [];
      for (const stay of stays) {
        if (stay.zone !== tp.zone) continue;
        const exposure = exposureOfStay(tp, visitor, stay, uses);
        if (exposure !== undefined) out.push(exposure);
      }
    }
  }
  return out.sort((a, b) => a.from - b.from || cmp(a.touchpoint, b.touchpoint) || cmp(a.visitor, b.visitor));
}

function exposureOfStay(tp: PlacedTouchpoint, visitor: ExposedVisitor, stay: ZoneStay, uses: readonly number[]): Exposure | undefined {
  const sight = inSight(visitor.walk, tp, SIGHT_RADIUS_M, stay.enter, stay.exit);
  // an interaction lies in the stay (touchpoints.ts: before the visitor steps out of the zone)
  const during = uses.filter((ts) => ts >= stay.enter && ts < stay.exit);
  if (sight.ms < EXPOSURE_MIN_MS && during.length === 0) return undefined;
  const from = Math.round(Math.min(sight.first, ...during));
  const to = Math.round(Math.max(sight.last, ...during));
  const first = during[0];
  return {
    touchpoint: tp.id,
    visitor: visitor.id,
    from,
    to,
    inSightMs: Math.round(sight.ms),
    interacted: first !== undefined,
    ...(first !== undefined ? { interactedAt: first } : {}),
  };
}

/**
 * Time a walk spends within `radiusM` of `target` between `from` and `to` (epoch ms), exactly: at a
 * pause the position is fixed, between waypoints it moves in a straight line at constant speed.
 * `first`/`last`: the first and last instant in range (±Infinity when never).
 */
export function inSight(walk: readonly Waypoint[], target: Point, radiusM: number, from: number, to: number): { ms: number; first: number; last: number } {
  let ms = 0;
  let first = Infinity;
  let last = -Infinity;
  const add = (a: number, b: number) => {
    const lo = Math.max(a, from);
    const hi = Math.min(b, to);
    if (hi <= lo) return;
    ms += hi - lo;
    first = Math.min(first, lo);
    last = Math.max(last, hi);
  };
  const r2 = radiusM * radiusM;
  walk.forEach((a, i) => {
    // paused at the waypoint
    if ((a.x - target.x) ** 2 + (a.y - target.y) ** 2 <= r2) add(a.at, a.until);
    const b = walk[i + 1];
    if (b === undefined || b.at <= a.until || b.at <= from || a.until >= to) return;
    // walking from a to b: |a + f·d − target|² ≤ r², f in [0, 1]
    const dx = b.x - a.x;
    const dy = b.y - a.y;
    const ex = a.x - target.x;
    const ey = a.y - target.y;
    const qa = dx * dx + dy * dy;
    const qb = 2 * (dx * ex + dy * ey);
    const qc = ex * ex + ey * ey - r2;
    let f0 = 0;
    let f1 = 1;
    if (qa === 0) {
      if (qc > 0) return;
    } else {
      const disc = qb * qb - 4 * qa * qc;
      if (disc < 0) return;
      const root = Math.sqrt(disc);
      f0 = Math.max(0, (-qb - root) / (2 * qa));
      f1 = Math.min(1, (-qb + root) / (2 * qa));
      if (f1 <= f0) return;
    }
    const span = b.at - a.until;
    add(a.until + f0 * span, a.until + f1 * span);
  });
  return { ms, first, last };
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
