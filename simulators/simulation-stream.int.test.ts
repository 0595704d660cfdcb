/**
 * The streamed run (streamSimulation) against the up-front build (buildSimulation): the same messages in
 * the same order and the same truth, and what a streamed run holds does not grow with its length.
 * Whole seeded simulations: an integration test by the house rule (seconds of CPU).
 */
import { describe, expect, it } from 'vitest';

import { buildSimulation } from './build.js';
import { DEFAULT_SIMULATION_OPTIONS, type SimulationOptions } from './options.js';
import { streamSimulation, type HeldCounts } from './simulation-stream.js';

const NOW = Date.UTC(2026, 5, 3, 13, 20);

function takeAll(opts: SimulationOptions): {
  messages: ReturnType<typeof buildSimulation>['messages'];
  peak: HeldCounts;
  truth: ReturnType<typeof buildSimulation>['truth'];
} {
  const stream = streamSimulation(opts);
  const messages = [];
  const peak: HeldCounts = { messages: 0, plannedDrafts: 0, resendKeys: 0 };
  for (const m of stream.messages) {
    messages.push(m);
    const held = stream.held();
    peak.messages = Math.max(peak.messages, held.messages);
    peak.resendKeys = Math.max(peak.resendKeys, held.resendKeys);
  }
  return { messages, peak, truth: stream.truth() };
}

describe('streamSimulation', () => {
  it('publishes the messages of buildSimulation in its order, and writes its truth, through outages, replays, resends and bad messages', () => {
    const opts: SimulationOptions = {
      ...DEFAULT_SIMULATION_OPTIONS,
      seed: 11,
      now: NOW,
      durationMs: 90 * 60_000,
      arrivalProfile: 'daily',
      badRate: 0.05,
      delivery: { outagesPerAgentDay: 40, duplicateRate: 0.02, lossRate: 0.01 },
      sourceFaults: [{ kind: 'offline', sourceIds: ['ble-women'], from: 20 * 60_000, to: 35 * 60_000, replay: true }],
    };
    const built = buildSimulation(opts);
    const streamed = takeAll(opts);
    // the run exercises what reorders messages: replays, resends and injected companions are in it
    expect(built.truth.delivery.replayed).toBeGreaterThan(0);
    expect(built.truth.published.duplicates).toBeGreaterThan(0);
    expect(built.truth.injected.messages).toBeGreaterThan(0);
    expect(streamed.messages.length).toBe(built.messages.length);
    expect(streamed.messages).toEqual(built.messages);
    expect(JSON.stringify(streamed.truth)).toBe(JSON.stringify(built.truth));
  });

  it('holds as many messages at once in a six-hour run as in a one-hour run, while it publishes six times as many', () => {
    // flat arrivals and no uplink outages: what an outage holds is bounded by MAX_OUTAGE_MS, not by the run's length
    const opts = { ...DEFAULT_SIMULATION_OPTIONS, seed: 5, now: NOW, visitorsPerHour: 60, delivery: { outagesPerAgentDay: 0 } };
    const hour = takeAll({ ...opts, durationMs: 3_600_000 });
    const sixHours = takeAll({ ...opts, durationMs: 6 * 3_600_000 });
    expect(sixHours.messages.length).toBeGreaterThan(5 * hour.messages.length);
    // the deliveries not yet due (a latency, a stall: seconds) and the heads of the sources' streams
    expect(sixHours.peak.messages).toBeLessThan(100);
    expect(sixHours.peak.messages).toBeLessThanOrEqual(2 * hour.peak.messages + 10);
    // the keys kept to recognise resends cover the last 20 s of traffic
    expect(sixHours.peak.resendKeys).toBeLessThan(200);
    expect(sixHours.peak.resendKeys).toBeLessThanOrEqual(2 * hour.peak.resendKeys + 10);
  });
});
