import { describe, expect, it } from 'vitest';

import { advertisingMinutes } from './engine-figures.js';
import { MINUTE_MS } from './metrics.js';

describe('advertisingMinutes', () => {
  const t0 = Date.UTC(2026, 10, 30, 12);
  const truth = new Map([
    [t0, 'entrance'],
    [t0 + MINUTE_MS, 'aisle-women'],
    [t0 + 2 * MINUTE_MS, 'aisle-women'],
    [t0 + 3 * MINUTE_MS, 'checkout'],
  ]);

  it('keeps the minutes in which the app advertised at some time, even a few seconds', () => {
    const advertising = [
      { from: t0 - 30_000, to: t0 + 5_000 },
      { from: t0 + 2 * MINUTE_MS + 55_000, to: t0 + 3 * MINUTE_MS + 1_000 },
    ];
    expect([...advertisingMinutes(truth, advertising).keys()]).toEqual([t0, t0 + 2 * MINUTE_MS, t0 + 3 * MINUTE_MS]);
  });

  it('leaves out a minute the app was silent for all of, an interval ending as it starts included', () => {
    expect([...advertisingMinutes(truth, [{ from: t0, to: t0 + MINUTE_MS }]).keys()]).toEqual([t0]);
  });

  it('keeps nothing without advertising intervals', () => {
    expect(advertisingMinutes(truth, undefined).size).toBe(0);
    expect(advertisingMinutes(truth, []).size).toBe(0);
  });
});
