/**
 * The HTTP API's locks as a client on the network meets them: a real gateway on loopback, its token
 * store in its state dir, tokens made and revoked with the `storeloop tokens` command while it runs.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

import type { FastifyPluginAsync } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { buildTestApi } from '../gateway/http/http-api.fixtures.js';
import { startInfluxd, type TestInfluxd } from './helpers/influxd.js';
import { metricValue, startTestGateway, tokenPrinted, tokensCli, type TestGateway } from './helpers/gateway.js';
import { useCleanups } from './helpers/lifecycle.js';

let influxd: TestInfluxd;
let gw: TestGateway;
const cleanups = useCleanups();

beforeAll(async () => {
  influxd = await startInfluxd();
  gw = await startTestGateway({ influxUrl: influxd.url });
});
afterAll(async () => {
  await gw?.stop();
  await influxd?.stop();
});

/** The routes an analyst token may use. */
const ANALYST_PATHS = [
  '/api/v1/live',
  '/api/v1/live/stream',
  '/api/v1/stores',
  '/api/v1/stores/{store}/metrics',
  '/api/v1/stores/{store}/devices',
  '/api/v1/pipeline',
  '/api/v1/session',
];
const bearer = (token: string) => ({ headers: { authorization: `Bearer ${token}` } });

/** Every route of the gateway's OpenAPI document as [method, path], parameters filled in. */
async function documentedRoutes(): Promise<Array<[string, string]>> {
  const doc = (await (await fetch(`${gw.httpUrl}/openapi.json`)).json()) as { paths: Record<string, Record<string, unknown>> };
  return Object.entries(doc.paths).flatMap(([path, methods]) =>
    Object.keys(methods).map((m): [string, string] => [m.toUpperCase(), path.replace('{name}', 'influx').replace('{token}', 'nobody')]),
  );
}

