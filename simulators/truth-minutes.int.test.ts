/**
 * The truth's zone per minute, zone stays and route (truth-minutes.ts): hand-built paths for the edge
 * cases, and on a seeded run the same minutes as the evaluation derived from the path before it read
 * them from the truth.
 */
import { describe, expect, it } from 'vitest';

import { buildSimulation } from './build.js';
import { DEFAULT_SIMULATION_OPTIONS } from './options.js';
import { dwellByZone, MINUTE_MS, minuteZones, PASSING_MS, route, truthMinutes, zoneStays } from './truth-minutes.js';
import type { PathSegment } from './visitors.js';

const M = MINUTE_MS;
const T0 = Date.UTC(2025, 5, 14, 15, 0, 0); // a minute boundary
const S = 1000;

describe('truthMinutes', () => {
  it('gives each minute spent at least half inside the zone the visitor spent most of it in, null otherwise', () => {
    const minutes = truthMinutes([
      { zone: 'entrance', from: T0 + 40 * S, to: T0 + M + 20 * S }, // 20 s of minute 0: less than half
      { zone: 'shoes', from: T0 + M + 20 * S, to: T0 + 3 * M + 10 * S }, // 10 s of minute 3
    ]);
    expect(minutes).toEqual({ start: T0, zones: [null, 'shoes', 'shoes', null] }); // minute 1: 20 s entrance, 40 s shoes
    expect([...minuteZones(minutes)]).toEqual([
      [T0 + M, 'shoes'],
      [T0 + 2 * M, 'shoes'],
    ]);
  });

  it('gives a minute split 50/50 to the zone first on the path', () => {
    const ab = [
      { zone: 'a', from: T0, to: T0 + 30 * S },
      { zone: 'b', from: T0 + 30 * S, to: T0 + M },
    ];
    expect(truthMinutes(ab).zones).toEqual(['a']);
    const ba = [
      { zone: 'b', from: T0, to: T0 + 30 * S },
      { zone: 'a', from: T0 + 30 * S, to: T0 + M },
    ];
    expect(truthMinutes(ba).zones).toEqual(['b']);
  });

  it('sums a zone stayed in twice within one minute', () => {
    const path = [
      { zone: 'a', from: T0, to: T0 + 20 * S },
      { zone: 'b', from: T0 + 20 * S, to: T0 + 45 * S }, // 25 s, the longest single stay
      { zone: 'a', from: T0 + 45 * S, to: T0 + M }, // a: 35 s in all
    ];
    expect(truthMinutes(path).zones).toEqual(['a']);
  });

  it('counts a minute spent exactly half inside, not one spent a millisecond less', () => {
    expect(truthMinutes([{ zone: 'a', from: T0 + 10 * S, to: T0 + 40 * S }]).zones).toEqual(['a']);
    expect(truthMinutes([{ zone: 'a', from: T0 + 10 * S, to: T0 + 40 * S - 1 }]).zones).toEqual([null]);
    // someone inside less than half a minute, across a minute boundary: no minute at all
    expect(minuteZones(truthMinutes([{ zone: 'a', from: T0 + 50 * S, to: T0 + M + 15 * S }])).size).toBe(0);
  });

  it('starts at the clock minute the path starts in and stops at the window end that cut the path', () => {
    const windowEnd = T0 + 5 * M + 20 * S; // the path is clipped here (visitor still inside)
    const minutes = truthMinutes([
      { zone: 'entrance', from: T0 + 2 * M, to: T0 + 2 * M + 15 * S },
      { zone: 'a', from: T0 + 2 * M + 15 * S, to: windowEnd },
    ]);
    expect(minutes.start).toBe(T0 + 2 * M);
    expect(minutes.zones).toEqual(['a', 'a', 'a', null]); // minute 5: only 20 s before the window ended
    const atBoundary = truthMinutes([{ zone: 'a', from: T0 + 2 * M, to: T0 + 4 * M }]);
    expect(atBoundary).toEqual({ start: T0 + 2 * M, zones: ['a', 'a'] });
    expect(truthMinutes([])).toEqual({ start: 0, zones: [] });
  });
});

