import { describe, expect, it } from 'vitest';

import { DEMO_STORE } from '../../config/index.js';
import { StoreSchema } from '../../config/schema.js';
import { MESSAGE_KINDS, PseudonymSchema, type MessageKind } from '../../protocol/index.js';
import type { ResolvedSource } from '../ingest/store-directory.js';
import type { LogEntry, LogEntryOf, LoggedMessage } from '../log/log-record.js';
import { LiveState, MAX_DEVICES_TRACKED, PRESENCE_WINDOW_MS } from './live-state.js';

const store = StoreSchema.parse(DEMO_STORE);
const sensor = { storeId: store.id, sourceId: 'ble-women', role: 'sensor' as const, type: 'ble', zone: 'aisle-women' };
const wifiSensor: ResolvedSource = { storeId: store.id, sourceId: 'wifi-front', role: 'sensor', type: 'wifi', zone: 'entrance' };
const counter: ResolvedSource = { storeId: store.id, sourceId: 'counter-door', role: 'device', type: 'people_counter', zone: 'entrance' };
const shelf: ResolvedSource = { storeId: store.id, sourceId: 'shelf-shoes', role: 'device', type: 'smart_shelf', zone: 'aisle-shoes' };
const kiosk: ResolvedSource = { storeId: store.id, sourceId: 'kiosk-1', role: 'touchpoint', type: 'kiosk', zone: 'aisle-women' };
const agent: ResolvedSource = { storeId: store.id, sourceId: 'edge-1', role: 'agent', type: null, zone: null };
const PSEUDONYM = 'a1b2c3d4e5f60718293a4b5c';

/** A log entry as the pipeline appends it. */
function logged<K extends MessageKind>(source: ResolvedSource, kind: K, message: LoggedMessage<K>, eventTime: number): LogEntryOf<K> {
  return { v: 1, kind, source, eventTime, receivedAt: eventTime, mid: null, qos: 1, slot: { offset: 0 }, message };
}

/** A message of every kind (a Record over the kinds: a new kind needs one here too). */
function oneOfEach(now: number): Record<MessageKind, () => LogEntry<MessageKind>> {
  return {
    ble: () => logged(sensor, 'ble', { ts: now, sightings: [{ id: `dev:${PSEUDONYM}`, rssi: -60 }] }, now),
    wifi: () => logged(wifiSensor, 'wifi', { ts: now, observations: [] }, now),
    device: () => logged(counter, 'device', { ts: now, event: { type: 'people_count', in: 0, out: 0 } }, now),
    touchpoint: () => logged(kiosk, 'touchpoint', { ts: now, action: 'tap' }, now),
    status: () => logged(agent, 'status', { ts: now, state: 'online' }, now),
  };
}

