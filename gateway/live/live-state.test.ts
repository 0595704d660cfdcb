import { describe, expect, it } from 'vitest';

import { DEMO_STORE } from '../../config/index.js';
import { StoreSchema } from '../../config/schema.js';
import { LiveState, MAX_DEVICES_TRACKED, PRESENCE_WINDOW_MS } from './live-state.js';

const store = StoreSchema.parse(DEMO_STORE);
const sensor = { storeId: store.id, sourceId: 'ble-women', role: 'sensor' as const, type: 'ble', zone: 'aisle-women' };

describe('LiveState', () => {
  it('keeps memory bounded under a flood of distinct device ids and says the count is a lower bound', () => {
    let now = 1_000_000;
    const live = new LiveState([store], () => now);
    for (let i = 0; i <= MAX_DEVICES_TRACKED; i++)
      live.recordAccepted(sensor, 'ble', { v: 1, ts: now, sightings: [{ id: `dev:${String(i).padStart(24, '0')}`, rssi: -60 }] }, now);
    const flooded = live.snapshot()[0];
    expect(flooded?.devicesNow).toBe(MAX_DEVICES_TRACKED);
    expect(flooded?.devicesCapped).toBe(true);
    now += PRESENCE_WINDOW_MS + 1;
    const later = live.snapshot()[0];
    expect(later?.devicesNow).toBe(0);
    expect(later?.devicesCapped).toBe(false);
  });

  it('counts a device once, in the zone of its strongest recent signal', () => {
    const now = 1_000_000;
    const live = new LiveState([store], () => now);
    live.recordAccepted(sensor, 'ble', { v: 1, ts: now, sightings: [{ id: 'dev:aaaaaaaaaaaaaaaaaaaaaaaa', rssi: -80 }] }, now);
    live.recordAccepted(
      { ...sensor, sourceId: 'ble-men', zone: 'aisle-men' },
      'ble',
      { v: 1, ts: now, sightings: [{ id: 'dev:aaaaaaaaaaaaaaaaaaaaaaaa', rssi: -50 }] },
      now,
    );
    const snapshot = live.snapshot()[0];
    expect(snapshot?.devicesNow).toBe(1);
    expect(snapshot?.zones.find((z) => z.id === 'aisle-men')?.devicesNow).toBe(1);
  });
});
