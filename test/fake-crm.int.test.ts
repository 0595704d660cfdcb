/**
 * The fake CRM's webhook receiver (test/helpers/fake-crm.ts) against requests signed with the
 * `standardwebhooks` library, over real HTTP: it must accept what the Standard Webhooks spec accepts
 * and refuse forged, stale, future and replayed deliveries, or the gateway's CRM delivery tests would
 * prove nothing.
 */
import { randomUUID } from 'node:crypto';

import { Webhook } from 'standardwebhooks';
import { describe, expect, it, onTestFinished } from 'vitest';

import { newWebhookSecret, startFakeWebhookReceiver, type FakeWebhookReceiver, type FakeWebhookReceiverOptions } from './helpers/fake-crm.js';
import { eventually } from './helpers/lifecycle.js';

const TEN_MINUTES_MS = 10 * 60_000;

async function startReceiver(options: FakeWebhookReceiverOptions): Promise<FakeWebhookReceiver> {
  const receiver = await startFakeWebhookReceiver(options);
  onTestFinished(() => receiver.stop());
  return receiver;
}

/** A webhook id as the spec's examples spell them (`msg_…`), unique per test. */
function newMessageId(): string {
  return `msg_${randomUUID()}`;
}

/** A payload in the spec's recommended shape: `type`, `timestamp`, `data`. */
function visitCompleted(visitId: string): string {
  return JSON.stringify({ type: 'visit.completed', timestamp: new Date().toISOString(), data: { storeId: 'demo-store', visitId } });
}

/** The three Standard Webhooks headers for one attempt, signed with `secret`. */
function signedHeaders(secret: string, id: string, payload: string, at = new Date()): Record<string, string> {
  return { 'webhook-id': id, 'webhook-timestamp': String(Math.floor(at.getTime() / 1000)), 'webhook-signature': new Webhook(secret).sign(id, at, payload) };
}

function post(url: string, payload: string, headers: Record<string, string>, signal?: AbortSignal): Promise<Response> {
  return fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: payload, signal: signal ?? null });
}

