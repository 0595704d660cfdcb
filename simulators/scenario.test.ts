import { readdirSync } from 'node:fs';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import { DEMO_STORE, StoreSchema } from '../config/index.js';
import { buildSimulation } from './build.js';
import { InfluxOutagePlayer, type InfluxOutageEvent } from './influx-outages.js';
import { DEFAULT_SIMULATION_OPTIONS, type SimulationOptions } from './options.js';
import { createRng } from './prng.js';
import { agentSources, loadScenario, parseOnly, parseScenario, ScenarioError, scenarioProblems, type Scenario } from './scenario.js';
import { surgedArrivals } from './scenario-effects.js';

const STORE = StoreSchema.parse(DEMO_STORE);
const START = Date.UTC(2026, 0, 5, 10);
const MIN = 60_000;
const HOUR = 60 * MIN;
const SCENARIOS = join(import.meta.dirname, '..', 'scenarios');

function base(durationMs = HOUR): SimulationOptions {
  return { ...DEFAULT_SIMULATION_OPTIONS, seed: 7, durationMs, visitorsPerHour: 240, now: START + durationMs };
}

function scenario(events: unknown[], extra: Record<string, unknown> = {}): Scenario {
  return parseScenario({ name: 'test', events, ...extra });
}

describe('scenario files', () => {
  it('ships examples that are valid for the demo store in a 45-minute run', () => {
    const files = readdirSync(SCENARIOS).filter((f) => f.endsWith('.yaml'));
    expect(files.length).toBeGreaterThanOrEqual(5);
    for (const file of files) {
      const s = loadScenario(join(SCENARIOS, file));
      expect(s.name, file).toBe(file.replace(/\.yaml$/, ''));
      expect(scenarioProblems(s, STORE, 45 * MIN), file).toEqual([]);
    }
  });

  it('reads durations and signed offsets', () => {
    const s = scenario([
      { type: 'clock_skew', at: '1m30s', for: 600, sources: ['ble-men'], offset: '-2m' },
      { type: 'crowd_surge', at: 0, for: '1h', factor: 2 },
    ]);
    expect(s.events[0]).toMatchObject({ at: 90_000, for: 600_000, offset: -120_000 });
    expect(s.events[1]).toMatchObject({ at: 0, for: HOUR });
  });

  it('names every problem with its place in the file', () => {
    let error: unknown;
    try {
      parseScenario({
        name: 'Bad Name',
        events: [
          { type: 'crowd_surge', at: 'soon', for: '5m', factor: 0 },
          { type: 'meteor', at: '1m' },
        ],
      });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ScenarioError);
    const problems = (error as ScenarioError).problems.join('\n');
    expect(problems).toContain('name: expected lowercase letters');
    expect(problems).toContain('events.0.at: expected a duration');
    expect(problems).toContain('events.0.factor');
    expect(problems).toContain('events.1.type');
  });

  it('refuses unknown ids and events after the window, naming what the store has', () => {
    const s = scenario([
      { type: 'sensor_offline', at: '1m', for: '1m', sources: ['ble-attic'] },
      { type: 'touchpoint_out_of_order', at: '2h', for: '1m', touchpoints: ['mirror-1'] },
      { type: 'agent_offline', at: '1m', for: '1m', agent: 'edge-9' },
    ]);
    const problems = scenarioProblems(s, STORE, HOUR);
    expect(problems).toHaveLength(3);
    expect(problems[0]).toContain('unknown sources ble-attic (store demo-store has ble-entrance');
    expect(problems[1]).toContain("after the window's end");
    expect(problems[2]).toContain('unknown agent edge-9 (store demo-store has edge-1)');
    expect(() => buildSimulation({ ...base(), scenario: s })).toThrow(/unknown agent edge-9/);
  });

  it('reads a broken file as a ScenarioError naming the file', () => {
    expect(() => loadScenario(join(SCENARIOS, 'no-such.yaml'))).toThrow(/cannot read scenario .*no-such\.yaml/);
  });

  it('parses --only and refuses unknown categories', () => {
    expect(parseOnly('ble, touchpoint')).toEqual(['ble', 'touchpoint']);
    expect(() => parseOnly('ble,radar')).toThrow(/--only: expected a comma-separated list of ble, wifi/);
  });

  it('lets an agent speak for the sources of its zone, or all unclaimed ones', () => {
    expect(agentSources(STORE, 'edge-1')).toHaveLength(STORE.sensors.length + STORE.touchpoints.length + STORE.devices.length);
    const zoned = StoreSchema.parse({ ...DEMO_STORE, agents: [{ id: 'edge-1' }, { id: 'edge-back', zone: 'fitting-rooms' }] });
    expect(agentSources(zoned, 'edge-back').sort()).toEqual(['ble-fitting', 'mirror-1', 'wifi-back']);
    expect(agentSources(zoned, 'edge-1')).not.toContain('ble-fitting');
  });
});

