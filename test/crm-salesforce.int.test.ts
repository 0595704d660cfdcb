/**
 * The Salesforce destination with real parts: touchpoint messages over MQTT into the gateway, its
 * consent registry, the CRM sink and outbox, and a real HTTP server that answers as Salesforce's OAuth
 * client credentials flow and sObject Collections are documented to (test/helpers/fake-salesforce.ts:
 * tokens it issued and expires, per-record SaveResults, Salesforce's error lists). Platform events
 * take no idempotency key, so delivery is at least once: every consented event is published, a
 * subscriber de-duplicating on `Storeloop_Event_Id__c` sees each once, in each customer's order,
 * though a request timed out after publishing, the org's request limit was hit and Salesforce
 * answered 503; unconsented events are never published. In a batch only the record that failed is
 * sent again, and one Salesforce refuses becomes a dead letter; an expired token is replaced within
 * the attempt; an erasure is published as its own platform event.
 */
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';

import { DEMO_STORE_ID } from '../config/index.js';
import { REQUEST_LIMIT_EXCEEDED, startFakeSalesforce, type FakeSalesforce } from './helpers/fake-salesforce.js';
import { recordCrmConsent, startCrmGateway } from './helpers/crm-gateway.js';
import { connectClient, metricValue, publishAcked, type TestGateway } from './helpers/gateway.js';
import { startInfluxd, type TestInfluxd } from './helpers/influxd.js';
import { eventually } from './helpers/lifecycle.js';

const CLIENT_ID = '3MVG9storeloopTestClientId';
const CLIENT_SECRET = 'A1B2C3D4E5F6';
const EVENT_FIELDS = ['Storeloop_Event_Id__c', 'Customer__c', 'Event_Type__c', 'Occurred_At__c', 'Store__c', 'Payload__c'];
const ERASURE_FIELDS = ['Storeloop_Event_Id__c', 'Customer__c', 'Erased_At__c'];
const topic = (source: string) => `storeloop/${DEMO_STORE_ID}/touchpoint/${source}`;
/** The id crm-events.ts gives a touchpoint message: the message's identity. */
const eventId = (source: string, ts: number, mid: string) => `tp-${DEMO_STORE_ID}-${source}-${ts}-${mid}`;

let influxd: TestInfluxd;
beforeAll(async () => {
  influxd = await startInfluxd();
});
afterAll(async () => {
  await influxd?.stop();
});

async function setUp(options: { maxAttempts?: number } = {}): Promise<{ gw: TestGateway; salesforce: FakeSalesforce }> {
  const salesforce = await startFakeSalesforce({
    clientId: CLIENT_ID,
    clientSecret: CLIENT_SECRET,
    eventObjects: { Storeloop_Event__e: EVENT_FIELDS, Storeloop_Erasure__e: ERASURE_FIELDS },
  });
  onTestFinished(() => salesforce.stop());
  const gw = await startCrmGateway(influxd.url, {
    name: 'salesforce',
    type: 'salesforce',
    instanceUrl: salesforce.instanceUrl,
    apiVersion: '62.0',
    clientId: CLIENT_ID,
    clientSecret: CLIENT_SECRET,
    timeoutMs: 1000,
    maxAttempts: options.maxAttempts ?? 10,
  });
  return { gw, salesforce };
}

const grantCrm = (gw: TestGateway, customer: string, at: number) => recordCrmConsent(gw, customer, 'granted', at);

const pending = async (gw: TestGateway) =>
  ((await (await gw.api('/api/v1/crm/destinations')).json()) as { destinations: Array<{ pending: number }> }).destinations[0]?.pending;
const deadLetters = async (gw: TestGateway) =>
  ((await (await gw.api('/api/v1/crm/salesforce/dead-letters')).json()) as { deadLetters: Array<{ id: string; error: string }> }).deadLetters;
/** What a subscriber that de-duplicates on Storeloop_Event_Id__c keeps: each id's first publication, in order. */
const deduplicated = (salesforce: FakeSalesforce) => {
  const seen = new Set<string>();
  return salesforce.published.filter((p) => {
    const id = String(p.fields.Storeloop_Event_Id__c);
    if (seen.has(id)) return false;
    seen.add(id);
    return true;
  });
};

