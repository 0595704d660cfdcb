import type { FastifyPluginAsync } from 'fastify';
import { describe, expect, it, onTestFinished } from 'vitest';

import { buildTestApi, type TestApi } from './http-api.fixtures.js';

async function api(pages: FastifyPluginAsync[] = []): Promise<TestApi> {
  const built = await buildTestApi({ pages });
  onTestFinished(() => built.close());
  return built;
}

describe('the gateway HTTP server', () => {
  it('publishes every route group in its OpenAPI document, with the gateway version', async () => {
    const t = await api();
    const res = await t.app.inject({ method: 'GET', url: '/openapi.json' });
    expect(res.statusCode).toBe(200);
    const doc = res.json<{ openapi: string; info: { version: string }; paths: Record<string, unknown> }>();
    expect(doc.openapi).toMatch(/^3\./);
    expect(doc.info.version).toBe('9.8.7');
    expect(Object.keys(doc.paths).sort()).toEqual(
      [
        '/healthz',
        '/readyz',
        '/metrics',
        '/api/v1/stores',
        '/api/v1/stores/{store}/metrics',
        '/api/v1/rejections',
        '/api/v1/live',
        '/api/v1/live/stream',
        '/api/v1/stores/{store}/devices',
        '/api/v1/pipeline',
        '/api/v1/ledger',
        '/api/v1/sinks',
        '/api/v1/sinks/{name}',
        '/api/v1/sinks/{name}/replay',
        '/api/v1/dead-letters',
        '/api/v1/session',
        '/api/v1/tokens',
        '/api/v1/tokens/{token}',
        '/api/v1/mqtt/identities',
        '/api/v1/mqtt/identities/{name}',
        '/api/v1/mqtt/identities/{name}/rotate',
        '/api/v1/consents',
        '/api/v1/customers/{customer}/consents',
        '/api/v1/customers/{customer}',
        '/api/v1/customers/{customer}/consent-receipts',
        '/api/v1/consent-audit',
        '/api/v1/integrations/crm/consents',
        '/api/v1/customers/{customer}/identity-links',
        '/api/v1/customers/{customer}/identity-links/{pseudonym}',
        '/api/v1/crm/destinations',
        '/api/v1/crm/{destination}/dead-letters',
        '/api/v1/crm/{destination}/dead-letters/replay',
      ].sort(),
    );
  });

  it('serves the Prometheus registry at /metrics, ledger included', async () => {
    const t = await api();
    t.ledger.receive('demo-store', 'ble');
    t.ledger.move('demo-store', 'ble', 'held', 'logged');
    const res = await t.inject({ method: 'GET', url: '/metrics' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain/);
    expect(res.body).toContain('storeloop_ledger_messages{store="demo-store",kind="ble",state="logged"} 1');
  });

  it('answers the configured stores', async () => {
    const t = await api();
    const res = await t.inject({ method: 'GET', url: '/api/v1/stores' });
    expect(res.statusCode).toBe(200);
    const { stores } = res.json<{ stores: Array<{ id: string; sensors: Array<{ id: string }> }> }>();
    expect(stores.map((s) => s.id)).toEqual(['demo-store']);
    expect(stores[0]?.sensors.map((s) => s.id)).toEqual(t.deps.config.stores[0]?.sensors.map((s) => s.id));
  });

  it('answers an unexpected failure with a plain 500 that hides what went wrong', async () => {
    const failing: FastifyPluginAsync = async (app) => {
      app.get('/boom', { config: { scope: 'operator' } }, async () => {
        throw new Error('database password is hunter2');
      });
    };
    const t = await api([failing]);
    const res = await t.inject({ method: 'GET', url: '/boom' });
    expect(res.statusCode).toBe(500);
    expect(res.json()).toEqual({ error: 'internal error', code: 'SL_ERR_HTTP_INTERNAL' });
    expect(res.body).not.toContain('hunter2');
    expect(res.body).not.toMatch(/at .*\.(ts|js):\d+/); // no stack frame
  });

  it('answers a route it does not have with 404', async () => {
    const t = await api();
    expect((await t.app.inject({ method: 'GET', url: '/api/v1/nothing' })).statusCode).toBe(404);
  });

  it('sends security headers on every answer, errors included', async () => {
    const t = await api();
    for (const url of ['/api/v1/stores', '/api/v1/nothing']) {
      const res = await t.inject({ method: 'GET', url });
      expect(res.headers['x-content-type-options'], url).toBe('nosniff');
      expect(res.headers['x-frame-options'], url).toBe('SAMEORIGIN');
      expect(res.headers['referrer-policy'], url).toBe('no-referrer');
      expect(res.headers['cross-origin-resource-policy'], url).toBe('same-origin');
      expect(res.headers['access-control-allow-origin'], url).toBeUndefined(); // CORS stays closed
    }
  });
});
