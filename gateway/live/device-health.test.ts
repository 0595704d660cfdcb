import { describe, expect, it } from 'vitest';

import { DEMO_STORE } from '../../config/index.js';
import { StoreSchema } from '../../config/schema.js';
import type { MessageKind } from '../../protocol/index.js';
import type { ResolvedSource } from '../ingest/store-directory.js';
import type { LogEntryOf, LoggedMessage } from '../log/log-record.js';
import { DeviceHealth } from './device-health.js';

const store = StoreSchema.parse(DEMO_STORE);
const env: ResolvedSource = { storeId: store.id, sourceId: 'env-floor', role: 'device', type: 'environment', zone: 'aisle-men' };
const agent: ResolvedSource = { storeId: store.id, sourceId: 'edge-1', role: 'agent', type: null, zone: null };
const WINDOW = 300_000;
const T = 1_800_000_000_000;

function logged<K extends MessageKind>(source: ResolvedSource, kind: K, message: LoggedMessage<K>, eventTime: number, receivedAt = eventTime): LogEntryOf<K> {
  return { v: 1, kind, source, eventTime, receivedAt, mid: null, qos: 1, slot: { offset: 0 }, message };
}

describe('DeviceHealth', () => {
  it('lists every configured source and agent, never heard from: offline, no battery', () => {
    const view = new DeviceHealth([store]).storeView(store.id, T, WINDOW);
    expect(view?.sources.map((s) => s.id).sort()).toEqual([...store.sensors, ...store.touchpoints, ...store.devices].map((s) => s.id).sort());
    expect(view?.agents).toEqual([
      { id: 'edge-1', zone: null, state: null, since: null, lastMessageAt: null, online: false, version: null, detail: null, queue: null },
    ]);
    expect(view?.sources.find((s) => s.id === 'kiosk-1')).toMatchObject({ role: 'touchpoint', type: 'kiosk', zoneName: 'Women', name: 'Lookbook kiosk' });
    expect(view?.sources.every((s) => !s.online && s.lastSeenAt === null && s.battery.pct === null && s.battery.mv === null)).toBe(true);
    expect(new DeviceHealth([store]).storeView('no-such-store', T, WINDOW)).toBeUndefined();
  });

  it('keeps the newest battery reading of each kind by event time, and when it was read', () => {
    const health = new DeviceHealth([store]);
    health.record(logged(env, 'device', { ts: T, event: { type: 'environment', battery_mv: 2900, temperature_c: 21 } }, T));
    health.record(logged(env, 'device', { ts: T + 1000, event: { type: 'environment', battery_pct: 80 } }, T + 1000));
    // an older reading an edge queue delivers late does not replace the newer one
    health.record(logged(env, 'device', { ts: T - 60_000, event: { type: 'environment', battery_mv: 3100 } }, T - 60_000, T + 2000));
    const device = health.storeView(store.id, T + 2000, WINDOW)?.sources.find((s) => s.id === 'env-floor');
    expect(device?.battery).toEqual({ pct: { value: 80, at: new Date(T + 1000).toISOString() }, mv: { value: 2900, at: new Date(T).toISOString() } });
    expect(device?.lastSeenAt).toBe(new Date(T + 1000).toISOString());
    expect(device?.online).toBe(true);
    expect(health.storeView(store.id, T + 1000 + WINDOW + 1, WINDOW)?.sources.find((s) => s.id === 'env-floor')?.online).toBe(false);
  });

  it("reports an agent's state since it changed, its queue, and offline at once on its last will", () => {
    const health = new DeviceHealth([store]);
    health.record(logged(agent, 'status', { ts: T, state: 'online', queue_depth: 3, queue_bytes: 900, version: '1.2.0' }, T));
    health.record(logged(agent, 'status', { ts: T + 30_000, state: 'online', queue_depth: 0, queue_bytes: 0, version: '1.2.0' }, T + 30_000));
    let view = health.storeView(store.id, T + 31_000, WINDOW)?.agents[0];
    expect(view).toMatchObject({
      state: 'online',
      since: new Date(T).toISOString(),
      lastMessageAt: new Date(T + 30_000).toISOString(),
      online: true,
      queue: { depth: 0, bytes: 0, at: new Date(T + 30_000).toISOString() },
    });
    health.record(logged(agent, 'status', { state: 'offline' }, T + 40_000));
    view = health.storeView(store.id, T + 41_000, WINDOW)?.agents[0];
    expect(view).toMatchObject({ state: 'offline', since: new Date(T + 40_000).toISOString(), online: false });
  });
});
