/**
 * Where the demo store's counter audit (config/demo-store.ts, `devices[].audit`) comes from: a hand
 * count of the door on a simulated installation day, a seed that the experience figures are neither
 * tuned nor reported on. If the simulator's people or counter change, this fails and the audit is
 * made again, as an installer would after replacing a counter. (An integration test only for its
 * two seconds of CPU.)
 */
import { describe, expect, it } from 'vitest';

import { DEMO_STORE, parseConfig } from '../config/index.js';
import { buildSimulation, DEFAULT_SIMULATION_OPTIONS } from './index.js';

describe("the demo store's counter audit", () => {
  it('is what counting the door by hand for two hours of seed 900 gives', () => {
    const store = parseConfig({ stores: [DEMO_STORE] }).stores[0]!;
    const counter = store.devices.find((d) => d.type === 'people_counter');
    // Monday 2 November 2026, 14:00-16:00 in Paris (UTC+1)
    const sim = buildSimulation({ ...DEFAULT_SIMULATION_OPTIONS, store, seed: 900, durationMs: 2 * 3_600_000, now: Date.UTC(2026, 10, 2, 15) });
    const door = sim.truth.footfall.find((f) => f.counter === counter?.id);
    // counted: what the counter reported; actual: the customers who truly came in (a hand count leaves staff out)
    expect(counter?.audit).toEqual({ counted: door?.in, actual: door?.trueIn, on: '2026-11-02' });
  });
});