describe('the HTTP API on loopback', () => {
  it('answers every route that shows data 401 without a token, and 403 naming the scope to a token without it', async () => {
    const analyst = tokenPrinted(tokensCli(gw, ['add', '--name', 'int-analyst', '--scope', 'analyst']));
    const open = new Set(['GET /healthz', 'GET /readyz', 'POST /api/v1/session', 'DELETE /api/v1/session']);
    const routes = await documentedRoutes();
    for (const [method, path] of routes) {
      if (open.has(`${method} ${path}`)) continue;
      const body = method === 'POST' ? JSON.stringify({}) : undefined;
      const headers: Record<string, string> = body ? { 'content-type': 'application/json' } : {};
      const anonymous = await fetch(`${gw.httpUrl}${path}`, { method, body, headers });
      expect(anonymous.status, `${method} ${path}`).toBe(401);
      expect(anonymous.headers.get('www-authenticate'), `${method} ${path}`).toMatch(/^Bearer /);
      if (ANALYST_PATHS.includes(path)) continue; // the analyst's own
      const scoped = await fetch(`${gw.httpUrl}${path}`, { method, body, headers: { ...headers, authorization: `Bearer ${analyst}` } });
      expect(scoped.status, `${method} ${path}`).toBe(403);
      expect(((await scoped.json()) as { scope: string }).scope, `${method} ${path}`).toMatch(/^(operator|admin|privacy-officer|integration)$/);
    }
    expect((await fetch(`${gw.httpUrl}/api/v1/stores`, bearer(analyst))).status).toBe(200);
    expect(await metricValue(gw.httpUrl, 'storeloop_http_denied_total', { reason: 'missing_credentials' })).toBeGreaterThanOrEqual(routes.length - open.size);
    expect(await metricValue(gw.httpUrl, 'storeloop_http_denied_total', { reason: 'insufficient_scope' })).toBeGreaterThan(5);
  });

  it('refuses a token revoked with the CLI at its next request, and ends the browser session made from it', async () => {
    const token = tokenPrinted(tokensCli(gw, ['add', '--name', 'int-ops', '--scope', 'operator']));
    expect((await fetch(`${gw.httpUrl}/api/v1/sinks`, bearer(token))).status).toBe(200);
    const login = await fetch(`${gw.httpUrl}/api/v1/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ token }),
    });
    expect(login.status).toBe(201);
    const setCookie = login.headers.get('set-cookie') ?? '';
    expect(setCookie).toMatch(/^storeloop_session=\S+; Path=\/; Max-Age=\d+; HttpOnly; SameSite=Strict$/);
    const cookie = { headers: { cookie: setCookie.split(';')[0] as string } };
    expect((await fetch(`${gw.httpUrl}/api/v1/ledger`, cookie)).status).toBe(200);

    expect(tokensCli(gw, ['revoke', 'int-ops'])).toMatch(/^revoked token [0-9a-f]{12} 'int-ops'/);
    const refused = await fetch(`${gw.httpUrl}/api/v1/sinks`, bearer(token));
    expect(refused.status).toBe(401);
    expect(await refused.json()).toEqual({ error: 'the token has been revoked', code: 'SL_ERR_HTTP_UNAUTHENTICATED' });
    expect((await fetch(`${gw.httpUrl}/api/v1/ledger`, cookie)).status).toBe(401);
    expect(tokensCli(gw, ['list'])).toMatch(/ int-ops +operator +\S+ +\S+ +revoked /);
  });

  it('refuses an expired token', async () => {
    const made = gw.gateway.apiTokens.add({ name: 'int-brief', scopes: ['analyst'], expiresAt: new Date(Date.now() + 50) });
    expect((await fetch(`${gw.httpUrl}/api/v1/stores`, bearer(made.token))).status).toBe(200);
    while (Date.now() <= (made.info.expiresAt?.getTime() ?? 0)) await new Promise((r) => setImmediate(r)); // until it has expired
    const res = await fetch(`${gw.httpUrl}/api/v1/stores`, bearer(made.token));
    expect(res.status).toBe(401);
    expect(((await res.json()) as { error: string }).error).toBe('the token has expired');
  });

  it('keeps no token secret in its state dir: only keyed hashes', async () => {
    const token = tokenPrinted(tokensCli(gw, ['add', '--name', 'int-hashed', '--scope', 'analyst']));
    expect((await fetch(`${gw.httpUrl}/api/v1/live`, bearer(token))).status).toBe(200); // written again: last use
    const secret = token.slice(-43);
    const dir = gw.config.state.dir;
    const files = readdirSync(dir).filter((f) => f.startsWith('api-tokens.sqlite'));
    expect(files).toContain('api-tokens.sqlite');
    for (const file of files) expect(readFileSync(join(dir, file)).includes(secret), file).toBe(false);
    expect(tokensCli(gw, ['list'])).not.toContain(secret);
  });

  it('logs a browser out: the cookie is cleared and the session opens nothing more', async () => {
    const token = tokenPrinted(tokensCli(gw, ['add', '--name', 'int-page', '--scope', 'analyst']));
    const login = await fetch(`${gw.httpUrl}/api/v1/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ token }),
    });
    const cookie = { cookie: (login.headers.get('set-cookie') ?? '').split(';')[0] as string };
    expect((await fetch(`${gw.httpUrl}/api/v1/live`, { headers: cookie })).status).toBe(200);
    const out = await fetch(`${gw.httpUrl}/api/v1/session`, { method: 'DELETE', headers: cookie });
    expect(out.status).toBe(204);
    expect(out.headers.get('set-cookie')).toMatch(/^storeloop_session=; Path=\/; Max-Age=0;/);
    expect((await fetch(`${gw.httpUrl}/api/v1/live`, { headers: cookie })).status).toBe(401);
  });

  it('answers 413 to a body over the limit and a CORS preflight without Access-Control-Allow-* headers', async () => {
    const big = await gw.api('/api/v1/sinks/influx/replay', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ since: new Date().toISOString(), pad: 'x'.repeat(gw.config.http.bodyLimitBytes) }),
    });
    expect(big.status).toBe(413);
    const preflight = await fetch(`${gw.httpUrl}/api/v1/stores`, {
      method: 'OPTIONS',
      headers: { origin: 'http://evil.example', 'access-control-request-method': 'GET', 'access-control-request-headers': 'authorization' },
    });
    expect([...preflight.headers.keys()].filter((h) => h.startsWith('access-control-'))).toEqual([]);
    const read = await gw.api('/api/v1/stores', { headers: { origin: 'http://evil.example' } });
    expect(read.status).toBe(200);
    expect([...read.headers.keys()].filter((h) => h.startsWith('access-control-'))).toEqual([]);
  });
});

describe('HTTP limits on loopback', () => {
  it('answers 429 once an address passes http.rateLimitPerMinute', async () => {
    const limited = await startTestGateway({ influxUrl: influxd.url, config: { http: { rateLimitPerMinute: 20 } } });
    cleanups.push(() => limited.stop());
    const statuses: number[] = [];
    for (let i = 0; i < 40 && !statuses.includes(429); i++) statuses.push((await fetch(`${limited.httpUrl}/healthz`)).status);
    expect(statuses.slice(0, 20).every((s) => s === 200)).toBe(true);
    expect(statuses.at(-1)).toBe(429);
    const res = await fetch(`${limited.httpUrl}/healthz`);
    expect(res.status).toBe(429);
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(((await res.json()) as { code: string }).code).toBe('SL_ERR_HTTP_RATE_LIMITED');
  });

  it('answers an unexpected failure with a plain 500: no message, no stack', async () => {
    const failing: FastifyPluginAsync = async (app) => {
      app.get('/boom', { config: { scope: 'public' } }, async () => {
        throw new Error('database password is hunter2');
      });
    };
    const api = await buildTestApi({ pages: [failing] });
    cleanups.push(() => api.close());
    const url = await api.app.listen({ host: '127.0.0.1', port: 0 });
    const res = await fetch(`${url}/boom`);
    expect(res.status).toBe(500);
    const text = await res.text();
    expect(JSON.parse(text)).toEqual({ error: 'internal error', code: 'SL_ERR_HTTP_INTERNAL' });
    expect(text).not.toMatch(/hunter2|\.ts:\d+|\.js:\d+|at /);
  });
});
