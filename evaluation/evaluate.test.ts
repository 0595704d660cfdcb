import { describe, expect, it } from 'vitest';

import { evaluate, evaluationJson, formatEvaluation, type EvaluationTruth, type Signals } from './evaluate.js';
import { route, truthMinutes, zoneStays } from '../simulators/truth-minutes.js';
import type { PathSegment } from '../simulators/visitors.js';
import { MINUTE_MS } from './metrics.js';
import { parseTruth } from './truth-file.js';

const M = MINUTE_MS;
const T0 = 1_750_000_000_000 - (1_750_000_000_000 % M);

/** A path with what the simulator's truth derives from it. */
function walked(path: PathSegment[]) {
  const stays = zoneStays(path);
  return { path, minutes: truthMinutes(path), stays, route: route(stays) };
}

const truth: EvaluationTruth = {
  seed: 3,
  storeId: 's1',
  windowStart: T0,
  windowEnd: T0 + 10 * M,
  floorPlan: { entrances: ['entrance'], touchpoints: [{ id: 'kiosk-1', zone: 'a', x: 0, y: 0 }] },
  footfall: [
    { counter: 'door', zone: 'entrance' },
    { counter: 'fitting', zone: 'b' }, // counts zone entries, not store entries
  ],
  visits: [
    {
      visitor: 'v1',
      app: true,
      beacon: 'ibeacon:x:1:1',
      phone: true,
      randomizedMac: false,
      wifiPseudonyms: ['w1'],
      enteredAt: T0,
      leftAt: T0 + 4 * M,
      ...walked([
        { zone: 'entrance', from: T0, to: T0 + M },
        { zone: 'a', from: T0 + M, to: T0 + 4 * M },
      ]),
    },
    {
      visitor: 'v2',
      app: false,
      phone: false,
      randomizedMac: false,
      wifiPseudonyms: [],
      enteredAt: T0 + M,
      leftAt: T0 + 3 * M,
      ...walked([{ zone: 'a', from: T0 + M, to: T0 + 3 * M }]),
    },
  ],
  interactions: [
    { touchpoint: 'kiosk-1', action: 'tap', ts: T0 + 2 * M, visit: 'v1', beacon: 'ibeacon:x:1:1' },
    { touchpoint: 'kiosk-1', action: 'view', ts: T0 + 2 * M, visit: 'v2' },
  ],
  exposures: [
    { touchpoint: 'kiosk-1', visitor: 'v1', from: T0 + M, to: T0 + 4 * M, inSightMs: 3 * M, interacted: true, interactedAt: T0 + 2 * M },
    { touchpoint: 'kiosk-1', visitor: 'v2', from: T0 + M, to: T0 + 3 * M, inSightMs: 2 * M, interacted: true, interactedAt: T0 + 2 * M },
  ],
};

const ble = (minute: number, sensor: string, zone: string, rssi: number) =>
  ({ ts: T0 + minute * M + 1000, visitor: 'ibeacon:x:1:1', sensor, zone, rssi, source: 'ble' }) as const;

const signals: Signals = {
  counterIn: new Map([
    ['door', 3],
    ['fitting', 7],
  ]),
  sightings: [
    ble(0, 'ble-entrance', 'entrance', -60),
    ble(1, 'ble-entrance', 'entrance', -60), // wrong: truth a
    ble(2, 'ble-a', 'a', -60),
    ble(3, 'ble-a', 'a', -60),
  ],
  interactions: [{ touchpoint: 'kiosk-1', beacon: 'ibeacon:x:1:1' }, { touchpoint: 'kiosk-1' }],
};

