/**
 * Live updates as a dashboard gets them: GET /api/v1/live/stream on a real gateway over loopback,
 * read with fetch() as server-sent events, fed by real MQTT publishes. The session of a browser login
 * and a bearer token; logout and revocation close the stream; the cap on streams; the gateway's stop
 * ends every stream.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { GatewayProcess } from './helpers/gateway-process.js';
import { startInfluxd, type TestInfluxd } from './helpers/influxd.js';
import { apiFetch, connectClient, publishAcked, startTestGateway, type TestGateway } from './helpers/gateway.js';
import { eventually, useCleanups } from './helpers/lifecycle.js';
import { openSse, type SseStream } from './helpers/sse-client.js';
import { testBuild } from './helpers/test-build.js';

let influxd: TestInfluxd;
const cleanups = useCleanups();

beforeAll(async () => {
  influxd = await startInfluxd();
});
afterAll(async () => {
  await influxd?.stop();
});

interface LiveBody {
  stores: Array<{ store: string; messages: Record<string, number>; lastMessageAt: string | null }>;
}

async function gateway(config: Record<string, unknown> = {}): Promise<TestGateway> {
  const gw = await startTestGateway({ influxUrl: influxd.url, config });
  cleanups.push(() => gw.stop());
  return gw;
}

/** A browser login with a new analyst token: the session cookie. */
async function login(gw: TestGateway, name: string): Promise<{ cookie: string; token: string }> {
  const token = gw.gateway.apiTokens.add({ name, scopes: ['analyst'] }).token;
  const response = await fetch(`${gw.httpUrl}/api/v1/session`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ token }),
  });
  expect(response.status).toBe(201);
  const cookie = /^(storeloop_session=[^;]+)/.exec(response.headers.get('set-cookie') ?? '')?.[1];
  if (cookie === undefined) throw new Error('no session cookie');
  return { cookie, token };
}

async function stream(gw: TestGateway, headers: Record<string, string>): Promise<SseStream> {
  const s = await openSse(`${gw.httpUrl}/api/v1/live/stream`, headers);
  cleanups.push(async () => s.close());
  return s;
}

const ble = (i: number) => ({ ts: Date.now(), mid: `sse-${i}`, sightings: [{ id: `dev:${String(i).padStart(24, '0')}`, rssi: -60 }] });

