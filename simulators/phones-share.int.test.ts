/**
 * The share of phones that randomise their MAC, over thousands of simulated visitors: a pure check,
 * an integration test only for its seconds of CPU (the unit project's time budget).
 */
import { describe, expect, it } from 'vitest';

import { buildSimulation } from './build.js';
import { DEFAULT_SIMULATION_OPTIONS, type SimulationOptions } from './options.js';

const NOW = Date.UTC(2025, 5, 14, 15, 30, 0);

function options(over: Partial<SimulationOptions> = {}): SimulationOptions {
  return { ...DEFAULT_SIMULATION_OPTIONS, seed: 11, now: NOW, durationMs: 3_600_000, ...over };
}

/** Visitors only: no street, the slowest scans (the visitors are drawn before any scan, from streams of their own). */
const VISITORS_ONLY = { captureRate: 1, neighbourBeacons: 0, scanIntervalMs: 300_000 } as const;

describe('MAC randomisation', () => {
  it('randomises the stated share of phones (default near-universal), within four standard errors', () => {
    for (const randomizedMacShare of [DEFAULT_SIMULATION_OPTIONS.randomizedMacShare, 0.5]) {
      // visitors' phones only: no passers-by (22,000 an hour at this rate and the default capture rate);
      // the bound below is four standard errors of the phones drawn, however many
      const { visits } = buildSimulation(options({ visitorsPerHour: 4000, randomizedMacShare, ...VISITORS_ONLY })).truth;
      const phones = visits.filter((v) => v.phone);
      expect(phones.length).toBeGreaterThan(3000);
      const share = phones.filter((v) => v.randomizedMac).length / phones.length;
      expect(Math.abs(share - randomizedMacShare)).toBeLessThan(4 * Math.sqrt((randomizedMacShare * (1 - randomizedMacShare)) / phones.length));
    }
    expect(DEFAULT_SIMULATION_OPTIONS.randomizedMacShare).toBeGreaterThanOrEqual(0.9);
  });
});