describe('evaluate', () => {
  const result = evaluate(truth, signals);
  const value = (key: string) => result.figures.find((f) => f.key === key)?.value;

  it('computes every figure of the baselines against the truth', () => {
    expect(value('footfall_error_pct')).toBe(50); // door counted 3, 2 entered
    expect(value('zone_accuracy_pct')).toBe(75); // v1: 3 of 4 minutes
    expect(value('zone_accuracy_all_pct')).toBe(50); // v2 has no signal: 3 of 6
    // v1 entrance: 2 min vs 1 (100 %), a: 2 min vs 3 (33 %): median 66.7 %
    expect(value('dwell_mdape_pct')).toBeCloseTo(66.67, 1);
    // signals: v1's beacon in a, used kiosk: 100 %; truth: v1 and v2 exposed, both used it: 100 %
    expect(value('engagement_error_pp')).toBe(0);
    expect(value('capture_rate_error_pp')).toBeNull(); // this truth has no capture rate
  });

  it('compares the capture rate: door entries over the pseudonyms heard at the front, against the truth', () => {
    const wifi = (id: string, zone: string) => ({ ts: T0 + 1000, visitor: id, sensor: `wifi-${zone}`, zone, rssi: -70, source: 'wifi' }) as const;
    const withStreet = { ...truth, captureRate: { entered: 2, passersBy: 8, rate: 0.2 } };
    const heard = { ...signals, sightings: [...signals.sightings, ...['w1', 'p1', 'p2', 'p3', 'p1'].map((id) => wifi(id, 'entrance')), wifi('w9', 'b')] };
    const figure = evaluate(withStreet, heard).figures.find((f) => f.key === 'capture_rate_error_pp');
    // 3 door entries ÷ 4 distinct pseudonyms at the front = 75 %, truth 20 %
    expect(figure?.value).toBeCloseTo(55, 6);
    expect(figure?.detail).toContain('3 entries, 4 pseudonyms at the front');
    expect(evaluate(withStreet, signals).figures.find((f) => f.key === 'capture_rate_error_pp')?.reason).toMatch(/no wifi sensor/);
    expect(parseTruth({ ...withStreet, generator: 'storeloop-simulator', truthVersion: 2 }).captureRate).toEqual(withStreet.captureRate);
  });

  it("takes the truth's engagement from its exposures, not from the zone stays", () => {
    // v2 stood in the kiosk's zone but, in the truth, never in sight of it long enough: v1's exposure alone, engaged
    const [first] = truth.exposures;
    const one = evaluate({ ...truth, exposures: [first!] }, signals);
    expect(one.figures.find((f) => f.key === 'engagement_error_pp')?.detail).toContain('truth 100.0 % (1/1)');
    // an exposure that did not end in an interaction: truth 50 %, signals still 100 %
    const unused = evaluate({ ...truth, exposures: [first!, { ...truth.exposures[1]!, interacted: false, interactedAt: undefined }] }, signals);
    expect(unused.figures.find((f) => f.key === 'engagement_error_pp')?.value).toBe(50);
  });

  it('leaves passing stays out of the true dwell', () => {
    const passing = {
      ...truth,
      visits: [
        {
          ...truth.visits[0]!,
          ...walked([
            { zone: 'entrance', from: T0, to: T0 + 20_000 }, // passing
            { zone: 'a', from: T0 + 20_000, to: T0 + 4 * M },
          ]),
        },
      ],
    };
    // a only: 3 min 40 s true, 2 min estimated (minutes 2 and 3)
    expect(evaluate(passing, signals).figures.find((f) => f.key === 'dwell_mdape_pct')?.value).toBeCloseTo((100 * (220 - 120)) / 220, 6);
  });

  it('prints each figure with its definition, and JSON with the required keys', () => {
    const text = formatEvaluation(result);
    for (const f of result.figures) expect(text).toContain(f.definition);
    expect(text).toContain('capture rate error: n/a');
    const json = evaluationJson(result);
    expect(json).toMatchObject({ seed: 3, footfall_error_pct: 50, zone_accuracy_pct: 75, engagement_error_pp: 0, capture_rate_error_pp: null });
    expect(json['dwell_mdape_pct']).toBe(66.67);
  });

  it('gives n/a, not a number, when nobody entered', () => {
    const empty = evaluate({ ...truth, visits: [], interactions: [], exposures: [] }, { counterIn: new Map(), sightings: [], interactions: [] });
    expect(empty.figures.filter((f) => f.key !== 'capture_rate_error_pp').map((f) => [f.key, f.value, f.reason !== undefined])).toEqual([
      ['footfall_error_pct', null, true],
      ['zone_accuracy_pct', null, true],
      ['zone_accuracy_all_pct', null, true],
      ['dwell_mdape_pct', null, true],
      ['engagement_error_pp', null, true],
    ]);
  });
});

describe('parseTruth', () => {
  const file = { ...truth, generator: 'storeloop-simulator', truthVersion: 2 };

  it('names the first bad key path', () => {
    expect(() => parseTruth({ ...file, visits: [{ visitor: 1 }] }, 't.json')).toThrow(/t\.json: .*visits\.0\./);
    expect(() => parseTruth({ generator: 'other' })).toThrow(/not a storeloop simulator truth/);
  });

  it('names a missing or malformed member of version 2', () => {
    const { minutes: _minutes, ...noMinutes } = truth.visits[0]!;
    expect(() => parseTruth({ ...file, visits: [noMinutes] }, 't.json')).toThrow(/t\.json: .*visits\.0\.minutes: .*received undefined/);
    const offMinute = { ...truth.visits[0]!, minutes: { start: T0 + 1, zones: [] } };
    expect(() => parseTruth({ ...file, visits: [offMinute] })).toThrow(/visits\.0\.minutes\.start: must be the epoch ms of a clock minute/);
    const { exposures: _exposures, ...noExposures } = file;
    expect(() => parseTruth(noExposures)).toThrow(/: exposures: .*received undefined/);
    expect(() => parseTruth({ ...file, exposures: [{ ...truth.exposures[0]!, interacted: 'yes' }] })).toThrow(/exposures\.0\.interacted/);
  });

  it('refuses a truth of an older or newer version, saying what to do', () => {
    expect(() => parseTruth({ ...file, truthVersion: 1 }, 'old.json')).toThrow(
      /old\.json: truthVersion 1 is older than this evaluation reads \(2\): it has no visits\[\]\.minutes, visits\[\]\.stays or exposures; write the truth again/,
    );
    expect(() => parseTruth({ ...file, truthVersion: 3 })).toThrow(/truthVersion 3 is newer than this evaluation reads/);
  });

  it('accepts a truth with the members the evaluation reads', () => {
    expect(parseTruth(file).visits).toHaveLength(2);
  });
});
