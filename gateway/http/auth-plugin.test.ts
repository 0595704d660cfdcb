import type { FastifyPluginAsync } from 'fastify';
import { describe, expect, it, onTestFinished } from 'vitest';

import { buildTestApi, type TestApi } from './http-api.fixtures.js';

async function api(options: Parameters<typeof buildTestApi>[0] = {}): Promise<TestApi> {
  const built = await buildTestApi(options);
  onTestFinished(() => built.close());
  return built;
}

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

/** Every route of the OpenAPI document as [method, url], path parameters filled in. */
async function documentedRoutes(t: TestApi): Promise<Array<[string, string]>> {
  const doc = (await t.app.inject({ method: 'GET', url: '/openapi.json' })).json<{ paths: Record<string, Record<string, unknown>> }>();
  return Object.entries(doc.paths).flatMap(([path, methods]) =>
    Object.keys(methods).map((method): [string, string] => [method.toUpperCase(), path.replace('{name}', 'influx').replace('{token}', 'someone')]),
  );
}

const PUBLIC = ['GET /healthz', 'GET /readyz', 'POST /api/v1/session', 'DELETE /api/v1/session'];

/** The denial counter's value for a reason, read from /metrics. */
async function denied(t: TestApi, reason: string): Promise<number> {
  // from an address of its own: the tests' requests may have used up their address's rate or failures
  const text = (await t.inject({ method: 'GET', url: '/metrics', remoteAddress: '127.0.0.254' })).body;
  const line = text.split('\n').find((l) => l.startsWith(`storeloop_http_denied_total{reason="${reason}"}`));
  return line === undefined ? 0 : Number(line.slice(line.lastIndexOf(' ') + 1));
}