describe('zoneStays and route', () => {
  it('gives each maximal run its dwell and flags those under PASSING_MS as passing', () => {
    const stays = zoneStays([
      { zone: 'entrance', from: T0, to: T0 + 12 * S },
      { zone: 'women', from: T0 + 12 * S, to: T0 + 12 * S + PASSING_MS - 1 }, // walked through
      { zone: 'shoes', from: T0 + 12 * S + PASSING_MS - 1, to: T0 + 3 * M },
      { zone: 'shoes', from: T0 + 3 * M, to: T0 + 3 * M + PASSING_MS }, // the same run goes on
      { zone: 'entrance', from: T0 + 3 * M + PASSING_MS, to: T0 + 4 * M + PASSING_MS },
    ]);
    expect(stays).toEqual([
      { zone: 'entrance', enter: T0, exit: T0 + 12 * S, dwellMs: 12 * S, passing: true },
      { zone: 'women', enter: T0 + 12 * S, exit: T0 + 12 * S + PASSING_MS - 1, dwellMs: PASSING_MS - 1, passing: true },
      { zone: 'shoes', enter: T0 + 12 * S + PASSING_MS - 1, exit: T0 + 3 * M + PASSING_MS, dwellMs: 3 * M - 12 * S + 1 },
      { zone: 'entrance', enter: T0 + 3 * M + PASSING_MS, exit: T0 + 4 * M + PASSING_MS, dwellMs: M },
    ]);
    expect(route(stays)).toEqual(['entrance', 'women', 'shoes', 'entrance']);
    // dwell leaves passing stays out: the entrance counts its last stay only, women not at all
    expect(dwellByZone(stays)).toEqual(
      new Map([
        ['shoes', 3 * M - 12 * S + 1],
        ['entrance', M],
      ]),
    );
  });
});

/** The evaluation's derivation before it read the minutes from the truth (evaluation/metrics.ts, truthZoneMinutes), kept as the oracle. */
function formerTruthZoneMinutes(path: readonly PathSegment[]): Map<number, string> {
  const perMinute = new Map<number, Map<string, number>>();
  for (const stay of path) {
    for (let minute = Math.floor(stay.from / M) * M; minute < stay.to; minute += M) {
      const overlap = Math.min(stay.to, minute + M) - Math.max(stay.from, minute);
      if (overlap <= 0) continue;
      const zones = perMinute.get(minute) ?? new Map<string, number>();
      zones.set(stay.zone, (zones.get(stay.zone) ?? 0) + overlap);
      perMinute.set(minute, zones);
    }
  }
  const out = new Map<number, string>();
  for (const [minute, zones] of [...perMinute].sort((a, b) => a[0] - b[0])) {
    let total = 0;
    let best: [string, number] | undefined;
    for (const [zone, ms] of zones) {
      total += ms;
      if (best === undefined || ms > best[1]) best = [zone, ms];
    }
    if (best !== undefined && total * 2 >= M) out.set(minute, best[0]);
  }
  return out;
}

describe('the truth of a seeded run', () => {
  // the run of test/evaluate-simulator.int.test.ts (seed 7, 30 minutes, 120 visitors/h), at a fixed instant
  const opts = { ...DEFAULT_SIMULATION_OPTIONS, seed: 7, durationMs: 30 * M, visitorsPerHour: 120, now: T0 + 17 * S };
  const { truth } = buildSimulation(opts);

  it('has, for every visit, the minutes the evaluation derived from the path before (the same figures)', () => {
    expect(truth.truthVersion).toBe(2);
    expect(truth.visits.length).toBeGreaterThan(30);
    for (const v of truth.visits) {
      expect([...minuteZones(v.minutes)], v.visitor).toEqual([...formerTruthZoneMinutes(v.path)]);
      expect(v.minutes.start % M).toBe(0);
      expect(v.stays.map((s) => [s.zone, s.enter, s.exit])).toEqual(v.path.map((s) => [s.zone, s.from, s.to]));
      expect(v.route).toEqual(v.path.map((s) => s.zone));
    }
    // the window ends mid-minute: someone still inside has a null last minute when under half of it was in the window
    const inside = truth.visits.filter((v) => v.leftAt === null);
    expect(inside.length).toBeGreaterThan(0);
    for (const v of inside) expect(v.minutes.zones[v.minutes.zones.length - 1]).toBeNull(); // 17 s of the last minute
  });

  it('is byte-identical for the same seed, minutes, stays and exposures included', () => {
    const again = buildSimulation(opts).truth;
    expect(JSON.stringify(again)).toBe(JSON.stringify(truth));
    expect(JSON.stringify(buildSimulation({ ...opts, seed: 8 }).truth.exposures)).not.toBe(JSON.stringify(truth.exposures));
  });
});
