import { describe, expect, it } from 'vitest';

import { peopleFrom, peopleOccupancySeries, PEOPLE_OCCUPANCY_DEFINITION } from './occupancy-people.js';
import type { MetricSeries } from './result-shaping.js';

const SCALE = { peoplePerBleVisit: 3.2, relVariance: 0.004 };

describe('occupancy of people', () => {
  it('scales the mean devices by the people per BLE visit, with a range around it', () => {
    const p = peopleFrom(2.5, SCALE);
    expect(p['people_mean']).toBe(8);
    expect(p['people_low']).toBeLessThan(8);
    expect(p['people_high']).toBeGreaterThan(8);
    expect(peopleFrom(null, SCALE)).toEqual({ people_mean: null, people_low: null, people_high: null });
  });

  it('gives nobody tracked a range of one device at least: people without the app may be there', () => {
    expect(peopleFrom(0, SCALE)).toMatchObject({ people_mean: 0, people_low: 0 });
    expect(peopleFrom(0, SCALE)['people_high']).toBeGreaterThan(3);
  });

  it('holds the true number of people about 95 % of the time when a share of them carries the app', () => {
    let state = 7;
    const random = (): number => {
      state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
      return state / 2 ** 31;
    };
    const share = 1 / SCALE.peoplePerBleVisit;
    let held = 0;
    const trials = 500;
    for (let t = 0; t < trials; t += 1) {
      const people = 2 + Math.floor(random() * 14);
      const devices = Array.from({ length: people }, () => random() < share).filter(Boolean).length;
      const p = peopleFrom(devices, SCALE);
      if ((p['people_low'] ?? Infinity) <= people && people <= (p['people_high'] ?? -Infinity)) held += 1;
    }
    expect(held / trials).toBeGreaterThan(0.9);
  });

  it('makes one people series per zone series, named by its definition', () => {
    const devices: MetricSeries = {
      measurement: 'occupancy',
      labels: { zone: 'checkout' },
      definition: 'occupancy-ble/1',
      params: [],
      total: { mean_devices: 1, max_devices: 2 },
      points: [{ time: '2026-11-30T12:00:00.000Z', values: { mean_devices: 1, max_devices: 2 } }],
    };
    const [people] = peopleOccupancySeries([devices], SCALE, { peoplePerBleVisit: 3.2, audited: true });
    expect(people).toMatchObject({ labels: { zone: 'checkout', unit: 'people' }, definition: PEOPLE_OCCUPANCY_DEFINITION });
    expect(people?.points[0]?.values['people_mean']).toBe(3.2);
    expect(JSON.parse(people?.params[0] ?? '{}')).toEqual({ peoplePerBleVisit: 3.2, audited: true, devices: 'occupancy-ble/1' });
  });
});