describe('fake CRM webhook receiver (Standard Webhooks 1.0)', () => {
  it('accepts a correctly signed webhook once and answers its retry with 200 without applying it again', async () => {
    const secret = newWebhookSecret();
    const receiver = await startReceiver({ secrets: [secret] });
    const id = newMessageId();
    const payload = visitCompleted('v-1');

    const first = await post(receiver.url, payload, signedHeaders(secret, id, payload));
    // a retry keeps webhook-id and signs again with its own timestamp
    const retry = await post(receiver.url, payload, signedHeaders(secret, id, payload, new Date(Date.now() + 1_000)));

    expect(first.status).toBe(204);
    expect(retry.status).toBe(200);
    expect(receiver.accepted).toHaveLength(1);
    expect(receiver.accepted[0]).toMatchObject({ id, body: JSON.parse(payload) as unknown });
    expect(receiver.duplicates).toEqual([id]);
    expect(receiver.rejected).toEqual([]);
    expect(receiver.attempts.map((a) => [a.id, a.status])).toEqual([
      [id, 204],
      [id, 200],
    ]);
  });

  it('refuses a forged signature and a body changed after signing with 401 signature, and applies nothing', async () => {
    const secret = newWebhookSecret();
    const receiver = await startReceiver({ secrets: [secret] });
    const forgedId = newMessageId();
    const tamperedId = newMessageId();
    const payload = visitCompleted('v-2');

    const forged = await post(receiver.url, payload, signedHeaders(newWebhookSecret(), forgedId, payload));
    const tampered = await post(receiver.url, visitCompleted('v-2-changed'), signedHeaders(secret, tamperedId, payload));

    expect(forged.status).toBe(401);
    expect(tampered.status).toBe(401);
    expect(receiver.rejected).toEqual([
      { id: forgedId, reason: 'signature', status: 401 },
      { id: tamperedId, reason: 'signature', status: 401 },
    ]);
    expect(receiver.accepted).toEqual([]);
    expect(receiver.duplicates).toEqual([]);

    // a forged request must not claim the id: the genuine delivery of it is still applied
    const genuine = await post(receiver.url, payload, signedHeaders(secret, forgedId, payload));
    expect(genuine.status).toBe(204);
    expect(receiver.accepted.map((w) => w.id)).toEqual([forgedId]);
  });

  it('refuses a correctly signed webhook 10 minutes old or 10 minutes ahead with 401 timestamp', async () => {
    const secret = newWebhookSecret();
    const receiver = await startReceiver({ secrets: [secret] });
    const staleId = newMessageId();
    const futureId = newMessageId();
    const payload = visitCompleted('v-3');

    const stale = await post(receiver.url, payload, signedHeaders(secret, staleId, payload, new Date(Date.now() - TEN_MINUTES_MS)));
    const future = await post(receiver.url, payload, signedHeaders(secret, futureId, payload, new Date(Date.now() + TEN_MINUTES_MS)));

    expect(stale.status).toBe(401);
    expect(future.status).toBe(401);
    expect(receiver.rejected).toEqual([
      { id: staleId, reason: 'timestamp', status: 401 },
      { id: futureId, reason: 'timestamp', status: 401 },
    ]);
    expect(receiver.accepted).toEqual([]);
  });

  it('accepts during key rotation: a second signature by the configured secret, or either of two configured secrets', async () => {
    const oldSecret = newWebhookSecret();
    const newSecret = newWebhookSecret();
    const receiver = await startReceiver({ secrets: [newSecret] });
    const id = newMessageId();
    const payload = visitCompleted('v-4');
    const byOld = signedHeaders(oldSecret, id, payload);
    const byNew = signedHeaders(newSecret, id, payload);

    const rotating = await post(receiver.url, payload, { ...byNew, 'webhook-signature': `${byOld['webhook-signature']} ${byNew['webhook-signature']}` });
    expect(rotating.status).toBe(204);
    expect(receiver.accepted.map((w) => w.id)).toEqual([id]);

    const bothSecrets = await startReceiver({ secrets: [oldSecret, newSecret] });
    const oldId = newMessageId();
    const newId = newMessageId();
    const signedByOld = await post(bothSecrets.url, payload, signedHeaders(oldSecret, oldId, payload));
    const signedByNew = await post(bothSecrets.url, payload, signedHeaders(newSecret, newId, payload));
    expect([signedByOld.status, signedByNew.status]).toEqual([204, 204]);
    expect(bothSecrets.accepted.map((w) => w.id)).toEqual([oldId, newId]);
    expect(bothSecrets.rejected).toEqual([]);
  });

  it('refuses a delivery missing any of the three headers with 400 headers, and a signed non-JSON body with 400 body', async () => {
    const secret = newWebhookSecret();
    const receiver = await startReceiver({ secrets: [secret] });
    const payload = visitCompleted('v-5');
    const headerNames = ['webhook-id', 'webhook-timestamp', 'webhook-signature'];

    for (const missing of headerNames) {
      const headers = signedHeaders(secret, newMessageId(), payload);
      delete headers[missing];
      const response = await post(receiver.url, payload, headers);
      expect(response.status, `without ${missing}`).toBe(400);
    }
    const notJsonId = newMessageId();
    const notJson = 'visit.completed store=demo-store';
    const notJsonResponse = await post(receiver.url, notJson, signedHeaders(secret, notJsonId, notJson));

    expect(notJsonResponse.status).toBe(400);
    expect(receiver.rejected.map((r) => [r.reason, r.status])).toEqual([
      ['headers', 400],
      ['headers', 400],
      ['headers', 400],
      ['body', 400],
    ]);
    expect(receiver.rejected[0]!.id).toBeUndefined();
    expect(receiver.rejected[3]!.id).toBe(notJsonId);
    expect(receiver.accepted).toEqual([]);
  });

  it('answers 404 off the endpoint path and 405 to a method other than POST, applying nothing', async () => {
    const secret = newWebhookSecret();
    const receiver = await startReceiver({ secrets: [secret], path: '/crm/webhooks' });
    const payload = visitCompleted('v-6');

    const wrongPath = await post(new URL('/hooks/storeloop', receiver.url).href, payload, signedHeaders(secret, newMessageId(), payload));
    const wrongMethod = await fetch(receiver.url);

    expect(receiver.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/crm\/webhooks$/);
    expect(wrongPath.status).toBe(404);
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.headers.get('allow')).toBe('POST');
    expect(receiver.attempts.map((a) => a.status)).toEqual([404, 405]);
    expect(receiver.accepted).toEqual([]);
  });

  it('answers scripted responses in order (429 with retry-after, 500, then normal handling) and records every attempt', async () => {
    const secret = newWebhookSecret();
    const receiver = await startReceiver({ secrets: [secret] });
    receiver.script({ status: 429, headers: { 'retry-after': '7' }, body: 'slow down' }, { status: 500, delayMs: 20 });
    const id = newMessageId();
    const payload = visitCompleted('v-7');

    const throttled = await post(receiver.url, payload, signedHeaders(secret, id, payload));
    const failed = await post(receiver.url, payload, signedHeaders(secret, id, payload));
    const delivered = await post(receiver.url, payload, signedHeaders(secret, id, payload));

    expect(throttled.status).toBe(429);
    expect(throttled.headers.get('retry-after')).toBe('7');
    expect(await throttled.text()).toBe('slow down');
    expect(failed.status).toBe(500);
    expect(delivered.status).toBe(204);
    expect(receiver.attempts.map((a) => [a.id, a.status])).toEqual([
      [id, 429],
      [id, 500],
      [id, 204],
    ]);
    expect(receiver.attempts.every((a) => a.timestamp !== undefined && /^\d+$/.test(a.timestamp))).toBe(true);
    expect(receiver.accepted.map((w) => w.id)).toEqual([id]);
  });

  it('hangs a scripted request until the client times out, stays usable, and stop() ends a hanging request', async () => {
    const secret = newWebhookSecret();
    const receiver = await startReceiver({ secrets: [secret] });
    receiver.script({ hang: true });
    const payload = visitCompleted('v-8');

    const hungId = newMessageId();
    await expect(post(receiver.url, payload, signedHeaders(secret, hungId, payload), AbortSignal.timeout(200))).rejects.toThrow(
      expect.objectContaining({ name: 'TimeoutError' }),
    );
    const nextId = newMessageId();
    const next = await post(receiver.url, payload, signedHeaders(secret, nextId, payload));
    expect(next.status).toBe(204);
    expect(receiver.attempts.map((a) => [a.id, a.status])).toEqual([
      [hungId, 0],
      [nextId, 204],
    ]);

    receiver.script({ hang: true });
    const pendingId = newMessageId();
    const pending = post(receiver.url, payload, signedHeaders(secret, pendingId, payload)).then(
      (response) => response.status,
      (err: unknown) => err,
    );
    await eventually(
      () => receiver.attempts.some((a) => a.id === pendingId),
      (arrived) => arrived,
      'the second hanging request to arrive',
    );
    await receiver.stop();
    // the socket was destroyed under it, so the client sees a network error rather than an answer
    expect(await pending).toBeInstanceOf(TypeError);
    expect(receiver.accepted.map((w) => w.id)).toEqual([nextId]);
  });
});