describe('LiveState', () => {
  it('keeps memory bounded under a flood of distinct device ids and says the count is a lower bound', () => {
    let now = 1_000_000;
    const live = new LiveState([store], () => now);
    for (let i = 0; i <= MAX_DEVICES_TRACKED; i++)
      live.recordLogged(logged(sensor, 'ble', { v: 1, ts: now, sightings: [{ id: `dev:${String(i).padStart(24, '0')}`, rssi: -60 }] }, now));
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
    live.recordLogged(logged(sensor, 'ble', { v: 1, ts: now, sightings: [{ id: 'dev:aaaaaaaaaaaaaaaaaaaaaaaa', rssi: -80 }] }, now));
    live.recordLogged(
      logged(
        { ...sensor, sourceId: 'ble-men', zone: 'aisle-men' },
        'ble',
        { v: 1, ts: now, sightings: [{ id: 'dev:aaaaaaaaaaaaaaaaaaaaaaaa', rssi: -50 }] },
        now,
      ),
    );
    const snapshot = live.snapshot()[0];
    expect(snapshot?.devicesNow).toBe(1);
    expect(snapshot?.zones.find((z) => z.id === 'aisle-men')?.devicesNow).toBe(1);
  });

  it('counts every kind’s messages under its own kind', () => {
    const now = 1_000_000;
    const live = new LiveState([store], () => now);
    const samples = oneOfEach(now);
    MESSAGE_KINDS.forEach((kind, i) => {
      for (let n = 0; n <= i; n++) live.recordLogged(samples[kind]());
    });
    expect(live.snapshot()[0]?.messages).toEqual({ ble: 1, wifi: 2, device: 3, touchpoint: 4, status: 5 });
    expect(live.snapshot()[0]?.lastMessageAt).toBe(new Date(now).toISOString());
  });

  it('places wifi phones in the zone of their sensor, and nobody heard by a sensor without a zone', () => {
    const now = 1_000_000;
    const live = new LiveState([store], () => now);
    live.recordLogged(logged(wifiSensor, 'wifi', { ts: now, observations: [{ id: PseudonymSchema.parse(PSEUDONYM), rssi: -70, randomized: true }] }, now));
    live.recordLogged(logged({ ...sensor, zone: null }, 'ble', { ts: now, sightings: [{ id: 'dev:bbbbbbbbbbbbbbbbbbbbbbbb', rssi: -40 }] }, now));
    const snapshot = live.snapshot()[0];
    expect(snapshot?.devicesNow).toBe(1);
    expect(snapshot?.zones.find((z) => z.id === 'entrance')?.devicesNow).toBe(1);
    expect(snapshot?.messages.ble).toBe(1);
  });

  it('adds people counts to the footfall, and other device events not', () => {
    const now = 1_000_000;
    const live = new LiveState([store], () => now);
    live.recordLogged(logged(counter, 'device', { ts: now, event: { type: 'people_count', in: 3, out: 1 } }, now));
    live.recordLogged(logged(counter, 'device', { ts: now, event: { type: 'people_count', in: 2, out: 4 } }, now));
    live.recordLogged(logged(shelf, 'device', { ts: now, event: { type: 'shelf', action: 'pick_up', sku: 'SKU-1', qty: 1 } }, now));
    expect(live.snapshot()[0]?.footfall).toEqual({ in: 5, out: 5 });
    expect(live.snapshot()[0]?.messages.device).toBe(3);
  });

  it('counts interactions per touchpoint for an hour', () => {
    let now = 10_000_000;
    const live = new LiveState([store], () => now);
    live.recordLogged(logged(kiosk, 'touchpoint', { ts: now, action: 'tap' }, now));
    live.recordLogged(logged(kiosk, 'touchpoint', { ts: now, action: 'scan', customerToken: 'tok-1' }, now));
    live.recordLogged(logged({ ...kiosk, sourceId: 'mirror-1' }, 'touchpoint', { ts: now, action: 'try_on' }, now));
    expect(live.snapshot()[0]?.interactionsLastHour).toEqual([
      { touchpoint: 'kiosk-1', count: 2 },
      { touchpoint: 'mirror-1', count: 1 },
    ]);
    now += 3_600_001;
    expect(live.snapshot()[0]?.interactionsLastHour).toEqual([]);
  });

  it('shows each source’s latest status since its event time', () => {
    const now = 1_000_000;
    const live = new LiveState([store], () => now);
    live.recordLogged(logged(agent, 'status', { ts: now - 5000, state: 'online' }, now - 5000));
    live.recordLogged(logged(agent, 'status', { state: 'offline' }, now));
    live.recordLogged(logged(counter, 'status', { ts: now, state: 'degraded' }, now));
    expect(live.snapshot()[0]?.agents).toEqual([
      { id: 'edge-1', state: 'offline', since: new Date(now).toISOString() },
      { id: 'counter-door', state: 'degraded', since: new Date(now).toISOString() },
    ]);
  });

  it('ignores a store that is not configured', () => {
    const live = new LiveState([store], () => 1);
    live.recordLogged(logged({ ...agent, storeId: 'elsewhere' }, 'status', { state: 'online' }, 1));
    expect(live.snapshot()).toHaveLength(1);
    expect(live.snapshot()[0]?.messages.status).toBe(0);
  });
});