describe('crowd surge', () => {
  it('adds (factor − 1) × the rate inside the window, within Poisson bounds, and nothing outside', () => {
    const from = START + HOUR;
    const to = from + 2 * HOUR;
    const events = [{ type: 'crowd_surge' as const, factor: 4, from, to }];
    const partiesPerHour = 100;
    const surged = surgedArrivals([START, from + 1, to + 5], events, partiesPerHour, createRng(1, 'surge'));
    const extra = surged.length - 3;
    const expected = 3 * partiesPerHour * 2; // 600
    expect(Math.abs(extra - expected)).toBeLessThan(4 * Math.sqrt(expected));
    expect(surged.filter((t) => t < from || t >= to)).toEqual([START, to + 5]);
    expect(surged).toEqual([...surged].sort((a, b) => a - b));
  });

  it('thins arrivals in a lull (factor below 1)', () => {
    const arrivals = Array.from({ length: 2000 }, (_, i) => START + i * 1000);
    const lull = surgedArrivals(arrivals, [{ type: 'crowd_surge', factor: 0.25, from: START, to: START + 10 * HOUR }], 100, createRng(2, 'surge'));
    expect(Math.abs(lull.length - 500)).toBeLessThan(4 * Math.sqrt(2000 * 0.25 * 0.75));
  });

  it('brings more visitors into a run, and the truth records the surge in epoch ms', () => {
    const plain = buildSimulation(base());
    const surge = scenario([{ type: 'crowd_surge', at: '15m', for: '30m', factor: 3 }]);
    const { truth } = buildSimulation({ ...base(), scenario: surge });
    const inSurge = (t: { enteredAt: number }) => t.enteredAt >= truth.windowStart + 15 * MIN && t.enteredAt < truth.windowStart + 45 * MIN;
    // 240 people/h for 30 min: ~120 without, ~360 with the surge
    expect(truth.visits.filter(inSurge).length).toBeGreaterThan(2 * plain.truth.visits.filter(inSurge).length);
    expect(truth.scenario).toEqual({
      name: 'test',
      events: [{ type: 'crowd_surge', factor: 3, from: truth.windowStart + 15 * MIN, to: truth.windowStart + 45 * MIN }],
    });
    expect(plain.truth.scenario).toBeUndefined();
  });
});

