import { describe, expect, it } from 'vitest';

import { circularMean, estimateStepClock } from './clock-offsets.js';
import { observationWindows, stepOf, type BleObservation } from './observations.js';

const STEP = 5000;
const T0 = 1_750_000_000_000 - (1_750_000_000_000 % STEP);

/**
 * Three devices advertising on and off for a minute or two at a time, heard by every sensor on a
 * shared 5 s grid (+1.2 s phase); `offsets` shift a sensor's stamps.
 */
function sightings(offsets: Record<string, number>): BleObservation[] {
  const rows: BleObservation[] = [];
  const sensors = ['s1', 's2', 's3', 's4'];
  const onOff = [
    [0, 90, 150, 260, 330, 420],
    [20, 70, 200, 300, 380, 500],
    [40, 160, 210, 240, 400, 560],
  ];
  onOff.forEach((edges, d) => {
    for (let i = 0; i < edges.length; i += 2) {
      for (let t = edges[i] as number; t < (edges[i + 1] as number); t += 5) {
        for (const [k, sensor] of sensors.entries()) {
          const jitter = ((d * 7 + k * 13 + t) % 5) * 40 - 80; // ±80 ms, deterministic
          rows.push({ ts: T0 + 1200 + t * 1000 + (offsets[sensor] ?? 0) + jitter, sensor, device: `d${d}`, rssi: -60 - k });
        }
      }
    }
  });
  return rows;
}

describe('estimateStepClock', () => {
  it("finds the grid's phase and a skewed sensor's offset from the on/off edges", () => {
    const clock = estimateStepClock(sightings({ s3: 37_400 }), STEP, 150_000);
    expect(clock.phaseMs).toBeGreaterThan(1000);
    expect(clock.phaseMs).toBeLessThan(1400);
    expect(Math.abs((clock.offsets.get('s3') ?? 0) - 37_400)).toBeLessThan(300);
    for (const s of ['s1', 's2', 's4']) expect(Math.abs(clock.offsets.get(s) ?? 0)).toBeLessThan(300);
  });

  it("puts every sensor's sightings of one scan into one step after the correction", () => {
    const rows = sightings({ s2: -61_000, s4: 2_600 });
    const clock = estimateStepClock(rows, STEP, 150_000);
    const windows = observationWindows(rows, clock);
    // each device is heard by all four sensors in every step it is heard in
    for (const steps of windows.devices.values()) for (const cell of steps.values()) expect(cell.size).toBe(4);
  });
});

describe('circularMean', () => {
  it('averages across the wrap-around', () => {
    expect(circularMean([4900, 100], 5000) % 5000).toBeLessThan(1);
    expect(circularMean([1000, 1200], 5000)).toBeCloseTo(1100, 0);
  });
});

describe('observationWindows', () => {
  it("averages a sensor's readings in a step and records which sensors reported", () => {
    const clock = { stepMs: STEP, phaseMs: 0, offsets: new Map<string, number>() };
    const windows = observationWindows(
      [
        { ts: T0 + 100, sensor: 'a', device: 'x', rssi: -60 },
        { ts: T0 + 2000, sensor: 'a', device: 'x', rssi: -70 },
        { ts: T0 - 100, sensor: 'b', device: 'y', rssi: -80 },
        { ts: T0 + STEP, sensor: 'b', device: 'x', rssi: -75 },
      ],
      clock,
    );
    const step = stepOf(clock, 'a', T0);
    expect(windows.devices.get('x')?.get(step)).toEqual(new Map([['a', -65]]));
    expect(windows.reporting.get(step)).toEqual(new Set(['a', 'b']));
    expect(windows.devices.get('x')?.get(step + 1)).toEqual(new Map([['b', -75]]));
  });
});
