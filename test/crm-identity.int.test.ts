/**
 * Identity links made through the API reach the CRM, with real parts: a customer links the app's
 * beacon id outside a touchpoint (`POST /api/v1/customers/{customer}/identity-links`), so an
 * interaction that names only the beacon is forwarded as theirs; when they unlink, a later one is
 * not. The receiver does not answer the first attempt: the gateway gives up after its `timeoutMs`
 * and delivers on the next attempt, once in effect.
 */
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';

import { DEMO_STORE_ID } from '../config/index.js';
import { newWebhookSecret, startFakeWebhookReceiver } from './helpers/fake-crm.js';
import { recordCrmConsent, startCrmGateway } from './helpers/crm-gateway.js';
import { connectClient, metricValue, publishAcked } from './helpers/gateway.js';
import { startInfluxd, type TestInfluxd } from './helpers/influxd.js';
import { eventually } from './helpers/lifecycle.js';

const IBEACON = 'ibeacon:f7826da6-4fa2-4e98-8024-bc5b71e0893e:100:9';
const TIMEOUT_MS = 400;

let influxd: TestInfluxd;
beforeAll(async () => {
  influxd = await startInfluxd();
});
afterAll(async () => {
  await influxd?.stop();
});

describe('identity links made through the API', () => {
  it('forward a beacon’s interaction as the customer’s until they unlink it, through an attempt that timed out', async () => {
    const secret = newWebhookSecret();
    const receiver = await startFakeWebhookReceiver({ secrets: [secret] });
    onTestFinished(() => receiver.stop());
    const gw = await startCrmGateway(influxd.url, { name: 'hooks', type: 'webhook', url: receiver.url, secrets: [secret], timeoutMs: TIMEOUT_MS });
    const post = (path: string, body: object) => gw.api(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const linkedAt = Date.now() - 30_000;
    await recordCrmConsent(gw, 'C-LINK', 'granted', linkedAt - 60_000, 'app');
    const link = await post('/api/v1/customers/C-LINK/identity-links', { pseudonym: IBEACON, channel: 'qr_scan', proof: 'app session 17', at: linkedAt });
    expect(link.status).toBe(201);

    receiver.script({ hang: true });
    const client = await connectClient(gw.mqttUrl, { clientId: 'crm-identity' });
    onTestFinished(() => client.endAsync());
    const topic = `storeloop/${DEMO_STORE_ID}/touchpoint/kiosk-1`;
    await publishAcked(client, topic, { ts: linkedAt + 10_000, mid: 'link-1', action: 'scan', beacon: IBEACON });
    const accepted = await eventually(
      () => receiver.accepted,
      (list) => list.length === 1,
      'the linked beacon’s interaction at the receiver',
    );
    expect(accepted[0]?.body).toMatchObject({ type: 'storeloop.interaction', data: { customer: 'C-LINK', action: 'scan', touchpoint: 'kiosk-1' } });
    // the first attempt hung until the gateway's timeout; the second, with the same id, was applied
    expect(receiver.attempts.map((a) => [a.id, a.status])).toEqual([
      [accepted[0]?.id, 0],
      [accepted[0]?.id, 204],
    ]);
    expect(await metricValue(gw.httpUrl, 'storeloop_crm_events_total', { destination: 'hooks', outcome: 'retried' })).toBe(1);

    const unlinked = await gw.api(`/api/v1/customers/C-LINK/identity-links/${encodeURIComponent(IBEACON)}`, { method: 'DELETE' });
    expect(await unlinked.json()).toEqual({ ended: 1 });
    const anonymousBefore = await metricValue(gw.httpUrl, 'storeloop_crm_filtered_total', { destination: 'hooks', reason: 'anonymous' });
    await publishAcked(client, topic, { ts: Date.now(), mid: 'link-2', action: 'scan', beacon: IBEACON });
    await eventually(
      () => metricValue(gw.httpUrl, 'storeloop_crm_filtered_total', { destination: 'hooks', reason: 'anonymous' }),
      (n) => n === anonymousBefore + 1,
      'the interaction after the unlinking filtered as anonymous',
    );
    expect(receiver.accepted).toHaveLength(1);
  });
});
