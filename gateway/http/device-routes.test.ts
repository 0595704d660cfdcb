import { afterEach, describe, expect, it } from 'vitest';

import { buildTestApi, type TestApi } from './http-api.fixtures.js';

let api: TestApi | undefined;
afterEach(async () => {
  await api?.close();
  api = undefined;
});

describe('GET /api/v1/stores/{store}/devices', () => {
  it('lists the agents and every configured source of the store with their health, and states the online window', async () => {
    api = await buildTestApi();
    const now = Date.now();
    api.deps.live.recordLogged({
      v: 1,
      kind: 'device',
      source: { storeId: 'demo-store', sourceId: 'env-floor', role: 'device', type: 'environment', zone: 'aisle-men' },
      eventTime: now - 1000,
      receivedAt: now,
      mid: null,
      qos: 1,
      slot: { offset: 0 },
      message: { ts: now - 1000, event: { type: 'environment', battery_mv: 2950 } },
    });
    const reply = await api.inject({ method: 'GET', url: '/api/v1/stores/demo-store/devices?onlineWindowSeconds=60' });
    expect(reply.statusCode).toBe(200);
    const body = reply.json<{
      onlineWindowSeconds: number;
      agents: Array<{ id: string; online: boolean }>;
      devices: Array<{ id: string; online: boolean; battery: { mv: { value: number; at: string } | null } }>;
    }>();
    expect(body.onlineWindowSeconds).toBe(60);
    expect(body.agents).toEqual([expect.objectContaining({ id: 'edge-1', online: false, state: null, queue: null })]);
    expect(body.devices).toHaveLength(8 + 4 + 3); // the demo store's sensors, touchpoints and devices
    expect(body.devices.find((d) => d.id === 'env-floor')).toMatchObject({
      online: true,
      battery: { pct: null, mv: { value: 2950, at: new Date(now - 1000).toISOString() } },
    });
    expect(body.devices.filter((d) => d.online).map((d) => d.id)).toEqual(['env-floor']);
  });

  it('answers 404 naming the known stores for an unknown store, and 400 for a window out of range', async () => {
    api = await buildTestApi();
    const unknown = await api.inject({ method: 'GET', url: '/api/v1/stores/nope/devices' });
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json()).toEqual({ error: "unknown store 'nope' (stores: demo-store)", code: 'SL_ERR_HTTP_STORE_UNKNOWN' });
    const window = await api.inject({ method: 'GET', url: '/api/v1/stores/demo-store/devices?onlineWindowSeconds=1' });
    expect(window.statusCode).toBe(400);
    expect(window.json<{ error: string }>().error).toMatch(/onlineWindowSeconds/);
  });

  it('needs the analyst scope', async () => {
    api = await buildTestApi();
    const token = api.tokens.add({ name: 'crm', scopes: ['integration'] }).token;
    const reply = await api.app.inject({ method: 'GET', url: '/api/v1/stores/demo-store/devices', headers: { authorization: `Bearer ${token}` } });
    expect(reply.statusCode).toBe(403);
  });
});
