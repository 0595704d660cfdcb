import { describe, expect, it } from 'vitest';

import { DEMO_STORE, StoreSchema } from '../../config/index.js';
import { EmissionModel, samplePoints, wallsBetween } from './emission.js';
import { DEFAULT_PRESENCE_PARAMS } from './params.js';
import { presenceStore } from './store-model.js';

const STORE = presenceStore(StoreSchema.parse(DEMO_STORE));
const MODEL = new EmissionModel(STORE, DEFAULT_PRESENCE_PARAMS);
const ALL = new Set(STORE.scanners.keys());

/** What every scanner reads from a phone at (x, y) on the engine's own path-loss line, heard above −88 dBm. */
function readings(x: number, y: number): Map<string, number> {
  const out = new Map<string, number>();
  for (const s of STORE.scanners.values()) {
    const d = Math.max(0.5, Math.hypot(x - s.x, y - s.y));
    const rssi = Math.round(
      s.rssiAt1m - 10 * DEFAULT_PRESENCE_PARAMS.pathLossExponent * Math.log10(d) - wallsBetween(STORE, { x, y }, s) * DEFAULT_PRESENCE_PARAMS.wallLossDb,
    );
    if (rssi >= -88) out.set(s.id, rssi);
  }
  return out;
}

function best(ll: Float64Array): string {
  let i = 0;
  for (let j = 1; j < ll.length; j += 1) if ((ll[j] as number) > (ll[i] as number)) i = j;
  return STORE.zones[i] as string;
}

describe('EmissionModel', () => {
  it("makes a device at a scanner most likely in that scanner's zone", () => {
    for (const sensor of (DEMO_STORE.sensors ?? []).filter((s) => s.type === 'ble')) {
      const at = STORE.scanners.get(sensor.id);
      if (at === undefined) throw new Error(sensor.id);
      const ll = MODEL.zoneLogLikelihoods(readings(at.x, at.y), ALL);
      expect(ll && best(ll), sensor.id).toBe(sensor.zone);
    }
  });

  it('also with the carry loss of a pocket (every reading 10 dB lower)', () => {
    const at = STORE.scanners.get('ble-men');
    if (at === undefined) throw new Error('ble-men');
    const low = new Map([...readings(at.x, at.y)].map(([k, v]) => [k, v - 10]));
    const ll = MODEL.zoneLogLikelihoods(low, ALL);
    expect(ll && best(ll)).toBe('aisle-men');
  });

  it('gives no zone information for a step in which no scanner heard the device', () => {
    expect(MODEL.zoneLogLikelihoods(new Map(), ALL)).toBeUndefined();
    expect(MODEL.zoneLogLikelihoods(new Map([['not-a-scanner', -60]]), ALL)).toBeUndefined();
  });

  it('counts a reporting scanner that did not hear the device as evidence, a silent scanner not', () => {
    const heard = new Map([['ble-shoes', -75]]);
    const men = STORE.zones.indexOf('aisle-men');
    const onlyShoes = MODEL.zoneLogLikelihoods(heard, new Set(['ble-shoes']));
    const menReported = MODEL.zoneLogLikelihoods(heard, new Set(['ble-shoes', 'ble-men']));
    if (!onlyShoes || !menReported) throw new Error('no likelihood');
    const shoes = STORE.zones.indexOf('aisle-shoes');
    // ble-men reporting without the device makes aisle-men less likely relative to aisle-shoes
    expect((menReported[men] as number) - (menReported[shoes] as number)).toBeLessThan((onlyShoes[men] as number) - (onlyShoes[shoes] as number));
  });

  it('detection falls with the expected RSSI', () => {
    expect(MODEL.detection(-60)).toBeGreaterThan(0.85);
    expect(MODEL.detection(-90)).toBeCloseTo(DEFAULT_PRESENCE_PARAMS.detectionMax / 2, 5);
    expect(MODEL.detection(-100)).toBeLessThan(0.05);
  });
});

describe('geometry', () => {
  it('counts the zone walls on a line, a stretch outside every zone not', () => {
    // womenswear → entrance → checkout: two walls
    expect(wallsBetween(STORE, { x: 4, y: 3 }, { x: 19, y: 2.5 })).toBe(2);
    expect(wallsBetween(STORE, { x: 4, y: 3 }, { x: 5, y: 4 })).toBe(0);
  });

  it('spreads sample points over the whole rectangle', () => {
    const points = samplePoints({ x: 0, y: 0, width: 6, height: 3 }, 1.5);
    expect(points).toHaveLength(8);
    expect(Math.min(...points.map((p) => p.x))).toBeCloseTo(0.75);
    expect(Math.max(...points.map((p) => p.y))).toBeCloseTo(2.25);
  });

  it('takes adjacency from the layout and entrances from its doors', () => {
    expect(STORE.entrances).toEqual(new Set(['entrance']));
    expect(STORE.adjacency['entrance']).toEqual(expect.arrayContaining(['aisle-women', 'checkout', 'aisle-shoes']));
    expect(STORE.adjacency['aisle-women']).not.toContain('checkout');
    expect(STORE.scanners.get('ble-fitting')?.rssiAt1m).toBe(-62);
    expect(STORE.scanners.get('ble-women')?.rssiAt1m).toBe(-59);
  });
});
