import Fastify from 'fastify';
import { serializerCompiler, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import { describe, expect, it, onTestFinished } from 'vitest';

import { DEMO_STORE } from '../../config/index.js';
import { StoreSchema } from '../../config/schema.js';
import { MESSAGE_KINDS } from '../../protocol/index.js';
import { HistoryStatus } from '../live/history-status.js';
import { LiveState } from '../live/live-state.js';
import { liveAnswer, liveRoutes } from './live-routes.js';

describe('GET /api/v1/live', () => {
  it('answers a message count for every contract kind, through the response schema', async () => {
    const live = new LiveState([StoreSchema.parse(DEMO_STORE)]);
    live.recordLogged({
      v: 1,
      kind: 'status',
      source: { storeId: DEMO_STORE.id, sourceId: 'edge-1', role: 'agent', type: null, zone: null },
      eventTime: 1,
      receivedAt: 1,
      mid: null,
      qos: 1,
      slot: { offset: 0 },
      message: { state: 'online' },
    });
    const app = Fastify().withTypeProvider<ZodTypeProvider>();
    onTestFinished(() => app.close());
    app.setValidatorCompiler(validatorCompiler);
    app.setSerializerCompiler(serializerCompiler);
    await app.register(liveRoutes, { deps: { live } });
    const reply = await app.inject({ method: 'GET', url: '/api/v1/live' }); // in process: no socket
    expect(reply.statusCode).toBe(200);
    const { stores } = reply.json<{ stores: Array<{ messages: Record<string, number> }> }>();
    expect(Object.keys(stores[0]?.messages ?? {})).toEqual([...MESSAGE_KINDS]);
    expect(stores[0]?.messages.status).toBe(1);
  });

  it('answers history null without a backfill, and how far a backfill has got while it fills in', async () => {
    const live = new LiveState([StoreSchema.parse(DEMO_STORE)]);
    const history = new HistoryStatus();
    const app = Fastify().withTypeProvider<ZodTypeProvider>();
    onTestFinished(() => app.close());
    app.setValidatorCompiler(validatorCompiler);
    app.setSerializerCompiler(serializerCompiler);
    await app.register(liveRoutes, { deps: { live, history } });
    const get = async () => (await app.inject({ method: 'GET', url: '/api/v1/live' })).json<{ history: unknown }>().history;
    expect(await get()).toBeNull();
    const from = Date.UTC(2026, 10, 23, 12);
    history.begin(from, from + 8 * 86_400_000);
    history.reach(from + 3 * 86_400_000);
    expect(await get()).toEqual({ from: '2026-11-23T12:00:00.000Z', to: '2026-12-01T12:00:00.000Z', reached: '2026-11-26T12:00:00.000Z', done: false });
    history.finish();
    expect(await get()).toMatchObject({ done: true });
    // the answer a stream of the same snapshot sends
    expect(liveAnswer({ live, history })).toEqual((await app.inject({ method: 'GET', url: '/api/v1/live' })).json());
    expect(liveAnswer({ live }).history).toBeNull();
  });
});