describe('API authentication', () => {
  it('answers every documented route but health, readiness and login 401 with WWW-Authenticate: Bearer when no credentials come', async () => {
    const t = await api();
    const routes = await documentedRoutes(t);
    expect(routes.length).toBeGreaterThan(12);
    for (const [method, url] of routes) {
      const res = await t.app.inject({ method: method as 'GET', url, payload: method === 'POST' ? {} : undefined });
      if (PUBLIC.includes(`${method} ${url}`)) {
        expect(res.statusCode, `${method} ${url}`).not.toBe(401);
        continue;
      }
      expect(res.statusCode, `${method} ${url}`).toBe(401);
      expect(res.headers['www-authenticate'], `${method} ${url}`).toBe('Bearer realm="storeloop"');
      expect(res.json()).toMatchObject({ code: 'SL_ERR_HTTP_UNAUTHENTICATED' });
    }
    expect(await denied(t, 'missing_credentials')).toBe(routes.length - PUBLIC.length);
  });

  it('guards the HEAD routes fastify adds beside every GET alike', async () => {
    const t = await api();
    expect((await t.app.inject({ method: 'HEAD', url: '/api/v1/stores' })).statusCode).toBe(401);
    expect((await t.inject({ method: 'HEAD', url: '/api/v1/stores' })).statusCode).toBe(200);
  });

  it('leaves the OpenAPI document and UI open: they hold no data', async () => {
    const t = await api();
    expect((await t.app.inject({ method: 'GET', url: '/openapi.json' })).statusCode).toBe(200);
    expect((await t.app.inject({ method: 'GET', url: '/docs' })).statusCode).toBeLessThan(400);
    expect((await t.app.inject({ method: 'GET', url: '/docs/json' })).statusCode).toBe(200);
  });

  it('answers 403 naming the scope when the token lacks it, and serves what the scope allows', async () => {
    const t = await api();
    const analyst = t.tokens.add({ name: 'analyst', scopes: ['analyst'] }).token;
    const operator = t.tokens.add({ name: 'operator', scopes: ['operator'] }).token;
    for (const url of ['/api/v1/live', '/api/v1/stores']) expect((await t.app.inject({ url, headers: bearer(analyst) })).statusCode, url).toBe(200);
    for (const url of ['/api/v1/rejections', '/api/v1/ledger', '/api/v1/sinks', '/api/v1/dead-letters', '/metrics']) {
      const res = await t.app.inject({ url, headers: bearer(analyst) });
      expect(res.statusCode, url).toBe(403);
      expect(res.json(), url).toEqual({
        error: "this route needs the scope 'operator'; the token 'analyst' has analyst",
        code: 'SL_ERR_HTTP_FORBIDDEN',
        scope: 'operator',
      });
      expect((await t.app.inject({ url, headers: bearer(operator) })).statusCode, url).toBe(200);
    }
    const tokens = await t.app.inject({ url: '/api/v1/tokens', headers: bearer(operator) });
    expect(tokens.statusCode).toBe(403);
    expect(tokens.headers['www-authenticate']).toBe('Bearer realm="storeloop", error="insufficient_scope", scope="admin"');
    expect(await denied(t, 'insufficient_scope')).toBe(6);
  });

  it('refuses a malformed header, a wrong secret, a revoked and an expired token with 401', async () => {
    const t = await api();
    const revoked = t.tokens.add({ name: 'gone', scopes: ['admin'] });
    t.tokens.revoke(revoked.info.id);
    const now = Date.now();
    const expiring = t.tokens.add({ name: 'brief', scopes: ['admin'], expiresAt: new Date(now + 1) }, now);
    while (Date.now() <= now + 1) await new Promise((r) => setImmediate(r)); // past its expiry
    const cases: Array<[string, string, string]> = [
      ['Basic dXNlcjpwYXNz', 'invalid_token', 'the bearer token is not valid'],
      [`Bearer ${t.adminToken.slice(0, -1)}x`, 'invalid_token', 'the bearer token is not valid'],
      [`Bearer ${revoked.token}`, 'revoked', 'the token has been revoked'],
      [`Bearer ${expiring.token}`, 'expired', 'the token has expired'],
    ];
    for (const [authorization, reason, error] of cases) {
      const res = await t.app.inject({ url: '/api/v1/stores', headers: { authorization } });
      expect(res.statusCode, reason).toBe(401);
      expect(res.headers['www-authenticate']).toBe('Bearer realm="storeloop", error="invalid_token"');
      expect(res.json()).toEqual({ error, code: 'SL_ERR_HTTP_UNAUTHENTICATED' });
    }
    expect(await denied(t, 'invalid_token')).toBe(2);
    expect(await denied(t, 'revoked')).toBe(1);
  });

  it('refuses an address after repeated invalid tokens with 429 until the minute ends, valid tokens included', async () => {
    const t = await api({ http: { authFailuresPerMinute: 3 } });
    for (let i = 0; i < 3; i++) expect((await t.app.inject({ url: '/api/v1/stores', headers: bearer('sl_nope') })).statusCode).toBe(401);
    const locked = await t.inject({ url: '/api/v1/stores' });
    expect(locked.statusCode).toBe(429);
    expect(Number(locked.headers['retry-after'])).toBeGreaterThan(0);
    expect((await t.app.inject({ url: '/api/v1/stores', remoteAddress: '127.0.0.2', headers: bearer(t.adminToken) })).statusCode).toBe(200);
    expect((await t.app.inject({ url: '/healthz' })).statusCode).toBe(200);
  });

  it('documents the bearer scheme and the scope of each route in OpenAPI', async () => {
    const t = await api();
    const doc = (await t.app.inject({ url: '/openapi.json' })).json<{
      components: { securitySchemes: Record<string, unknown> };
      paths: Record<string, Record<string, { security?: unknown; description?: string }>>;
    }>();
    expect(doc.components.securitySchemes.bearerAuth).toMatchObject({ type: 'http', scheme: 'bearer' });
    expect(doc.components.securitySchemes.sessionCookie).toMatchObject({ type: 'apiKey', in: 'cookie', name: 'storeloop_session' });
    expect(doc.paths['/api/v1/sinks']?.get?.description).toMatch(/Needs the scope `operator`/);
    expect(doc.paths['/api/v1/live']?.get?.description).toMatch(/Needs the scope `analyst`/);
    expect(doc.paths['/api/v1/tokens']?.post?.description).toMatch(/Needs the scope `admin`/);
    expect(doc.paths['/api/v1/sinks']?.get?.security).toEqual([{ bearerAuth: [] }, { sessionCookie: [] }]);
    expect(doc.paths['/healthz']?.get?.security).toBeUndefined();
  });

  it('refuses to start with a route that states no scope', async () => {
    const careless: FastifyPluginAsync = async (app) => {
      app.get('/api/v1/forgot', async () => ({ secret: 1 }));
    };
    await expect(buildTestApi({ pages: [careless] })).rejects.toThrow(/GET \/api\/v1\/forgot states no config.scope/);
  });
});

