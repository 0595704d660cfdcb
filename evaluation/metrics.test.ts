import { describe, expect, it } from 'vitest';

import { dwellByZone, zoneStays } from '../simulators/truth-minutes.js';
import { dwellMdapePct, engagementPct, estimatedDwellMs, footfallErrorPct, median, MINUTE_MS, strongestZoneMinutes, zoneAccuracy } from './metrics.js';

const M = MINUTE_MS;
const T0 = 1_750_000_000_000 - (1_750_000_000_000 % M); // a minute boundary

describe('strongestZoneMinutes', () => {
  it('picks per id and minute the sensor with the highest mean RSSI, not the single strongest sighting', () => {
    const byId = strongestZoneMinutes([
      { ts: T0 + 1000, visitor: 'b1', sensor: 's-a', zone: 'a', rssi: -60 },
      { ts: T0 + 6000, visitor: 'b1', sensor: 's-a', zone: 'a', rssi: -90 }, // mean −75
      { ts: T0 + 2000, visitor: 'b1', sensor: 's-b', zone: 'b', rssi: -70 }, // mean −70
      { ts: T0 + M + 1000, visitor: 'b1', sensor: 's-a', zone: 'a', rssi: -80 },
      { ts: T0 + 1000, visitor: 'b2', sensor: 's-a', zone: 'a', rssi: -80 },
    ]);
    expect([...(byId.get('b1') ?? [])]).toEqual([
      [T0, 'b'],
      [T0 + M, 'a'],
    ]);
    expect([...(byId.get('b2') ?? [])]).toEqual([[T0, 'a']]);
  });
});

describe('footfallErrorPct', () => {
  it('is signed, in % of the true count', () => {
    expect(footfallErrorPct(90, 100)).toBe(-10);
    expect(footfallErrorPct(110, 100)).toBe(10);
    expect(footfallErrorPct(5, 0)).toBeNull();
  });
});

describe('zoneAccuracy', () => {
  it("counts a truth minute without an estimate as wrong and ignores the estimate's extra minutes", () => {
    const truth = new Map([
      [T0, 'a'],
      [T0 + M, 'b'],
      [T0 + 2 * M, 'b'],
      [T0 + 3 * M, 'c'],
    ]);
    const estimate = new Map([
      [T0, 'a'], // right
      [T0 + M, 'a'], // wrong
      [T0 + 2 * M, 'b'], // right
      [T0 + 9 * M, 'c'], // outside the truth's minutes
    ]);
    expect(zoneAccuracy([{ truth, estimate }])).toEqual({ minutes: 4, correct: 2, estimated: 3, pct: 50 });
    expect(zoneAccuracy([{ truth, estimate: undefined }]).pct).toBe(0);
    expect(zoneAccuracy([]).pct).toBeNull();
  });
});

describe('dwell', () => {
  it('takes the median absolute % error over the zones each visit stayed in', () => {
    const truth = dwellByZone(
      zoneStays([
        { zone: 'a', from: 0, to: 2 * M },
        { zone: 'b', from: 2 * M, to: 6 * M },
        { zone: 'a', from: 6 * M, to: 8 * M }, // a: 4 min in all
        { zone: 'c', from: 8 * M, to: 10 * M },
        { zone: 'd', from: 10 * M, to: 10 * M + 20_000 }, // passing: no dwell
      ]),
    );
    expect(truth).toEqual(
      new Map([
        ['a', 4 * M],
        ['b', 4 * M],
        ['c', 2 * M],
      ]),
    );
    const estimate = estimatedDwellMs(
      new Map([
        [0, 'a'],
        [M, 'a'],
        [2 * M, 'a'],
        [3 * M, 'b'],
        [4 * M, 'd'],
      ]),
    );
    // a: |3 − 4| / 4 = 25 %, b: |1 − 4| / 4 = 75 %, c: never estimated = 100 %; d has no true dwell
    expect(dwellMdapePct([{ truth, estimate }])).toEqual({ pairs: 3, pct: 75 });
    expect(dwellMdapePct([]).pct).toBeNull();
  });

  it('median of an even count is the mean of the middle two', () => {
    expect(median([4, 1, 3, 2])).toBe(2.5);
  });
});

describe('engagementPct', () => {
  it("counts only exposed people's interactions", () => {
    const result = engagementPct({
      exposed: new Map([
        ['kiosk', new Set(['v1', 'v2', 'v3', 'v4'])],
        ['mirror', new Set(['v1'])],
      ]),
      interacted: new Map([
        ['kiosk', new Set(['v1', 'v9'])], // v9 was never exposed
        ['mirror', new Set(['v1'])],
      ]),
    });
    expect(result).toEqual({ exposures: 5, engaged: 2, pct: 40 });
    expect(engagementPct({ exposed: new Map(), interacted: new Map() }).pct).toBeNull();
  });
});
