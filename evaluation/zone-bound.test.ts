import { describe, expect, it } from 'vitest';

import { MINUTE_MS } from './metrics.js';
import { zoneBound } from './zone-bound.js';

const t0 = Date.UTC(2026, 10, 30, 12);
const m = (i: number) => t0 + i * MINUTE_MS;

// entrance 0-1, aisle-women 1-3, fitting-rooms 3-5, checkout 5-6 (minutes)
const visit = {
  visitor: 'v000001',
  path: [
    { zone: 'entrance', from: m(0), to: m(1) },
    { zone: 'aisle-women', from: m(1), to: m(3) },
    { zone: 'fitting-rooms', from: m(3), to: m(5) },
    { zone: 'checkout', from: m(5), to: m(6) },
  ],
  // advertising in minute 0 and minute 5 only: minutes 1-4 silent
  advertising: [
    { from: m(0), to: m(0) + 30_000 },
    { from: m(5) + 10_000, to: m(5) + 50_000 },
  ],
} as never;
const minutes = new Map([
  [m(0), 'entrance'],
  [m(1), 'aisle-women'],
  [m(2), 'aisle-women'],
  [m(3), 'fitting-rooms'],
  [m(4), 'fitting-rooms'],
  [m(5), 'checkout'],
]);
const floorPlan = { entrances: ['entrance'], touchpoints: [{ id: 'mirror-1', zone: 'fitting-rooms', x: 2, y: 16 }] };

describe('zoneBound', () => {
  it('counts the advertising minutes, and the silent ones whose zone is the zone around the silence', () => {
    // around minutes 1-4: entrance (last advertised at 0:30) and checkout (next at 5:10): none is right
    expect(zoneBound({ interactions: [], floorPlan }, [{ visit, minutes }])).toEqual({ minutes: 6, advertising: 2, silentReachable: 0, pct: (2 / 6) * 100 });
  });

  it('counts a silent minute in which the visitor used a touchpoint with the beacon id, only with it', () => {
    const used = (beacon?: string) => [
      { touchpoint: 'mirror-1', action: 'try_on', ts: m(3) + 20_000, visit: 'v000001', ...(beacon === undefined ? {} : { beacon }) },
    ];
    expect(zoneBound({ interactions: used('ibeacon:x'), floorPlan }, [{ visit, minutes }]).silentReachable).toBe(1);
    expect(zoneBound({ interactions: used(), floorPlan }, [{ visit, minutes }]).silentReachable).toBe(0);
  });

  it('is n/a without minutes', () => {
    expect(zoneBound({ interactions: [], floorPlan }, []).pct).toBeNull();
  });
});