describe('the Salesforce destination', () => {
  it('publishes consented events at least once, each once after de-duplication and in each customer’s order, through a timeout, the request limit and a 503', async () => {
    const { gw, salesforce } = await setUp();
    const ts = Date.now() - 60_000;
    await grantCrm(gw, 'C-1', ts - 3_600_000);
    await grantCrm(gw, 'C-2', ts - 3_600_000);
    // published but never answered (the gateway times out and publishes again), then the org's limit, then an outage
    salesforce.script({ publishThenHang: true }, REQUEST_LIMIT_EXCEEDED, { status: 503 });
    const client = await connectClient(gw.mqttUrl, { clientId: 'sf-touchpoints' });
    const sent: Array<{ id: string; customer: string }> = [];
    for (let i = 0; i < 6; i += 1) {
      const customer = i % 2 === 0 ? 'C-1' : 'C-2';
      const source = i % 3 === 0 ? 'kiosk-1' : 'mirror-1';
      await publishAcked(client, topic(source), { ts: ts + i, mid: `m-${i}`, action: 'tap', customer });
      sent.push({ id: eventId(source, ts + i, `m-${i}`), customer });
    }
    await publishAcked(client, topic('kiosk-1'), { ts: ts + 10, mid: 'x-1', action: 'tap', customer: 'C-3' }); // no consent
    await client.endAsync();

    await eventually(
      () => deduplicated(salesforce).length,
      (n) => n >= 6,
      'the six consented events published',
    );
    await eventually(
      () => pending(gw),
      (n) => n === 0,
      'the outbox empty',
    );
    const kept = deduplicated(salesforce);
    expect(new Set(kept.map((p) => p.fields.Storeloop_Event_Id__c))).toEqual(new Set(sent.map((s) => s.id)));
    for (const customer of ['C-1', 'C-2']) {
      expect(kept.filter((p) => p.fields.Customer__c === customer).map((p) => p.fields.Storeloop_Event_Id__c)).toEqual(
        sent.filter((s) => s.customer === customer).map((s) => s.id),
      );
    }
    expect(kept[0]?.fields).toMatchObject({ Event_Type__c: 'interaction', Store__c: DEMO_STORE_ID, Occurred_At__c: new Date(ts).toISOString() });
    expect(JSON.parse(String(kept[0]?.fields.Payload__c))).toMatchObject({ action: 'tap', touchpoint: 'kiosk-1' });
    // at least once: the request that timed out had been published, and was published again
    expect(salesforce.published.length).toBeGreaterThan(6);
    expect(salesforce.published.some((p) => p.fields.Customer__c === 'C-3')).toBe(false);
    // a request never carries two events of one customer
    const customerOf = new Map(sent.map((s) => [s.id, s.customer]));
    for (const request of salesforce.requests.filter((r) => r.eventIds.length > 0)) {
      const customers = request.eventIds.map((id) => customerOf.get(id));
      expect(new Set(customers).size).toBe(customers.length);
    }
    expect(salesforce.requests.map((r) => r.status).filter((s) => s >= 400)).toEqual([403, 503]);
    expect(await metricValue(gw.httpUrl, 'storeloop_crm_events_total', { destination: 'salesforce', outcome: 'delivered' })).toBe(6);
    expect(await metricValue(gw.httpUrl, 'storeloop_crm_filtered_total', { destination: 'salesforce', reason: 'no_consent' })).toBe(1);
  });

  it('sends again only the record of a batch that failed, and dead-letters the one Salesforce refuses', async () => {
    const { gw, salesforce } = await setUp();
    const ts = Date.now() - 60_000;
    for (const c of ['C-A', 'C-B', 'C-C']) await grantCrm(gw, c, ts - 60_000);
    // refused for good at first (a field the event's definition lacked): three dead letters, replayed below in one batch
    const client = await connectClient(gw.mqttUrl, { clientId: 'sf-partial' });
    const ids = [] as string[];
    for (const [i, customer] of ['C-A', 'C-B', 'C-C'].entries()) {
      const id = eventId('kiosk-1', ts + i, `p-${i}`);
      salesforce.failRecord(id, {
        statusCode: 'INVALID_FIELD',
        message: 'No such column Store__c on sobject of type Storeloop_Event__e',
        fields: ['Store__c'],
      });
      await publishAcked(client, topic('kiosk-1'), { ts: ts + i, mid: `p-${i}`, action: 'tap', customer });
      ids.push(id);
    }
    await client.endAsync();
    await eventually(
      () => deadLetters(gw),
      (list) => list.length === 3,
      'the three events dead-lettered',
    );
    const [a, b, c] = ids as [string, string, string];
    salesforce.failRecord(b, { statusCode: 'PLATFORM_EVENT_PUBLISHING_UNAVAILABLE', message: 'Publishing platform events is temporarily unavailable' });
    // Salesforce quotes the value it refuses: the reason kept and logged masks the customer's reference
    salesforce.failRecord(c, { statusCode: 'STRING_TOO_LONG', message: 'Customer: data value too large: C-C (max length=8)', fields: ['Customer__c'] });
    const replay = await gw.api('/api/v1/crm/salesforce/dead-letters/replay', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(await replay.json()).toEqual({ replayed: 3 });

    await eventually(
      () => salesforce.published.map((p) => p.fields.Storeloop_Event_Id__c),
      (published) => published.length === 2,
      'A, then B on its second attempt',
    );
    expect(salesforce.published.map((p) => p.fields.Storeloop_Event_Id__c)).toEqual([a, b]);
    const dead = await eventually(
      () => deadLetters(gw),
      (list) => list.length === 1,
      'C alone among the dead letters',
    );
    expect(dead[0]).toMatchObject({
      id: c,
      error: 'Salesforce refused the record: STRING_TOO_LONG: Customer: data value too large: <customer> (max length=8) (Customer__c)',
    });
    expect(JSON.stringify(gw.logs().filter((l) => l.module === 'crm'))).not.toContain('C-C');
    // after the replay: one request with the three, then one with B alone
    const composite = salesforce.requests.filter((r) => r.eventIds.length > 0);
    expect(composite.slice(-2).map((r) => r.eventIds)).toEqual([[a, b, c], [b]]);
    expect(await pending(gw)).toBe(0);
  });

  it('gets a new token when Salesforce answers INVALID_SESSION_ID, within the same attempt', async () => {
    const { gw, salesforce } = await setUp();
    const ts = Date.now() - 60_000;
    await grantCrm(gw, 'C-T', ts - 60_000);
    const client = await connectClient(gw.mqttUrl, { clientId: 'sf-token' });
    await publishAcked(client, topic('kiosk-1'), { ts, mid: 't-1', action: 'tap', customer: 'C-T' });
    await eventually(
      () => salesforce.published.length,
      (n) => n === 1,
      'the first event published',
    );
    expect(salesforce.tokensIssued()).toBe(1);
    salesforce.expireTokens();
    await publishAcked(client, topic('kiosk-1'), { ts: ts + 1, mid: 't-2', action: 'tap', customer: 'C-T' });
    await client.endAsync();
    await eventually(
      () => salesforce.published.length,
      (n) => n === 2,
      'the second event published with a new token',
    );
    expect(salesforce.tokensIssued()).toBe(2);
    expect(salesforce.requests.map((r) => [r.path, r.status])).toEqual([
      ['/services/oauth2/token', 200],
      ['/services/data/v62.0/composite/sobjects', 200],
      ['/services/data/v62.0/composite/sobjects', 401],
      ['/services/oauth2/token', 200],
      ['/services/data/v62.0/composite/sobjects', 200],
    ]);
    expect(await metricValue(gw.httpUrl, 'storeloop_crm_events_total', { destination: 'salesforce', outcome: 'retried' })).toBe(0);
  });

  it('publishes an erasure as a Storeloop_Erasure__e event naming the customer', async () => {
    const { gw, salesforce } = await setUp();
    const ts = Date.now() - 60_000;
    await grantCrm(gw, 'C-E', ts - 60_000);
    const res = await gw.api('/api/v1/customers/C-E', { method: 'DELETE' });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { notified: string[] }).notified).toEqual(['salesforce']);
    const published = await eventually(
      () => salesforce.published,
      (list) => list.length === 1,
      'the erasure event published',
    );
    expect(published[0]).toMatchObject({ type: 'Storeloop_Erasure__e', fields: { Customer__c: 'C-E' } });
    expect(String(published[0]?.fields.Storeloop_Event_Id__c)).toMatch(/^erasure-/);
    await eventually(
      () => pending(gw),
      (n) => n === 0,
      'the notice settled',
    );
  });

  it('waits with a wrong client secret as a configuration fault, logged as an error, and delivers once Salesforce takes it', async () => {
    // two attempts before a dead letter: a configuration fault must not use them up
    const { gw, salesforce } = await setUp({ maxAttempts: 2 });
    // the secret was rotated in Salesforce and not yet in the gateway's config
    salesforce.acceptClientSecret('rotated-secret');
    const ts = Date.now() - 60_000;
    await grantCrm(gw, 'C-S', ts - 60_000);
    const client = await connectClient(gw.mqttUrl, { clientId: 'sf-secret' });
    await publishAcked(client, topic('kiosk-1'), { ts, mid: 's-1', action: 'tap', customer: 'C-S' });
    await client.endAsync();
    const refused = await eventually(
      () => gw.logs().filter((l) => l.msg === 'CRM destination refused our credentials or configuration: retrying'),
      (lines) => lines.length >= 3,
      'the refused token requests logged as configuration faults',
    );
    expect(refused[0]).toMatchObject({ level: 50, destination: 'salesforce', status: 400 });
    expect(String(refused[0]?.error)).toContain(
      'token endpoint answered 400: invalid_client: invalid client credentials (check instanceUrl, apiVersion, clientId',
    );
    expect(String(refused[0]?.error)).toContain('STORELOOP_CRM_SALESFORCE_CLIENT_SECRET');
    expect(JSON.stringify(gw.logs())).not.toContain(CLIENT_SECRET);
    // three failed attempts, more than maxAttempts: the event still waits, it is not the event's fault
    expect(await deadLetters(gw)).toEqual([]);
    salesforce.acceptClientSecret(CLIENT_SECRET);
    await eventually(
      () => salesforce.published.length,
      (n) => n === 1,
      'the tap published once the secret is right again',
    );
    expect(await deadLetters(gw)).toEqual([]);
  });
});
