import { describe, expect, it } from 'vitest';

import { DEMO_STORE, StoreSchema } from '../config/index.js';
import { buildSimulation } from './build.js';
import { buildFloorPlan, type ZoneRect } from './floor-plan.js';
import { positionOnWalk, sharedWall } from './movement.js';
import { createRng } from './prng.js';
import { drawPartySize, generateVisitors, positionAt, type VisitorParams } from './visitors.js';

const STORE = StoreSchema.parse(DEMO_STORE);
const PLAN = buildFloorPlan(STORE);
const START = Date.UTC(2026, 0, 5, 10);
const HOUR = 3_600_000;

function params(over: Partial<VisitorParams> = {}): VisitorParams {
  return {
    seed: 7,
    storeId: STORE.id,
    endMs: START + 10 * HOUR,
    appShare: 0.3,
    phoneShare: 0.9,
    randomizedMacShare: 0.7,
    macRotationMinMs: 180_000,
    macRotationMaxMs: 600_000,
    appAdvertisingDutyCycle: 1,
    appAdvertisingPeriodMs: 240_000,
    walkingSpeedMps: 0.85,
    groupShare: 0.3,
    meanGroupSize: 2.4,
    ...over,
  };
}

/** 400 parties, one a minute. */
const ARRIVALS = Array.from({ length: 400 }, (_, i) => START + 1 + i * 60_000);

function zoneOf(x: number, y: number, zones: readonly ZoneRect[]): string[] {
  const eps = 1e-6;
  return zones.filter((z) => x >= z.x - eps && x <= z.x + z.width + eps && y >= z.y - eps && y <= z.y + z.height + eps).map((z) => z.id);
}

describe('walking visitors', () => {
  const visitors = generateVisitors(ARRIVALS, PLAN, params());

  it('never move farther between two scans than walking speed × interval (no teleporting)', () => {
    // every step checked, the ones too long collected (one expect per step made most of the test's time)
    const problems: string[] = [];
    let steps = 0;
    for (const speed of [0.85, 1.4]) {
      for (const v of generateVisitors(ARRIVALS.slice(0, 100), PLAN, params({ walkingSpeedMps: speed }))) {
        const end = v.walk[v.walk.length - 1]?.until ?? v.enteredAt;
        let prev = positionAt(v, v.enteredAt);
        for (let t = v.enteredAt + 5000; t <= end + 5000; t += 5000) {
          const here = positionAt(v, t);
          const moved = Math.hypot(here.x - prev.x, here.y - prev.y);
          if (!(moved <= speed * 5 + 1e-9)) problems.push(`${v.id} at ${t} (${speed} m/s): moved ${moved} m`);
          steps += 1;
          prev = here;
        }
      }
    }
    expect(steps).toBeGreaterThan(0);
    expect(problems).toEqual([]);
  });

  it('enter and leave at a door, and stand inside the zone of their path at every instant', () => {
    const doors = PLAN.doors.map((d) => `${d.x},${d.y}`);
    // every instant checked, the ones outside their zone collected (one expect per instant made most of the test's time)
    const problems: string[] = [];
    let instants = 0;
    for (const v of visitors.slice(0, 150)) {
      const first = v.walk[0];
      const last = v.walk[v.walk.length - 1];
      expect(doors).toContain(`${first?.x},${first?.y}`);
      expect(doors).toContain(`${last?.x},${last?.y}`);
      for (const seg of v.path) {
        for (let t = seg.from; t < seg.to; t += 2000) {
          const at = positionAt(v, t);
          const zones = zoneOf(at.x, at.y, PLAN.zones);
          if (!zones.includes(seg.zone)) problems.push(`${v.id} at ${t}: (${at.x}, ${at.y}) is in [${zones.join(', ')}], not ${seg.zone}`);
          instants += 1;
        }
      }
    }
    expect(instants).toBeGreaterThan(0);
    expect(problems).toEqual([]);
  });

  it('cross only between adjacent zones, through the wall they share, at the instant the zone changes', () => {
    for (const v of visitors) {
      v.path.forEach((seg, i) => {
        if (i === 0) return;
        const prev = v.path[i - 1] as typeof seg;
        expect(PLAN.adjacency[prev.zone]).toContain(seg.zone);
        expect(seg.from).toBe(prev.to);
        expect(seg.to).toBeGreaterThan(seg.from);
        const wall = sharedWall(PLAN.zones.find((z) => z.id === prev.zone) as ZoneRect, PLAN.zones.find((z) => z.id === seg.zone) as ZoneRect);
        const at = positionOnWalk(v.walk, seg.from);
        if (wall) expect(wall.vertical ? at.x : at.y).toBeCloseTo(wall.at, 9);
      });
    }
  });

  it('pause at spots: the path and dwell follow the walk, from entering to leaving', () => {
    for (const v of visitors) {
      expect(v.path[0]?.from).toBe(v.enteredAt);
      expect(v.path[v.path.length - 1]?.to).toBe(v.leftAt);
      expect(v.walk.some((w) => w.kind === 'spot' && w.until > w.at)).toBe(true);
    }
  });
});

