import { readdirSync } from 'node:fs';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import { DEMO_STORE, StoreSchema } from '../config/index.js';
import { buildSimulation } from './build.js';
import { InfluxOutagePlayer, type InfluxOutageEvent } from './influx-outages.js';
import { isConsentMessage } from './messages.js';
import { DEFAULT_SIMULATION_OPTIONS, type SimulationOptions } from './options.js';
import { createRng } from './prng.js';
import { loadScenario, parseOnly, parseScenario, ScenarioError, scenarioProblems, type Scenario } from './scenario.js';
import { surgedArrivals } from './scenario-effects.js';

const STORE = StoreSchema.parse(DEMO_STORE);
const START = Date.UTC(2026, 0, 5, 10);
const MIN = 60_000;
const HOUR = 60 * MIN;
const SCENARIOS = join(import.meta.dirname, '..', 'scenarios');

/** Scenario events touch visitors, touchpoints and sources, not the street: its passers-by are left out to keep the runs short. */
function base(durationMs = HOUR): SimulationOptions {
  return { ...DEFAULT_SIMULATION_OPTIONS, seed: 7, durationMs, visitorsPerHour: 240, now: START + durationMs, captureRate: 1, neighbourBeacons: 0 };
}

/** For the tests that read only visitors and interactions, drawn before any scan from streams of their own: the slowest scans the options allow. */
const FEW_SCANS = { scanIntervalMs: 300_000 } as const;

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
    const plain = buildSimulation({ ...base(), ...FEW_SCANS });
    const surge = scenario([{ type: 'crowd_surge', at: '15m', for: '30m', factor: 3 }]);
    const { truth } = buildSimulation({ ...base(), ...FEW_SCANS, scenario: surge });
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
    const opts = { ...base(2 * HOUR), visitorsPerHour: 300, ...FEW_SCANS };
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
    // a resent copy (same mid) is on the wire once more, and the gateway keeps one
    expect(truth.published.messages.ble).toBe(new Set(messages.filter((m) => m.kind === 'ble').map((m) => m.payload.mid)).size);
    expect(truth.scenario).toEqual({ name: 'only', only: ['ble', 'touchpoint'], events: [] });
  });

  it('takes the scenario’s selection unless --only overrides it', () => {
    const s = scenario([], { only: ['wifi'] });
    // a scan a minute: every scan still sends a wifi message per sensor, heard or not
    const opts = { ...base(), scanIntervalMs: 60_000 };
    expect(new Set(buildSimulation({ ...opts, scenario: s }).messages.map((m) => m.kind))).toEqual(new Set(['wifi', 'status']));
    expect(new Set(buildSimulation({ ...opts, scenario: s, only: ['counter'] }).messages.map((m) => m.kind))).toEqual(new Set(['device', 'status']));
  });

  it('stays byte-identical for a seed with a scenario', () => {
    const s = loadScenario(join(SCENARIOS, 'saturday-rush.yaml'));
    // 35 minutes hold all its events (10 to 30 minutes in)
    const a = buildSimulation({ ...base(35 * MIN), scenario: s });
    const b = buildSimulation({ ...base(35 * MIN), scenario: s });
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

describe('sources offline and skewed clocks', () => {
  // 35 minutes: every fault below is over by 30 minutes in, and some minutes after it are left to compare
  const opts = () => ({ ...base(35 * MIN), delivery: { lossRate: 0, duplicateRate: 0, outagesPerAgentDay: 0 } });

  it('loses what an offline sensor would have sent, and nothing of the others', () => {
    const s = scenario([{ type: 'sensor_offline', at: '10m', for: '20m', sources: ['ble-entrance'] }]);
    const { messages, truth } = buildSimulation({ ...opts(), scenario: s });
    const from = truth.windowStart + 10 * MIN;
    const to = from + 20 * MIN;
    const entrance = messages.filter((m) => m.sourceId === 'ble-entrance');
    expect(entrance.filter((m) => m.trueTs >= from && m.trueTs < to)).toEqual([]);
    expect(entrance.filter((m) => m.trueTs < from).length).toBeGreaterThan(100);
    expect(messages.filter((m) => m.sourceId === 'ble-men' && m.trueTs >= from && m.trueTs < to).length).toBeGreaterThan(200);
    expect(truth.delivery.outages).toContainEqual(expect.objectContaining({ sourceIds: ['ble-entrance'], cause: 'fault', replay: false }));
  });

  it('replays what an offline agent buffered, late and with the original stamps, at the outage’s end', () => {
    const s = scenario([{ type: 'agent_offline', at: '10m', for: '5m', agent: 'edge-1', replay: true }]);
    const { messages, truth } = buildSimulation({ ...opts(), scenario: s });
    const from = truth.windowStart + 10 * MIN;
    const to = from + 5 * MIN;
    const made = messages.filter((m) => m.kind !== 'status' && m.trueTs >= from && m.trueTs < to);
    expect(made.length).toBeGreaterThan(300);
    // every message made while the uplink was down goes out at or after its end, stamped when it happened
    expect(made.every((m) => m.sendAt >= to)).toBe(true);
    expect(made.every((m) => Math.abs(m.ts - m.trueTs) < 130_000)).toBe(true);
    // the counts are the other messages' (a consent's fate is in the truth's `crm`)
    expect(truth.delivery.replayed).toBeGreaterThanOrEqual(made.filter((m) => !isConsentMessage(m)).length);
  });

  it('stamps a skewed clock’s messages ahead by the offset while the skew lasts', () => {
    const plain = buildSimulation(opts());
    const s = scenario([{ type: 'clock_skew', at: '0s', for: '30m', sources: ['ble-men'], offset: '90s' }]);
    const { messages } = buildSimulation({ ...opts(), scenario: s });
    const shift = (list: typeof messages, inWindow: boolean) =>
      list
        .filter((m) => m.sourceId === 'ble-men' && m.trueTs < plain.truth.windowStart + 30 * MIN === inWindow)
        .map((m) => m.ts - m.trueTs)
        .slice(0, 50);
    const before = shift(plain.messages, true);
    expect(shift(messages, true)).toEqual(before.map((d) => d + 90_000));
    expect(shift(messages, false)).toEqual(shift(plain.messages, false));
  });
});
