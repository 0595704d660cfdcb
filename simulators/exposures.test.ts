/**
 * Exposures (exposures.ts): hand-built walks past and up to a touchpoint, with and without an
 * interaction, and on a seeded run every interaction inside an exposure that says so.
 */
import { describe, expect, it } from 'vitest';

import { buildSimulation } from './build.js';
import { EXPOSURE_MIN_MS, exposures, inSight, SIGHT_RADIUS_M, type ExposedVisitor } from './exposures.js';
import type { Waypoint } from './movement.js';
import { DEFAULT_SIMULATION_OPTIONS } from './options.js';
import type { Interaction } from './touchpoints.js';
import type { PathSegment } from './visitors.js';

const S = 1000;
const T0 = Date.UTC(2025, 5, 14, 15, 0, 0);
/** A kiosk at the origin of zone `a` (x < 0 is zone `b`). */
const plan = { touchpoints: [{ id: 'kiosk', zone: 'a', x: 0, y: 0 }] };

function wp(kind: Waypoint['kind'], zone: string, x: number, y: number, atS: number, untilS = atS): Waypoint {
  return { kind, zone, x, y, at: T0 + atS * S, until: T0 + untilS * S };
}

/** A visitor whose path is the zones of their walk, from `cross` to `cross`. */
function visitor(id: string, walk: Waypoint[]): ExposedVisitor {
  const path: PathSegment[] = [];
  for (const w of walk) {
    const last = path[path.length - 1];
    if (last !== undefined && last.zone === w.zone) continue;
    if (last !== undefined) last.to = w.at;
    path.push({ zone: w.zone, from: w.at, to: (walk[walk.length - 1] as Waypoint).until });
  }
  return { id, walk, path };
}

const use = (visit: string, atS: number): Interaction => ({ touchpoint: 'kiosk', action: 'tap', ts: T0 + atS * S, visit });

describe('inSight', () => {
  it('measures exactly the time a straight walk spends within the radius, and a pause inside it', () => {
    // 1 m/s along y = 3 from x = −20 to x = 20: in range while |x| ≤ √(9² − 3²)
    const walk = [wp('door', 'a', -20, 3, 0), wp('spot', 'a', 20, 3, 40, 50)];
    const half = Math.sqrt(SIGHT_RADIUS_M ** 2 - 9);
    const sight = inSight(walk, { x: 0, y: 0 }, SIGHT_RADIUS_M, T0, T0 + 60 * S);
    expect(sight.ms).toBeCloseTo(2 * half * S, 2); // to 0.005 ms: epoch ms in doubles
    expect(sight.first).toBeCloseTo(T0 + (20 - half) * S, 2); // to 0.005 ms: epoch ms in doubles
    expect(sight.last).toBeCloseTo(T0 + (20 + half) * S, 2); // to 0.005 ms: epoch ms in doubles
    // the pause at (20, 3) is out of range; one at (5, 0) is in range for its 10 s
    const paused = [wp('door', 'a', -20, 0, 0), wp('spot', 'a', 5, 0, 25, 35)];
    expect(inSight(paused, { x: 0, y: 0 }, SIGHT_RADIUS_M, T0, T0 + 60 * S).ms).toBeCloseTo((9 + 5 + 10) * S, 2); // to 0.005 ms: epoch ms in doubles
    // clipped to [from, to)
    expect(inSight(paused, { x: 0, y: 0 }, SIGHT_RADIUS_M, T0 + 30 * S, T0 + 60 * S).ms).toBeCloseTo(5 * S, 2); // to 0.005 ms: epoch ms in doubles
  });
});