describe('browser sessions', () => {
  async function login(t: TestApi, token: string): Promise<{ cookie: string; setCookie: string }> {
    const res = await t.app.inject({ method: 'POST', url: '/api/v1/session', payload: { token } });
    expect(res.statusCode, res.body).toBe(201);
    const setCookie = String(res.headers['set-cookie']);
    return { cookie: setCookie.split(';')[0] as string, setCookie };
  }

  it('trades a token for an HttpOnly SameSite=Strict cookie that authenticates with the token’s scopes, until logout', async () => {
    const t = await api({ http: { sessionTtlSeconds: 3600 } });
    const analyst = t.tokens.add({ name: 'page', scopes: ['analyst'] }).token;
    const { cookie, setCookie } = await login(t, analyst);
    expect(setCookie).toMatch(/^storeloop_session=[A-Za-z0-9_-]{43}; Path=\/; Max-Age=(3600|3599); HttpOnly; SameSite=Strict$/);
    expect(setCookie).not.toContain(analyst);
    expect((await t.app.inject({ url: '/api/v1/live', headers: { cookie } })).statusCode).toBe(200);
    expect((await t.app.inject({ url: '/api/v1/session', headers: { cookie } })).json()).toMatchObject({ name: 'page', scopes: ['analyst'] });
    expect((await t.app.inject({ url: '/api/v1/ledger', headers: { cookie } })).statusCode).toBe(403);

    const out = await t.app.inject({ method: 'DELETE', url: '/api/v1/session', headers: { cookie } });
    expect(out.statusCode).toBe(204);
    expect(String(out.headers['set-cookie'])).toMatch(/^storeloop_session=; Path=\/; Max-Age=0; HttpOnly; SameSite=Strict$/);
    const after = await t.app.inject({ url: '/api/v1/live', headers: { cookie } });
    expect(after.statusCode).toBe(401);
    expect(after.json()).toMatchObject({ error: 'the session has ended: log in again' });
  });

  it('sets Secure when the request came over https (behind a trusted proxy), or always when configured', async () => {
    const always = await api({ http: { secureCookie: 'always' } });
    expect((await login(always, always.adminToken)).setCookie).toMatch(/; Secure$/);
    const proxied = await api({ http: { trustProxy: '127.0.0.1' } });
    const overHttps = await proxied.app.inject({
      method: 'POST',
      url: '/api/v1/session',
      payload: { token: proxied.adminToken },
      headers: { 'x-forwarded-proto': 'https', 'x-forwarded-for': '203.0.113.7' },
    });
    expect(String(overHttps.headers['set-cookie'])).toMatch(/; Secure$/);
    expect((await login(proxied, proxied.adminToken)).setCookie).not.toMatch(/Secure/);
  });

  it('ends the session when its token is revoked', async () => {
    const t = await api();
    const made = t.tokens.add({ name: 'page', scopes: ['analyst'] });
    const { cookie } = await login(t, made.token);
    expect((await t.app.inject({ url: '/api/v1/live', headers: { cookie } })).statusCode).toBe(200);
    t.tokens.revoke('page');
    expect((await t.app.inject({ url: '/api/v1/live', headers: { cookie } })).statusCode).toBe(401);
    t.tokens.add({ name: 'page', scopes: ['analyst'] }); // a new token of the same name does not bring the session back
    expect((await t.app.inject({ url: '/api/v1/live', headers: { cookie } })).statusCode).toBe(401);
  });

  it('refuses a login with a bad, revoked or expired token, and counts it toward the address lockout', async () => {
    const t = await api({ http: { authFailuresPerMinute: 2 } });
    const res = await t.app.inject({ method: 'POST', url: '/api/v1/session', payload: { token: 'sl_wrong' } });
    expect(res.statusCode).toBe(401);
    expect(res.headers['set-cookie']).toBeUndefined();
    expect(res.json()).toEqual({ error: 'login refused: not a valid token', code: 'SL_ERR_HTTP_UNAUTHENTICATED' });
    await t.app.inject({ method: 'POST', url: '/api/v1/session', payload: { token: 'sl_wrong' } });
    expect((await t.app.inject({ method: 'POST', url: '/api/v1/session', payload: { token: t.adminToken } })).statusCode).toBe(429);
  });

  it('lets a session change something only from a page of this gateway (Origin), never from another site', async () => {
    const t = await api();
    const { cookie } = await login(t, t.adminToken);
    const replay = (headers: Record<string, string>) =>
      t.app.inject({ method: 'POST', url: '/api/v1/sinks/influx/replay', payload: { since: new Date().toISOString() }, headers: { cookie, ...headers } });
    const bare = await replay({});
    expect(bare.statusCode).toBe(403);
    expect(bare.json()).toMatchObject({ error: 'a session may change something only from a page of this gateway' });
    expect((await replay({ origin: 'http://evil.example', host: 'gw.local:8080' })).statusCode).toBe(403);
    // same origin: through to the route (404: no sink is attached in this test)
    expect((await replay({ origin: 'http://gw.local:8080', host: 'gw.local:8080' })).statusCode).toBe(404);
  });
});

