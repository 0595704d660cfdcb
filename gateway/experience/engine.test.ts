import { describe, expect, it } from 'vitest';

import { DEMO_STORE, StoreSchema } from '../../config/index.js';
import { assignZones } from './engine.js';
import { DEFAULT_PRESENCE_PARAMS } from './params.js';
import { presenceStore } from './store-model.js';
import type { BleObservation } from './observations.js';

const STORE = presenceStore(StoreSchema.parse(DEMO_STORE));
const STEP = 5000;
const T0 = 1_750_000_000_000 - (1_750_000_000_000 % 60_000);

/** Readings of a phone standing at (x, y) on a textbook line (n = 2), `lossDb` lower (a pocket), every scanner heard above −90 dBm. */
function at(x: number, y: number, t: number, device: string, lossDb = 0): BleObservation[] {
  const rows: BleObservation[] = [];
  for (const s of STORE.scanners.values()) {
    const rssi = Math.round(s.rssiAt1m - 20 * Math.log10(Math.max(0.5, Math.hypot(x - s.x, y - s.y)))) - lossDb;
    if (rssi >= -90) rows.push({ ts: t, sensor: s.id, device, rssi });
  }
  return rows;
}

describe('assignZones', () => {
  it('places a device walking entrance → womenswear, silent for a while, then back, and gives its minutes and stays', () => {
    const rows: BleObservation[] = [];
    // a store beacon by the door keeps every scanner reporting
    for (let t = 0; t < 600; t += 5) rows.push(...at(11, 1, T0 + t * 1000, 'fixed'));
    for (let t = 0; t < 60; t += 5) rows.push(...at(11, 2, T0 + t * 1000, 'app'));
    for (let t = 60; t < 200; t += 5) rows.push(...at(3, 6, T0 + t * 1000, 'app'));
    // silent 200-400 s, then heard in womenswear again and leaving through the entrance
    for (let t = 400; t < 480; t += 5) rows.push(...at(4, 5, T0 + t * 1000, 'app'));
    for (let t = 480; t < 540; t += 5) rows.push(...at(11, 2, T0 + t * 1000, 'app'));
    // not self-calibrated, as the gateway runs it (sinks.experience.calibrate; calibration.test.ts has its own)
    const params = { ...DEFAULT_PRESENCE_PARAMS, calibrate: false, edgeExtendMs: 0 };
    const result = assignZones(STORE, rows, params);
    const app = result.devices.get('app');
    expect(app?.stays.map((s) => s.zone)).toEqual(['entrance', 'aisle-women', 'entrance']);
    expect(app?.minutes.get(T0 + 3 * 60_000)).toBe('aisle-women'); // a silent minute carried
    // every stay has a confidence; the long womenswear stay, heard before and after its silence, a high one
    for (const stay of app?.stays ?? []) expect(stay.confidence).toBeGreaterThanOrEqual(0);
    for (const stay of app?.stays ?? []) expect(stay.confidence).toBeLessThanOrEqual(1);
    expect(app?.stays[1]?.confidence).toBeGreaterThan(0.9);
    const women = app?.dwell.get('aisle-women') ?? 0;
    expect(Math.abs(women - 420_000)).toBeLessThanOrEqual(2 * STEP);
    // the same sightings in another order give the same result
    const again = assignZones(STORE, [...rows].reverse(), params);
    expect(again.devices.get('app')).toEqual(app);
  });

  it("decodes a device alone as among the others when given the others' scan reports (the scanners that listened and did not hear it)", () => {
    const fixed: BleObservation[] = [];
    const app: BleObservation[] = [];
    // a store beacon by the door keeps every scanner reporting
    for (let t = 0; t < 400; t += 5) fixed.push(...at(11, 1, T0 + t * 1000, 'fixed'));
    // in at the entrance, 4 minutes at the tills with the phone in a pocket (only the tills' scanner hears it), out
    for (let t = 0; t < 60; t += 5) app.push(...at(11, 2, T0 + t * 1000, 'app'));
    for (let t = 60; t < 300; t += 5) app.push(...at(22, 3, T0 + t * 1000, 'app', 12));
    for (let t = 300; t < 360; t += 5) app.push(...at(11, 2, T0 + t * 1000, 'app'));
    const params = { ...DEFAULT_PRESENCE_PARAMS, calibrate: false, edgeExtendMs: 0 };
    const together = assignZones(STORE, [...fixed, ...app], params);
    expect(together.devices.get('app')?.stays.map((s) => s.zone)).toEqual(['entrance', 'checkout', 'entrance']);
    // alone, a scanner that did not hear the phone in a step looks as if it had not listened: no evidence of where it is not
    const alone = assignZones(STORE, app, params, { clock: together.clock });
    expect(alone.devices.get('app')?.dwell.get('checkout') ?? 0).toBe(0);
    const reports = fixed.map((r) => ({ ts: r.ts, sensor: r.sensor }));
    expect(assignZones(STORE, app, params, { clock: together.clock, reports }).devices.get('app')).toEqual(together.devices.get('app'));
  });

  it('places a silent stop by a touchpoint interaction that names the beacon (an anchor)', () => {
    const rows: BleObservation[] = [];
    for (let t = 0; t < 400; t += 5) rows.push(...at(11, 1, T0 + t * 1000, 'fixed'));
    for (let t = 0; t < 60; t += 5) rows.push(...at(3, 6, T0 + t * 1000, 'app'));
    // silent 60-300 s (at the checkout, by the truth), then heard leaving through the entrance
    for (let t = 300; t < 360; t += 5) rows.push(...at(11, 2, T0 + t * 1000, 'app'));
    const params = { ...DEFAULT_PRESENCE_PARAMS, calibrate: false, edgeExtendMs: 0 };
    expect(
      assignZones(STORE, rows, params)
        .devices.get('app')
        ?.stays.map((s) => s.zone),
    ).not.toContain('checkout');
    const anchors = [{ ts: T0 + 200_000, device: 'app', zone: 'checkout', source: 'feedback-1' }];
    const app = assignZones(STORE, rows, params, { anchors }).devices.get('app');
    expect(app?.stays.map((s) => s.zone)).toEqual(['aisle-women', 'entrance', 'checkout', 'entrance']);
    expect(app?.dwell.get('checkout') ?? 0).toBeGreaterThan(60_000);
  });
});
