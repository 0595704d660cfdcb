/**
 * Forwarding to a CRM webhook with real parts: touchpoint messages over MQTT into the gateway, its
 * consent registry, the CRM sink and outbox, and a real HTTP receiver that checks Standard Webhooks
 * signatures and de-duplicates by `webhook-id` (test/helpers/fake-crm.ts). Only the events of
 * customers who had granted `crm` arrive, each once in effect, despite throttling and server errors;
 * a withdrawal between the event and its delivery stops it; a refused event becomes a dead letter
 * that the operator can replay; a 410 disables the destination.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';

import { DEMO_STORE_ID } from '../config/index.js';
import { newWebhookSecret, startFakeWebhookReceiver, type FakeWebhookReceiver } from './helpers/fake-crm.js';
import { recordCrmConsent, startCrmGateway } from './helpers/crm-gateway.js';
import { connectClient, metricValue, publishAcked, type TestGateway } from './helpers/gateway.js';
import { startInfluxd, type TestInfluxd } from './helpers/influxd.js';
import { eventually } from './helpers/lifecycle.js';

const IBEACON = 'ibeacon:f7826da6-4fa2-4e98-8024-bc5b71e0893e:100:7';
const topic = (source: string) => `storeloop/${DEMO_STORE_ID}/touchpoint/${source}`;

let influxd: TestInfluxd;
beforeAll(async () => {
  influxd = await startInfluxd();
});
afterAll(async () => {
  await influxd?.stop();
});

async function setUp(): Promise<{ gw: TestGateway; receiver: FakeWebhookReceiver }> {
  const secret = newWebhookSecret();
  const receiver = await startFakeWebhookReceiver({ secrets: [secret] });
  onTestFinished(() => receiver.stop());
  const gw = await startCrmGateway(influxd.url, { name: 'hooks', type: 'webhook', url: receiver.url, secrets: [secret], timeoutMs: 2000 });
  return { gw, receiver };
}

const consent = recordCrmConsent;

interface Delivered {
  type: string;
  data: { customer: string; eventId: string; action: string; touchpoint: string; value?: number };
}

describe('the CRM webhook destination', () => {
  it('delivers the consented customers’ events once each through throttling and errors, and never the others’', async () => {
    const { gw, receiver } = await setUp();
    const ts = Date.now() - 60_000;
    await consent(gw, 'C-1', 'granted', ts - 3_600_000);
    await consent(gw, 'C-3', 'granted', ts - 3_600_000);
    // the first attempt is throttled for 5 s: the withdrawal of C-3 comes while their event waits
    receiver.script({ status: 429, headers: { 'retry-after': '5' } }, { status: 500 }, { status: 503 });
    const client = await connectClient(gw.mqttUrl, { clientId: 'crm-touchpoints' });
    await publishAcked(client, topic('kiosk-1'), { ts, mid: 'c3-1', action: 'tap', customer: 'C-3' });
    await eventually(
      () => receiver.attempts.length,
      (n) => n >= 1,
      'the first (throttled) attempt',
    );
    await consent(gw, 'C-3', 'withdrawn', Date.now());
    await publishAcked(client, topic('feedback-1'), { ts: ts + 1, mid: 'c1-1', action: 'feedback', value: 5, customer: 'C-1' });
    await publishAcked(client, topic('mirror-1'), { ts: ts + 2, mid: 'c1-2', action: 'try_on', customer: 'C-1', beacon: IBEACON });
    // the app's beacon, now linked to C-1 by the mirror: an interaction naming only the beacon is C-1's too
    await publishAcked(client, topic('kiosk-1'), { ts: ts + 3, mid: 'c1-3', action: 'view', beacon: IBEACON });
    await publishAcked(client, topic('kiosk-1'), { ts: ts + 4, mid: 'c2-1', action: 'tap', customer: 'C-2' }); // no consent
    await publishAcked(client, topic('kiosk-1'), { ts: ts + 5, mid: 'anon-1', action: 'tap' }); // anonymous
    await client.endAsync();

    await eventually(
      () => receiver.accepted.length,
      (n) => n >= 3,
      'the consented events at the receiver',
    );
    await eventually(
      () => metricValue(gw.httpUrl, 'storeloop_crm_filtered_total', { destination: 'hooks', reason: 'anonymous' }),
      (n) => n >= 1,
      'the anonymous tap filtered',
    );
    const delivered = receiver.accepted.map((a) => a.body as Delivered);
    expect(delivered.map((d) => [d.type, d.data.customer, d.data.action, d.data.touchpoint])).toEqual([
      ['storeloop.feedback', 'C-1', 'feedback', 'feedback-1'],
      ['storeloop.interaction', 'C-1', 'try_on', 'mirror-1'],
      ['storeloop.interaction', 'C-1', 'view', 'kiosk-1'],
    ]);
    expect(delivered[0]?.data.value).toBe(5);
    expect(receiver.rejected).toEqual([]);
    // each id once in effect; the ids are stable across attempts
    expect(new Set(receiver.accepted.map((a) => a.id)).size).toBe(3);
    expect(receiver.attempts.filter((a) => a.status >= 400).map((a) => a.status)).toEqual([429, 500, 503]);
    const metric = (outcome: string) => metricValue(gw.httpUrl, 'storeloop_crm_events_total', { destination: 'hooks', outcome });
    expect(await metric('delivered')).toBe(3);
    expect(await metric('withdrawn')).toBe(1);
    expect(await metric('retried')).toBe(3);
    expect(await metricValue(gw.httpUrl, 'storeloop_crm_filtered_total', { destination: 'hooks', reason: 'no_consent' })).toBe(1);
    const status = (await (await gw.api('/api/v1/crm/destinations')).json()) as { destinations: Array<Record<string, unknown>> };
    expect(status.destinations).toEqual([
      { name: 'hooks', up: true, disabled: null, pausedUntil: null, pending: 0, deadLetters: 0, oldestPendingEventTime: null },
    ]);
  });

  it('sets a refused event aside as a dead letter with the reason, sends it again on replay, and stops at a 410', async () => {
    const { gw, receiver } = await setUp();
    const ts = Date.now() - 60_000;
    await consent(gw, 'C-9', 'granted', ts - 60_000);
    receiver.script({ status: 400, body: 'property "value" too long' });
    const client = await connectClient(gw.mqttUrl, { clientId: 'crm-dead' });
    await publishAcked(client, topic('feedback-1'), { ts, mid: 'd-1', action: 'feedback', value: 2, customer: 'C-9' });
    const dead = await eventually(
      async () =>
        ((await (await gw.api('/api/v1/crm/hooks/dead-letters')).json()) as { deadLetters: Array<{ id: string; error: string; attempts: number }> })
          .deadLetters,
      (list) => list.length === 1,
      'the refused event among the dead letters',
    );
    expect(dead[0]?.error).toContain('answered 400: property "value" too long');
    expect(dead[0]?.attempts).toBe(1);
    expect(receiver.accepted).toEqual([]);

    const replay = await gw.api('/api/v1/crm/hooks/dead-letters/replay', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(await replay.json()).toEqual({ replayed: 1 });
    await eventually(
      () => receiver.accepted.length,
      (n) => n === 1,
      'the replayed event at the receiver',
    );
    expect(receiver.accepted[0]?.id).toBe(dead[0]?.id);
    expect((await (await gw.api('/api/v1/crm/nope/dead-letters')).json()) as { code: string }).toMatchObject({ code: 'SL_ERR_CRM_DESTINATION_UNKNOWN' });

    // the endpoint is removed: the destination stops, the event waits in the outbox
    receiver.script({ status: 410 });
    await publishAcked(client, topic('feedback-1'), { ts: ts + 1, mid: 'd-2', action: 'feedback', value: 4, customer: 'C-9' });
    await client.endAsync();
    const disabled = await eventually(
      async () =>
        ((await (await gw.api('/api/v1/crm/destinations')).json()) as { destinations: Array<{ up: boolean; disabled: string | null; pending: number }> })
          .destinations[0],
      (d) => d?.disabled !== null && d?.disabled !== undefined,
      'the destination disabled',
    );
    expect(disabled).toMatchObject({ up: false, pending: 1 });
    expect(disabled?.disabled).toContain('410');
    expect(await metricValue(gw.httpUrl, 'storeloop_crm_destination_up', { destination: 'hooks' })).toBe(0);
  });

  it('erases a customer in one call: links, consents and pending events gone, the CRM told, no file left naming them', async () => {
    const { gw, receiver } = await setUp();
    const ts = Date.now() - 60_000;
    await consent(gw, 'C-ERASE-1', 'granted', ts - 60_000);
    // their event waits behind a throttled first attempt while the erasure comes
    receiver.script({ status: 503, headers: { 'retry-after': '3' } });
    const client = await connectClient(gw.mqttUrl, { clientId: 'crm-erase' });
    await publishAcked(client, topic('mirror-1'), { ts, mid: 'e-1', action: 'try_on', customer: 'C-ERASE-1', beacon: IBEACON });
    await client.endAsync();
    await eventually(
      () => receiver.attempts.length,
      (n) => n >= 1,
      'the throttled attempt',
    );

    const res = await gw.api('/api/v1/customers/C-ERASE-1', { method: 'DELETE' });
    expect(res.status).toBe(200);
    const erased = (await res.json()) as { erasureId: string; customerHash: string; removed: Record<string, number>; notified: string[] };
    expect(erased.removed).toEqual({ consentChanges: 1, identityLinks: 1, pendingCrmEvents: 1 });
    expect(erased.notified).toEqual(['hooks']);
    expect(erased.customerHash).toMatch(/^hmac-sha256:/);
    expect((await gw.api('/api/v1/customers/C-ERASE-1', { method: 'DELETE' })).status).toBe(404);
    expect((await gw.api('/api/v1/customers/C-ERASE-1/consents')).status).toBe(404);

    // the destination is told, signed like every event; the waiting event never arrives
    const notice = await eventually(
      () => receiver.accepted,
      (list) => list.length === 1,
      'the erasure event at the receiver',
    );
    expect(notice[0]?.body).toMatchObject({ type: 'storeloop.erasure', data: { customer: 'C-ERASE-1' } });
    await eventually(
      async () => ((await (await gw.api('/api/v1/crm/destinations')).json()) as { destinations: Array<{ pending: number }> }).destinations[0]?.pending,
      (n) => n === 0,
      'the outbox empty',
    );
    const audit = (await (await gw.api('/api/v1/consent-audit')).json()) as { entries: Array<{ type: string; customerHash?: string; customer?: string }> };
    expect(audit.entries).toEqual([expect.objectContaining({ type: 'erasure', customerHash: erased.customerHash })]);

    // no file of the state dir names the customer, and the stores of identities hold no trace of their token either
    const files = await readdir(gw.config.state.dir, { recursive: true, withFileTypes: true });
    const named: string[] = [];
    for (const f of files.filter((e) => e.isFile())) {
      const path = join(f.parentPath, f.name);
      if ((await readFile(path)).includes('C-ERASE-1')) named.push(path);
    }
    expect(named).toEqual([]);
    // every measurement: interactions, consent choices (consent_choice) and whatever comes next
    const series = await influxd.query(gw.database, 'SELECT * FROM /.*/');
    expect(JSON.stringify(series)).not.toContain('C-ERASE-1');
  });
});