describe('GET /api/v1/live/stream', () => {
  it('sends the live JSON at once and on each change, at most every 2 s, to a browser session; logout closes it at the next tick', async () => {
    const gw = await gateway();
    const { cookie } = await login(gw, 'page');
    const s = await stream(gw, { cookie });
    expect(s.response.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    expect(s.response.headers.get('cache-control')).toBe('no-cache, no-store');
    expect(s.response.headers.get('x-content-type-options')).toBe('nosniff'); // the security headers as on every answer

    const first = JSON.parse((await s.next('live', 3_000)).data) as LiveBody;
    const polled = (await (await apiFetch(gw.httpUrl, '/api/v1/live')).json()) as LiveBody;
    expect(first).toEqual(polled); // the same JSON as GET /api/v1/live

    const client = await connectClient(gw.mqttUrl, { clientId: 'sse-ble' });
    cleanups.push(() => client.endAsync());
    const topic = 'storeloop/demo-store/ble/ble-women';
    await publishAcked(client, topic, ble(1));
    const changed = JSON.parse((await s.next('live', 5_000)).data) as LiveBody;
    expect(changed.stores[0]?.messages.ble).toBe(1);

    // two bursts of changes, the second published once the first was sent: each burst arrives as one
    // event (or a few, should it straddle a tick), and events keep at least the 2 s tick apart
    const liveWith = (n: number) =>
      eventually(
        () => s.events.filter((e) => e.event === 'live'),
        (live) => (JSON.parse(live.at(-1)?.data ?? '{}') as Partial<LiveBody>).stores?.[0]?.messages.ble === n,
        `a live event with all ${n} messages`,
        10_000,
      );
    for (let i = 2; i <= 6; i++) await publishAcked(client, topic, ble(i));
    await liveWith(6);
    for (let i = 7; i <= 12; i++) await publishAcked(client, topic, ble(i));
    const last = await liveWith(12);
    const gaps = last.slice(1).map((e, i) => e.at - (last[i] as { at: number }).at);
    expect(Math.min(...gaps.slice(1))).toBeGreaterThanOrEqual(1_500); // the tick is 2 s; timer jitter and reading allow some slack
    expect(last.length).toBeGreaterThanOrEqual(4); // at connect, the first change, and at least one tick for each burst
    expect(last.length).toBeLessThan(12);

    const logoutAt = Date.now();
    const logout = await fetch(`${gw.httpUrl}/api/v1/session`, { method: 'DELETE', headers: { cookie } });
    expect(logout.status).toBe(204);
    const closed = JSON.parse((await s.next('closed', 5_000)).data) as { reason: string; code: string };
    expect(closed).toEqual({ reason: 'the session has ended (logout, expiry or restart): log in again', code: 'SL_ERR_HTTP_UNAUTHENTICATED' });
    expect(await s.ended).toBe('ended');
    expect(Date.now() - logoutAt).toBeLessThan(3_500); // within a tick (2 s), plus slack
    // and the cookie opens no new stream
    expect((await fetch(`${gw.httpUrl}/api/v1/live/stream`, { headers: { cookie } })).status).toBe(401);
  });

  it('closes the stream of a bearer token once it is revoked', async () => {
    const gw = await gateway();
    const token = gw.gateway.apiTokens.add({ name: 'wallboard', scopes: ['analyst'] }).token;
    const s = await stream(gw, { authorization: `Bearer ${token}` });
    await s.next('live', 3_000);
    gw.gateway.apiTokens.revoke('wallboard'); // as `storeloop tokens revoke wallboard` does, on the same database
    const closed = JSON.parse((await s.next('closed', 5_000)).data) as { reason: string };
    expect(closed.reason).toBe('the token is revoked');
    expect(await s.ended).toBe('ended');
  });

  it('refuses a stream past http.maxLiveStreams with 503 and a clear error, and admits one again once a stream closed', async () => {
    const gw = await gateway({ http: { maxLiveStreams: 2 } });
    const bearer = { authorization: `Bearer ${gw.apiToken}` };
    const a = await stream(gw, bearer);
    await stream(gw, bearer);
    await a.next('live', 3_000);
    const refused = await fetch(`${gw.httpUrl}/api/v1/live/stream`, { headers: bearer });
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toBe('5');
    expect(await refused.json()).toEqual({
      error: 'too many live update streams are open (http.maxLiveStreams: 2); close a dashboard tab or retry later',
      code: 'SL_ERR_HTTP_LIVE_STREAMS_FULL',
    });
    a.close();
    const again = await eventually(
      async () => {
        const response = await fetch(`${gw.httpUrl}/api/v1/live/stream`, { headers: bearer });
        if (response.status === 200) cleanups.push(async () => response.body?.cancel());
        else await response.body?.cancel();
        return response.status;
      },
      (status) => status === 200,
      'a stream admitted once one closed',
      5_000,
    );
    expect(again).toBe(200);
  });

  it('ends every stream when the gateway stops, without holding the stop up', async () => {
    const gw = await gateway();
    const { cookie } = await login(gw, 'tab');
    const streams = [await stream(gw, { cookie }), await stream(gw, { authorization: `Bearer ${gw.apiToken}` })];
    for (const s of streams) await s.next('live', 3_000);
    const startedAt = Date.now();
    await gw.stop();
    const stopMs = Date.now() - startedAt;
    for (const s of streams) {
      expect(JSON.parse((await s.next('closed', 1_000)).data)).toEqual({ reason: 'the gateway is stopping', code: 'SL_ERR_HTTP_STOPPING' });
      expect(await s.ended).toBe('ended');
    }
    expect(stopMs).toBeLessThan(5_000);
  });

  it('lets the gateway process exit at SIGTERM while streams are open', async () => {
    const gw = await GatewayProcess.create(testBuild(), influxd.url);
    cleanups.push(() => gw.destroy());
    await gw.start();
    const bearer = { authorization: `Bearer ${gw.apiToken}` };
    const streams = [await openSse(`${gw.httpUrl}/api/v1/live/stream`, bearer), await openSse(`${gw.httpUrl}/api/v1/live/stream`, bearer)];
    for (const s of streams) await s.next('live', 3_000);
    const startedAt = Date.now();
    expect(await gw.stop()).toBe(0);
    const exitMs = Date.now() - startedAt;
    for (const s of streams) {
      expect(JSON.parse((await s.next('closed', 1_000)).data)).toMatchObject({ code: 'SL_ERR_HTTP_STOPPING' });
      expect(await s.ended).toBe('ended');
    }
    expect(exitMs).toBeLessThan(10_000);
  });
});