describe('exposures', () => {
  it('leaves out a walk past that is in sight for less than EXPOSURE_MIN_MS', () => {
    // 2 m/s straight past at 3 m: in sight 8.5 s
    const past = visitor(
      'v1',
      [wp('door', 'a', 0, -20, 0), wp('spot', 'a', 0, 20, 20, 20)].map((w) => ({ ...w, x: 3 })),
    );
    expect(EXPOSURE_MIN_MS).toBe(10_000);
    expect(exposures(plan, [past], [])).toEqual([]);
  });

  it('gives one exposure per stay in the zone long enough in sight, with whether it ended in an interaction', () => {
    const v1 = visitor('v1', [
      wp('door', 'a', 20, 0, 0),
      wp('spot', 'a', 4, 0, 16, 46), // 30 s at 4 m: in sight from x = 9 (t = 11 s) to leaving it
      wp('cross', 'b', 0, 12, 58), // into zone b (no exposure there)
      wp('spot', 'b', -2, 2, 68, 98),
      wp('cross', 'a', 0, 2, 100),
      wp('spot', 'a', 2, 2, 102, 160), // back in zone a: a second stay, uses the kiosk at 150 s
    ]);
    const v2 = visitor('v2', [wp('door', 'a', 20, 0, 0), wp('spot', 'a', 6, 0, 14, 60)]); // in sight 49 s, never uses it
    const list = exposures(plan, [v2, v1], [use('v1', 150), use('v1', 155)]);
    expect(list.map((e) => [e.visitor, e.from - T0, e.interacted, e.interactedAt === undefined ? undefined : e.interactedAt - T0])).toEqual([
      ['v1', 11 * S, false, undefined],
      ['v2', 11 * S, false, undefined],
      ['v1', 100 * S, true, 150 * S],
    ]);
    const [first, , third] = list;
    // leaving the spot at 46 s towards (0, 12): out of range where |(4 − 4f, 12f)| = 9
    expect(first!.inSightMs).toBeGreaterThan(35 * S);
    expect(first!.to).toBeLessThanOrEqual(T0 + 58 * S);
    expect(third).toMatchObject({ touchpoint: 'kiosk', to: T0 + 160 * S, inSightMs: 60 * S });
  });

  it('counts someone who used the touchpoint as exposed even when the walk kept them out of sight', () => {
    const far = visitor('v3', [wp('door', 'a', 30, 0, 0), wp('spot', 'a', 12, 0, 18, 60)]); // never within 9 m
    expect(exposures(plan, [far], [])).toEqual([]);
    expect(exposures(plan, [far], [use('v3', 40)])).toEqual([
      { touchpoint: 'kiosk', visitor: 'v3', from: T0 + 40 * S, to: T0 + 40 * S, inSightMs: 0, interacted: true, interactedAt: T0 + 40 * S },
    ]);
  });
});

describe('exposures of a seeded run', () => {
  const { truth } = buildSimulation({ ...DEFAULT_SIMULATION_OPTIONS, seed: 7, durationMs: 30 * 60_000, now: T0 });
  const zoneOf = new Map(truth.floorPlan.touchpoints.map((t) => [t.id, t.zone]));

  it('has exposures with and without interactions, each inside a stay in the touchpoint zone', () => {
    expect(truth.exposures.filter((e) => e.interacted).length).toBeGreaterThan(3);
    expect(truth.exposures.filter((e) => !e.interacted).length).toBeGreaterThan(3);
    const visits = new Map(truth.visits.map((v) => [v.visitor, v]));
    for (const e of truth.exposures) {
      const stay = visits.get(e.visitor)?.stays.find((s) => s.zone === zoneOf.get(e.touchpoint) && s.enter <= e.from && e.to <= s.exit);
      expect(stay, `${e.touchpoint} ${e.visitor}`).toBeDefined();
      expect(e.inSightMs >= EXPOSURE_MIN_MS || e.interacted).toBe(true);
      expect(e.to - e.from).toBeGreaterThanOrEqual(e.inSightMs - 1);
    }
  });

  it('puts every interaction inside an exposure of its visitor that ended in one', () => {
    for (const i of truth.interactions) {
      const exposure = truth.exposures.find((e) => e.touchpoint === i.touchpoint && e.visitor === i.visit && e.from <= i.ts && i.ts <= e.to);
      expect(exposure?.interacted, `${i.touchpoint} ${i.visit} ${i.ts}`).toBe(true);
      expect(exposure!.interactedAt).toBeLessThanOrEqual(i.ts);
    }
  });
});
