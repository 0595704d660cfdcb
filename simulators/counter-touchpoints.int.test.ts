import { describe, expect, it } from 'vitest';

import { DEMO_STORE, StoreSchema } from '../config/index.js';
import { buildSimulation, type Simulation } from './build.js';
import { IDEAL_DELIVERY_OPTIONS } from './delivery-options.js';
import { counterEvents, countedEvents, TOGETHER_MS } from './devices.js';
import { buildFloorPlan } from './floor-plan.js';
import { DEFAULT_SIMULATION_OPTIONS, type SimulationOptions } from './options.js';
import { type Interaction, oneAtATime, USE_TAIL_MS, WAIT_MAX_MS } from './touchpoints.js';
import { generateVisitors } from './visitors.js';

const STORE = StoreSchema.parse(DEMO_STORE);
const PLAN = buildFloorPlan(STORE);
const START = Date.UTC(2026, 0, 5, 10);
const HOUR = 3_600_000;

/** Touchpoints and the people counter only see visitors: leave out the 3,400 passers-by an hour a busy shop front has, to keep the runs short. */
const NO_STREET = { captureRate: 1, neighbourBeacons: 0 } as const;
/** Nor do they see the scans (interactions and counts are drawn before them, from streams of their own): the slowest scans the options allow keep the runs short. */
const FEW_SCANS = { scanIntervalMs: 300_000 } as const;

function base(): SimulationOptions {
  return { ...DEFAULT_SIMULATION_OPTIONS, seed: 7, durationMs: 3 * HOUR, visitorsPerHour: 240, now: START + 3 * HOUR };
}

describe('one user at a time per touchpoint', () => {
  // a busy afternoon: many people in the fitting rooms at once (built once, read by the tests below)
  let busy: Simulation | undefined;
  const busyRun = (): Simulation => (busy ??= buildSimulation({ ...base(), visitorsPerHour: 600, ...NO_STREET, ...FEW_SCANS }));

  it('never lets two visitors’ uses of one touchpoint overlap, and keeps the tail free', () => {
    const { truth } = busyRun();
    const mirror = truth.interactions.filter((i) => i.touchpoint === 'mirror-1');
    expect(new Set(mirror.map((i) => i.visit)).size).toBeGreaterThan(20);
    for (const tp of STORE.touchpoints) {
      // ascending by time: whenever the user changes, the previous use's last action plus its tail has passed
      const at = truth.interactions.filter((i) => i.touchpoint === tp.id);
      for (let k = 1; k < at.length; k += 1) {
        const prev = at[k - 1] as Interaction;
        const next = at[k] as Interaction;
        if (next.visit !== prev.visit) expect(next.ts, tp.id).toBeGreaterThanOrEqual(prev.ts + USE_TAIL_MS[tp.type]);
      }
    }
  });

  it('keeps every interaction inside the visitor’s stay in the touchpoint’s zone', () => {
    const { truth } = busyRun();
    const zoneOf = new Map(STORE.touchpoints.map((t) => [t.id, t.zone]));
    const visits = new Map(truth.visits.map((v) => [v.visitor, v]));
    for (const i of truth.interactions) {
      const path = visits.get(i.visit)?.path ?? [];
      expect(path.some((s) => s.zone === zoneOf.get(i.touchpoint) && s.from <= i.ts && i.ts < s.to)).toBe(true);
    }
  });

  it('makes someone wait for a busy touchpoint, or give up after WAIT_MAX_MS', () => {
    const seg = { zone: 'z', from: 0, to: 10 * 60_000 };
    const use = (visitorIndex: number, at: number[]) => ({
      visitorIndex,
      seg,
      interactions: at.map((ts) => ({ touchpoint: 'k', action: 'tap', ts, visit: `v${visitorIndex}` })),
    });
    const waited = oneAtATime([use(1, [1000, 5000]), use(2, [6000])], 10_000);
    expect(waited.map((i) => [i.visit, i.ts])).toEqual([
      ['v1', 1000],
      ['v1', 5000],
      ['v2', 15_000],
    ]);
    const gaveUp = oneAtATime([use(1, [1000, 60_000]), use(2, [2000]), use(3, [71_000])], 10_000);
    expect(gaveUp.map((i) => i.visit)).toEqual(['v1', 'v1', 'v3']);
    expect(70_000 - 2000).toBeGreaterThan(WAIT_MAX_MS);
  });
});