describe('token management over HTTP', () => {
  it('lets an admin make, list and revoke tokens; the secret is in the answer that makes it only', async () => {
    const t = await api();
    const made = await t.inject({ method: 'POST', url: '/api/v1/tokens', payload: { name: 'grafana', scopes: ['analyst'], expiresInSeconds: 3600 } });
    expect(made.statusCode, made.body).toBe(201);
    const { token, id } = made.json<{ token: string; id: string }>();
    expect((await t.app.inject({ url: '/api/v1/live', headers: bearer(token) })).statusCode).toBe(200);
    const listed = await t.inject({ url: '/api/v1/tokens' });
    expect(listed.body).not.toContain(token.slice(-43));
    expect(listed.json<{ tokens: Array<{ name: string }> }>().tokens.map((x) => x.name)).toEqual(['test-admin', 'grafana']);
    expect((await t.inject({ method: 'POST', url: '/api/v1/tokens', payload: { name: 'grafana', scopes: ['analyst'] } })).statusCode).toBe(409);
    expect((await t.inject({ method: 'DELETE', url: `/api/v1/tokens/${id}` })).json()).toMatchObject({ id, revokedAt: expect.any(String) as unknown });
    expect((await t.app.inject({ url: '/api/v1/live', headers: bearer(token) })).statusCode).toBe(401);
    expect((await t.inject({ method: 'DELETE', url: '/api/v1/tokens/nobody' })).statusCode).toBe(404);
  });
});

describe('request limits', () => {
  it('answers 429 once an address passes http.rateLimitPerMinute, public routes included', async () => {
    const t = await api({ http: { rateLimitPerMinute: 5 } });
    const statuses: number[] = [];
    for (let i = 0; i < 8; i++) statuses.push((await t.app.inject({ url: '/healthz' })).statusCode);
    expect(statuses).toEqual([200, 200, 200, 200, 200, 429, 429, 429]);
    const limited = await t.app.inject({ url: '/healthz' });
    expect(limited.json()).toMatchObject({ code: 'SL_ERR_HTTP_RATE_LIMITED' });
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    expect((await t.app.inject({ url: '/healthz', remoteAddress: '127.0.0.3' })).statusCode).toBe(200);
  });

  it('rate limits requests without credentials too, before any token is looked up', async () => {
    const t = await api({ http: { rateLimitPerMinute: 5 } });
    const statuses: number[] = [];
    for (let i = 0; i < 7; i++) statuses.push((await t.app.inject({ url: '/api/v1/stores' })).statusCode);
    expect(statuses).toEqual([401, 401, 401, 401, 401, 429, 429]);
    expect(await denied(t, 'rate_limited')).toBe(2);
  });

  it('answers 413 to a body over http.bodyLimitBytes', async () => {
    const t = await api({ http: { bodyLimitBytes: 2048 } });
    const res = await t.inject({
      method: 'POST',
      url: '/api/v1/sinks/influx/replay',
      headers: { 'content-type': 'application/json' },
      payload: JSON.stringify({ since: new Date().toISOString(), pad: 'x'.repeat(4096) }),
    });
    expect(res.statusCode).toBe(413);
    expect(res.json()).toMatchObject({ code: 'FST_ERR_CTP_BODY_TOO_LARGE' });
  });

  it('answers a CORS preflight without any Access-Control-Allow-* header', async () => {
    const t = await api();
    const res = await t.app.inject({
      method: 'OPTIONS',
      url: '/api/v1/stores',
      headers: { origin: 'http://evil.example', 'access-control-request-method': 'GET', 'access-control-request-headers': 'authorization' },
    });
    expect(Object.keys(res.headers).filter((h) => h.startsWith('access-control-'))).toEqual([]);
  });
});
