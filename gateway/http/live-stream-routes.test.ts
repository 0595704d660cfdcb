import { PassThrough } from 'node:stream';

import { afterEach, describe, expect, it, vi } from 'vitest';

import { buildTestApi, type TestApi } from './http-api.fixtures.js';
import { LiveStreamHub, type CredentialCheck } from './live-stream-routes.js';

/** A sink as the hub sees a response, with what was written to it so far. */
function sink(): { stream: PassThrough; text: () => string } {
  const stream = new PassThrough();
  let written = '';
  stream.on('data', (chunk: Buffer) => (written += chunk.toString('utf8')));
  return { stream, text: () => written };
}

const events = (text: string, name: string) => text.split('\n\n').filter((block) => block.startsWith(`event: ${name}\n`));

let api: TestApi | undefined;
afterEach(async () => {
  vi.useRealTimers();
  await api?.close();
  api = undefined;
});

describe('LiveStreamHub', () => {
  it('sends the state at once, then only when it changed; ends a stream whose credentials stopped holding', async () => {
    let state = '{"n":1}';
    const hub = new LiveStreamHub({ maxStreams: 2, snapshot: () => state, intervalMs: 60_000, heartbeatMs: 60_000 });
    const a = sink();
    let denied: string | null = null;
    const check: CredentialCheck = () => denied;
    hub.open(a.stream, check);
    await new Promise((r) => setImmediate(r));
    expect(a.text()).toBe('retry: 5000\n\nevent: live\ndata: {"n":1}\n\n');
    hub.tick();
    await new Promise((r) => setImmediate(r));
    expect(events(a.text(), 'live')).toHaveLength(1); // unchanged: nothing sent
    state = '{"n":2}';
    hub.tick();
    hub.heartbeat();
    await new Promise((r) => setImmediate(r));
    expect(events(a.text(), 'live')).toEqual(['event: live\ndata: {"n":1}', 'event: live\ndata: {"n":2}']);
    expect(a.text()).toMatch(/\n\n: heartbeat \d{4}-/);
    denied = 'the session has ended (logout, expiry or restart): log in again';
    hub.tick();
    await new Promise((r) => setImmediate(r));
    expect(events(a.text(), 'closed')).toEqual([`event: closed\ndata: {"reason":"${denied}","code":"SL_ERR_HTTP_UNAUTHENTICATED"}`]);
    expect(a.stream.writableEnded).toBe(true);
    expect(hub.size).toBe(0);
  });

  it('ticks and sends heartbeats on its own timers while a stream is open, and stops them with the last stream', async () => {
    // only the hub's intervals are faked: the PassThrough's own ticks and setImmediate stay real
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    let n = 0;
    const hub = new LiveStreamHub({ maxStreams: 1, snapshot: () => `{"n":${n}}`, intervalMs: 20, heartbeatMs: 30 });
    const a = sink();
    expect(vi.getTimerCount()).toBe(0); // no stream, no timers
    hub.open(a.stream, () => null);
    expect(vi.getTimerCount()).toBe(2); // the tick and the heartbeat
    n = 1;
    vi.advanceTimersByTime(30); // one tick (20 ms) and one heartbeat (30 ms)
    await new Promise((r) => setImmediate(r));
    expect(events(a.text(), 'live')).toEqual(['event: live\ndata: {"n":0}', 'event: live\ndata: {"n":1}']);
    expect(a.text()).toMatch(/\n\n: heartbeat \d{4}-\d\d-\d\dT/);
    hub.closeAll('the gateway is stopping', 'SL_ERR_HTTP_STOPPING');
    expect(hub.size).toBe(0);
    expect(vi.getTimerCount()).toBe(0); // both timers cleared with the last stream
    const ended = a.text().length;
    n = 2;
    vi.advanceTimersByTime(100); // what would have been five ticks and three heartbeats
    await new Promise((r) => setImmediate(r));
    expect(a.text().length).toBe(ended);
  });

  it('admits up to maxStreams, forgets a stream whose client went away, and refuses all once closing', () => {
    const hub = new LiveStreamHub({ maxStreams: 2, snapshot: () => '{}', intervalMs: 60_000, heartbeatMs: 60_000 });
    const [a, b] = [sink(), sink()];
    expect(hub.admits()).toBe(true);
    hub.open(a.stream, () => null);
    expect(hub.admits()).toBe(true);
    hub.open(b.stream, () => null);
    expect(hub.admits()).toBe(false);
    a.stream.destroy(); // the client went away
    return new Promise<void>((resolve) => {
      a.stream.once('close', () => {
        expect(hub.size).toBe(1);
        expect(hub.admits()).toBe(true);
        hub.closeAll('the gateway is stopping', 'SL_ERR_HTTP_STOPPING');
        expect(b.stream.writableEnded).toBe(true);
        expect(b.text()).toContain('event: closed\ndata: {"reason":"the gateway is stopping","code":"SL_ERR_HTTP_STOPPING"}');
        expect(hub.admits()).toBe(false);
        resolve();
      });
    });
  });
});

describe('GET /api/v1/live/stream', () => {
  it('needs credentials with the analyst scope before any stream opens', async () => {
    api = await buildTestApi();
    expect((await api.app.inject({ method: 'GET', url: '/api/v1/live/stream' })).statusCode).toBe(401);
    const token = api.tokens.add({ name: 'crm', scopes: ['integration'] }).token;
    const forbidden = await api.app.inject({ method: 'GET', url: '/api/v1/live/stream', headers: { authorization: `Bearer ${token}` } });
    expect(forbidden.statusCode).toBe(403);
    // no HEAD: it would hold a stream open with nothing to send
    expect((await api.inject({ method: 'HEAD', url: '/api/v1/live/stream' })).statusCode).toBe(404);
  });
});