describe('people counter with groups', () => {
  // 3000 parties, all groups (2-4, mean 3), one every 20 s
  const arrivals = Array.from({ length: 3000 }, (_, i) => START + 1 + i * 20_000);
  const visitors = generateVisitors(arrivals, PLAN, {
    seed: 11,
    storeId: STORE.id,
    endMs: START + 40 * HOUR,
    appShare: 0.3,
    phoneShare: 0.9,
    randomizedMacShare: 0.7,
    macRotationMinMs: DEFAULT_SIMULATION_OPTIONS.macRotationMinMs,
    macRotationMaxMs: DEFAULT_SIMULATION_OPTIONS.macRotationMaxMs,
    appAdvertisingDutyCycle: DEFAULT_SIMULATION_OPTIONS.appAdvertisingDutyCycle,
    appAdvertisingPeriodMs: DEFAULT_SIMULATION_OPTIONS.appAdvertisingPeriodMs,
    walkingSpeedMps: 0.85,
    groupShare: 1,
    meanGroupSize: 3,
  });
  const entries = counterEvents('entrance', PLAN, visitors).filter((e) => e.dir === 'in');
  const groups = new Set(visitors.map((v) => v.group));
  const extraMembers = visitors.length - groups.size;

  it('counts everyone when the miss chance is 0, and the first of each group always', () => {
    expect(countedEvents(11, 'counter-door', entries, 0)).toHaveLength(entries.length);
    const all = countedEvents(11, 'counter-door', entries, 1);
    expect(all).toHaveLength(groups.size);
    expect(TOGETHER_MS).toBeGreaterThan(1200);
  });

  it('misses each group member after the first with the stated chance (within four standard errors)', () => {
    const p = 0.15;
    const missed = entries.length - countedEvents(11, 'counter-door', entries, p).length;
    const se = Math.sqrt(extraMembers * p * (1 - p));
    expect(extraMembers).toBeGreaterThan(5000);
    expect(Math.abs(missed - extraMembers * p)).toBeLessThan(4 * se);
  });

  it('records the true and the reported counts in the truth, and reports what it says in its messages', () => {
    // without delivery effects: every report arrives, stamped in the window (the truth's in/out are what arrives, delivery.int.test.ts)
    const { truth, messages } = buildSimulation({
      ...base(),
      counterGroupMiss: 0.5,
      groupShare: 0.6,
      delivery: IDEAL_DELIVERY_OPTIONS,
      ...NO_STREET,
      ...FEW_SCANS,
    });
    const door = truth.footfall.find((f) => f.counter === 'counter-door');
    expect(door?.trueIn).toBe(truth.visits.filter((v) => v.enteredAt <= truth.windowEnd).length);
    expect(door?.in).toBeLessThan(door?.trueIn ?? 0);
    expect(door?.out).toBeLessThan(door?.trueOut ?? 0);
    let reported = 0;
    for (const m of messages) {
      if (m.kind === 'device' && m.sourceId === 'counter-door' && 'event' in m.payload && m.payload.event.type === 'people_count')
        reported += m.payload.event.in;
    }
    expect(reported).toBe(door?.in);
    const exact = buildSimulation({
      ...base(),
      counterGroupMiss: 0,
      groupShare: 0.6,
      delivery: IDEAL_DELIVERY_OPTIONS,
      ...NO_STREET,
      ...FEW_SCANS,
    }).truth.footfall.find((f) => f.counter === 'counter-door');
    // staff pass the counter too: counted in `in`, never in `trueIn`
    expect(exact?.in).toBe((exact?.trueIn ?? 0) + (exact?.staffIn ?? 0));
  });

  it('gives byte-identical messages and truth for the same seed and options', () => {
    // determinism needs no long window: half an hour, street included
    const opts = { ...base(), durationMs: HOUR / 2, now: START + HOUR / 2, counterGroupMiss: 0.3 };
    const a = buildSimulation(opts);
    const b = buildSimulation(opts);
    expect(JSON.stringify(b.messages)).toBe(JSON.stringify(a.messages));
    expect(JSON.stringify(b.truth)).toBe(JSON.stringify(a.truth));
    expect(a.truth.options.counterGroupMiss).toBe(0.3);
  }, 30_000);
});