describe('groups', () => {
  const visitors = generateVisitors(ARRIVALS, PLAN, params());
  const byGroup = new Map<string, typeof visitors>();
  for (const v of visitors) if (v.group !== undefined) byGroup.set(v.group, [...(byGroup.get(v.group) ?? []), v]);

  it('walk together: same zone path, entering a little apart, standing close at spots', () => {
    expect(byGroup.size).toBeGreaterThan(50);
    for (const members of byGroup.values()) {
      expect(members.length).toBeGreaterThanOrEqual(2);
      expect(members.length).toBeLessThanOrEqual(4);
      const [leader, ...rest] = members as [(typeof members)[number], ...typeof members];
      for (const m of rest) {
        expect(m.path.map((s) => s.zone)).toEqual(leader.path.map((s) => s.zone));
        expect(m.enteredAt - leader.enteredAt).toBeGreaterThan(0);
        expect(m.enteredAt - leader.enteredAt).toBeLessThanOrEqual(4000);
        m.walk.forEach((w, i) => {
          const l = leader.walk[i];
          if (l && w.kind === 'spot' && w.until > w.at) expect(Math.hypot(w.x - l.x, w.y - l.y)).toBeLessThanOrEqual(1 + 1e-9);
        });
      }
    }
  });

  it('carry phones and the app by the shares, each person on their own', () => {
    const members = visitors.filter((v) => v.group !== undefined);
    const app = members.filter((v) => v.app).length / members.length;
    expect(app).toBeGreaterThan(0.2);
    expect(app).toBeLessThan(0.4);
    expect([...byGroup.values()].some((g) => g.some((v) => v.app) && g.some((v) => !v.app))).toBe(true);
  });

  it('come as the stated share of arrivals, with the stated mean size', () => {
    const n = 20_000;
    for (const [share, mean] of [
      [0.3, 2.4],
      [0.6, 3.2],
    ] as const) {
      const rng = createRng(3, 'party-sizes', share);
      const sizes = Array.from({ length: n }, () => drawPartySize(rng, share, mean));
      const groups = sizes.filter((s) => s > 1);
      // within four standard errors of a binomial share
      expect(Math.abs(groups.length / n - share)).toBeLessThan(4 * Math.sqrt((share * (1 - share)) / n));
      const meanSize = groups.reduce((a, b) => a + b, 0) / groups.length;
      expect(Math.abs(meanSize - mean)).toBeLessThan(0.03);
      expect(Math.min(...groups)).toBe(2);
      expect(Math.max(...groups)).toBe(4);
    }
  });

  it('keep visitorsPerHour a rate of people, not of parties', () => {
    // the visitors only: no street (passers-by are a stream of their own) and the slowest scans the options allow
    const sim = buildSimulation({ ...base(), visitorsPerHour: 600, durationMs: 4 * HOUR, scanIntervalMs: 300_000, captureRate: 1, neighbourBeacons: 0 });
    const perHour = sim.truth.visits.length / 4;
    expect(perHour).toBeGreaterThan(540);
    expect(perHour).toBeLessThan(660);
    expect(sim.truth.visits.some((v) => v.group !== undefined)).toBe(true);
  });
});

function base() {
  return {
    seed: 11,
    durationMs: HOUR,
    speed: 0,
    visitorsPerHour: 120,
    appShare: 0.3,
    scanIntervalMs: 5000,
    badRate: 0,
    store: STORE,
    topicPrefix: 'storeloop',
    now: START + 2 * HOUR,
  };
}

describe('a seeded run with walking and groups', () => {
  it('gives byte-identical messages and truth for the same seed and options', () => {
    // half an hour: some sixty people, half of the parties groups
    const opts = { ...base(), durationMs: HOUR / 2, walkingSpeedMps: 1.1, groupShare: 0.5, meanGroupSize: 3 };
    const a = buildSimulation(opts);
    const b = buildSimulation(opts);
    expect(JSON.stringify(b.messages)).toBe(JSON.stringify(a.messages));
    expect(JSON.stringify(b.truth)).toBe(JSON.stringify(a.truth));
    const c = buildSimulation({ ...opts, groupShare: 0.2 });
    expect(JSON.stringify(c.truth.visits)).not.toBe(JSON.stringify(a.truth.visits));
    expect(a.truth.options.walkingSpeedMps).toBe(1.1);
  });
});