describe('touchpoint out of order', () => {
  it('has no interaction at the touchpoint while it is out of order, and the others carry on', () => {
    const opts = { ...base(3 * HOUR), visitorsPerHour: 400 };
    const plain = buildSimulation(opts).truth;
    const broken = scenario([{ type: 'touchpoint_out_of_order', at: '1h', for: '1h', touchpoints: ['mirror-1'] }]);
    const { truth } = buildSimulation({ ...opts, scenario: broken });
    const from = truth.windowStart + HOUR;
    const to = from + HOUR;
    const at = (list: typeof truth.interactions, tp: string) => list.filter((i) => i.touchpoint === tp && i.ts >= from && i.ts < to);
    expect(at(plain.interactions, 'mirror-1').length).toBeGreaterThan(10);
    expect(at(truth.interactions, 'mirror-1')).toEqual([]);
    expect(at(truth.interactions, 'kiosk-1')).toEqual(at(plain.interactions, 'kiosk-1'));
    // outside the window the mirror works as before
    expect(truth.interactions.filter((i) => i.touchpoint === 'mirror-1' && i.ts < from - 5 * MIN)).toEqual(
      plain.interactions.filter((i) => i.touchpoint === 'mirror-1' && i.ts < from - 5 * MIN),
    );
  });
});

describe('only some sensors publish', () => {
  it('publishes just the selected categories and the agents’ status, and counts exactly that', () => {
    const { messages, truth } = buildSimulation({ ...base(), only: ['ble', 'touchpoint'] });
    expect(new Set(messages.map((m) => m.kind))).toEqual(new Set(['ble', 'touchpoint', 'status']));
    expect(truth.published.messages.wifi).toBe(0);
    expect(truth.published.messages.device).toBe(0);
    expect(truth.published.messages.ble).toBe(messages.filter((m) => m.kind === 'ble').length);
    expect(truth.scenario).toEqual({ name: 'only', only: ['ble', 'touchpoint'], events: [] });
  });

  it('takes the scenario’s selection unless --only overrides it', () => {
    const s = scenario([], { only: ['wifi'] });
    expect(new Set(buildSimulation({ ...base(), scenario: s }).messages.map((m) => m.kind))).toEqual(new Set(['wifi', 'status']));
    expect(new Set(buildSimulation({ ...base(), scenario: s, only: ['counter'] }).messages.map((m) => m.kind))).toEqual(new Set(['device', 'status']));
  });

  it('stays byte-identical for a seed with a scenario', () => {
    const s = loadScenario(join(SCENARIOS, 'saturday-rush.yaml'));
    const a = buildSimulation({ ...base(), scenario: s });
    const b = buildSimulation({ ...base(), scenario: s });
    expect(JSON.stringify(b.messages)).toBe(JSON.stringify(a.messages));
    expect(JSON.stringify(b.truth)).toBe(JSON.stringify(a.truth));
  });
});

describe('InfluxDB outages in a run', () => {
  const outage = (from: number, to: number): InfluxOutageEvent => ({ type: 'influx_outage', from, to });

  it('stops the database when simulated time reaches an outage and starts it at its end', async () => {
    const calls: string[] = [];
    const player = new InfluxOutagePlayer(
      [outage(100, 200), outage(300, 310)],
      async (e, phase) => void calls.push(`${phase}@${e.from}`),
      () => undefined,
    );
    for (const t of [50, 100, 150, 199, 200, 250, 400]) {
      await player.reach(t);
      calls.push(`t${t}`);
    }
    await player.finish();
    // the second outage is shorter than the gap between messages: stopped and started at once
    expect(calls).toEqual(['t50', 'stop@100', 't100', 't150', 't199', 'start@100', 't200', 't250', 'stop@300', 'start@300', 't400']);
  });

  it('starts a database it stopped when the run ends inside the outage', async () => {
    const calls: string[] = [];
    const player = new InfluxOutagePlayer(
      [outage(100, 200)],
      async (_e, phase) => void calls.push(phase),
      () => undefined,
    );
    await player.reach(120);
    await player.finish();
    await player.finish();
    expect(calls).toEqual(['stop', 'start']);
  });

  it('refuses to play outages with nothing that can stop InfluxDB', () => {
    expect(() => new InfluxOutagePlayer([outage(1, 2)], undefined, () => undefined)).toThrow(/give the event `stop` and `start` shell commands/);
    expect(() => new InfluxOutagePlayer([], undefined, () => undefined)).not.toThrow();
  });
});
