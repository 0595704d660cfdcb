/**
 * The HubSpot destination with real parts: touchpoint messages over MQTT into the gateway, its consent
 * registry, the CRM sink and outbox, and a real HTTP server that answers as HubSpot's custom behavioral
 * events and GDPR deletion APIs are documented to (test/helpers/fake-hubspot.ts: token check, event
 * definitions and property limits, occurrences de-duplicated by uuid, HubSpot's error bodies and 429
 * policies). Only consented customers' events arrive, each once in effect though attempts time out,
 * are throttled and fail; values over HubSpot's limits and events HubSpot refuses become dead letters
 * with the reason; a bad token pauses the destination as a configuration fault; the daily limit
 * pauses it until midnight in the account's time zone; an erasure deletes the contact in HubSpot.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';

import { DEMO_STORE_ID } from '../config/index.js';
import { rateLimited, startFakeHubSpot, type FakeHubSpot } from './helpers/fake-hubspot.js';
import { recordCrmConsent, startCrmGateway } from './helpers/crm-gateway.js';
import { connectClient, metricValue, publishAcked, type TestGateway } from './helpers/gateway.js';
import { startInfluxd, type TestInfluxd } from './helpers/influxd.js';
import { eventually } from './helpers/lifecycle.js';

const IBEACON = 'ibeacon:f7826da6-4fa2-4e98-8024-bc5b71e0893e:100:9';
const HUB_ID = 4711;
const TOKEN = 'pat-eu1-11111111-2222-3333-4444-555555555555';
const topic = (source: string) => `storeloop/${DEMO_STORE_ID}/touchpoint/${source}`;
const PROPERTIES = ['store', 'touchpoint', 'touchpoint_type', 'action', 'value', 'visit_end', 'duration_s', 'definition'];

let influxd: TestInfluxd;
beforeAll(async () => {
  influxd = await startInfluxd();
});
afterAll(async () => {
  await influxd?.stop();
});

async function setUp(options: { timeZone?: string; identifyBy?: string } = {}): Promise<{ gw: TestGateway; hubspot: FakeHubSpot }> {
  // HubSpot's event definitions: no `label` property, so an event with a label is refused by HubSpot itself
  const hubspot = await startFakeHubSpot({
    token: TOKEN,
    eventDefinitions: Object.fromEntries(['visit', 'interaction', 'feedback'].map((t) => [`pe${HUB_ID}_storeloop_${t}`, PROPERTIES])),
  });
  onTestFinished(() => hubspot.stop());
  const gw = await startCrmGateway(influxd.url, {
    name: 'hubspot',
    type: 'hubspot',
    baseUrl: hubspot.baseUrl,
    token: TOKEN,
    hubId: HUB_ID,
    identifyBy: options.identifyBy ?? 'email',
    timeZone: options.timeZone ?? 'UTC',
    timeoutMs: 1000,
  });
  return { gw, hubspot };
}

const grantCrm = (gw: TestGateway, customer: string, at: number) => recordCrmConsent(gw, customer, 'granted', at);

interface Destination {
  up: boolean;
  pausedUntil: string | null;
  pending: number;
  deadLetters: number;
}
const destination = async (gw: TestGateway) => ((await (await gw.api('/api/v1/crm/destinations')).json()) as { destinations: Destination[] }).destinations[0];
const deadLetters = async (gw: TestGateway) =>
  ((await (await gw.api('/api/v1/crm/hubspot/dead-letters')).json()) as { deadLetters: Array<{ id: string; error: string; attempts: number }> }).deadLetters;

describe('the HubSpot destination', () => {
  it('sends consented customers’ events as behavioral events once each in effect through a timeout, a 429 and 5xx, and never the others’', async () => {
    const { gw, hubspot } = await setUp();
    const ts = Date.now() - 60_000;
    await grantCrm(gw, 'ana@example.com', ts - 3_600_000);
    // the first occurrence is applied but never answered: the gateway times out and sends it again (same uuid)
    hubspot.script({ applyThenHang: true }, rateLimited('TEN_SECONDLY_ROLLING', { 'retry-after': '1' }), { status: 502 }, { status: 500 });
    const client = await connectClient(gw.mqttUrl, { clientId: 'hubspot-touchpoints' });
    await publishAcked(client, topic('feedback-1'), { ts, mid: 'a-1', action: 'feedback', value: 5, customer: 'ana@example.com' });
    await publishAcked(client, topic('mirror-1'), { ts: ts + 1, mid: 'a-2', action: 'try_on', customer: 'ana@example.com', beacon: IBEACON });
    // the app's beacon, now linked to Ana by the mirror: an interaction naming only the beacon is hers too
    await publishAcked(client, topic('kiosk-1'), { ts: ts + 2, mid: 'a-3', action: 'view', beacon: IBEACON });
    await publishAcked(client, topic('kiosk-1'), { ts: ts + 3, mid: 'b-1', action: 'tap', customer: 'bob@example.com' }); // no consent
    await publishAcked(client, topic('kiosk-1'), { ts: ts + 4, mid: 'anon-1', action: 'tap' }); // anonymous
    await client.endAsync();

    await eventually(
      () => hubspot.occurrences.length,
      (n) => n >= 3,
      'Ana’s three events in HubSpot',
    );
    await eventually(
      async () => (await destination(gw))?.pending,
      (n) => n === 0,
      'the outbox empty',
    );
    expect(hubspot.occurrences.map((o) => [o.eventName, o.contact, o.properties.action, o.properties.touchpoint])).toEqual([
      [`pe${HUB_ID}_storeloop_feedback`, 'email:ana@example.com', 'feedback', 'feedback-1'],
      [`pe${HUB_ID}_storeloop_interaction`, 'email:ana@example.com', 'try_on', 'mirror-1'],
      [`pe${HUB_ID}_storeloop_interaction`, 'email:ana@example.com', 'view', 'kiosk-1'],
    ]);
    expect(hubspot.occurrences[0]).toMatchObject({ occurredAt: new Date(ts).toISOString(), properties: { store: DEMO_STORE_ID, value: 5 } });
    // the timed-out attempt was applied: its resend carried the same uuid and was not applied again
    expect(hubspot.duplicates).toEqual([hubspot.occurrences[0]?.uuid]);
    expect(new Set(hubspot.occurrences.map((o) => o.uuid)).size).toBe(3);
    expect(hubspot.attempts.filter((a) => a.status >= 400).map((a) => a.status)).toEqual([429, 502, 500]);
    const metric = (outcome: string) => metricValue(gw.httpUrl, 'storeloop_crm_events_total', { destination: 'hubspot', outcome });
    expect(await metric('delivered')).toBe(3);
    expect(await metric('retried')).toBe(4);
    expect(await metricValue(gw.httpUrl, 'storeloop_crm_filtered_total', { destination: 'hubspot', reason: 'no_consent' })).toBe(1);
    expect(await metricValue(gw.httpUrl, 'storeloop_crm_filtered_total', { destination: 'hubspot', reason: 'anonymous' })).toBe(1);
  });

  it('dead-letters a value over HubSpot’s 50 characters before sending and an event HubSpot refuses with its message; a bad token is retried as a configuration fault', async () => {
    const { gw, hubspot } = await setUp();
    const ts = Date.now() - 60_000;
    await grantCrm(gw, 'cy@example.com', ts - 60_000);
    // HubSpot takes another token from now on: the gateway's is refused (401) until it takes ours again
    hubspot.acceptToken('pat-eu1-rotated');
    const client = await connectClient(gw.mqttUrl, { clientId: 'hubspot-dead' });
    await publishAcked(client, topic('kiosk-1'), { ts, mid: 'c-1', action: 'tap', customer: 'cy@example.com' });
    const refused = await eventually(
      () => gw.logs().filter((l) => l.msg === 'CRM destination refused our credentials or configuration: retrying'),
      (lines) => lines.length >= 1,
      'the 401 logged as a configuration fault',
    );
    expect(refused[0]).toMatchObject({ level: 50, destination: 'hubspot', status: 401 });
    expect(String(refused[0]?.error)).toContain('STORELOOP_CRM_HUBSPOT_TOKEN');
    expect(JSON.stringify(gw.logs())).not.toContain(TOKEN);
    hubspot.acceptToken(TOKEN);
    await eventually(
      () => hubspot.occurrences.length,
      (n) => n === 1,
      'the tap delivered once the token is right again',
    );

    await publishAcked(client, topic('kiosk-1'), { ts: ts + 1, mid: 'c-2', action: 'tap', customer: 'cy@example.com', label: 'x'.repeat(51) });
    await publishAcked(client, topic('kiosk-1'), { ts: ts + 2, mid: 'c-3', action: 'tap', customer: 'cy@example.com', label: 'spring' });
    await publishAcked(client, topic('feedback-1'), { ts: ts + 3, mid: 'c-4', action: 'feedback', value: 3, customer: 'cy@example.com' });
    await client.endAsync();
    const dead = await eventually(
      () => deadLetters(gw),
      (list) => list.length === 2,
      'the two refused events among the dead letters',
    );
    expect(dead.map((d) => d.error)).toEqual([
      expect.stringContaining("not sent to HubSpot: property 'label' (field 'label') is 51 characters, HubSpot takes at most 50"),
      expect.stringContaining('HubSpot /events/v3/send answered 400: Property label does not exist on event'),
    ]);
    // a dead letter lets the customer's next event go: order is kept, nothing is lost silently
    await eventually(
      () => hubspot.occurrences.length,
      (n) => n === 2,
      'the feedback after the dead letters',
    );
    expect(hubspot.occurrences.map((o) => o.properties.action)).toEqual(['tap', 'feedback']);
    // HubSpot saw the short label (and refused it); the long one never left the gateway
    expect(hubspot.attempts.filter((a) => a.status === 400)).toHaveLength(1);
  });

  it('pauses the destination at HubSpot’s daily limit until midnight in the account’s time zone', async () => {
    const { gw, hubspot } = await setUp({ timeZone: 'Asia/Tokyo' });
    const ts = Date.now() - 60_000;
    await grantCrm(gw, 'dee@example.com', ts - 60_000);
    await grantCrm(gw, 'eve@example.com', ts - 60_000);
    hubspot.script(rateLimited('DAILY'));
    const client = await connectClient(gw.mqttUrl, { clientId: 'hubspot-daily' });
    await publishAcked(client, topic('kiosk-1'), { ts, mid: 'd-1', action: 'tap', customer: 'dee@example.com' });
    const paused = await eventually(
      () => destination(gw),
      (d) => d?.pausedUntil !== null && d?.pausedUntil !== undefined,
      'the destination paused',
    );
    // Tokyo is UTC+9 all year: the next local midnight is 15:00 UTC
    const now = Date.now();
    const tokyoDay = Math.floor((now + 9 * 3600_000) / 86_400_000);
    const midnight = (tokyoDay + 1) * 86_400_000 - 9 * 3600_000;
    // to the second: the wait is measured when HubSpot answered and applied a moment later
    expect(Math.round(Date.parse(paused?.pausedUntil ?? '') / 1000) * 1000).toBe(midnight);
    expect(paused?.up).toBe(false);
    const line = gw.logs().find((l) => l.msg === 'CRM delivery failed: retrying');
    expect(String(line?.error)).toContain(
      `(policy DAILY); HubSpot's daily limit resets at midnight Asia/Tokyo, ${new Date(midnight).toISOString().slice(0, 19)}`,
    );

    // another customer's event waits too: the whole destination is paused, not only Dee's event
    await publishAcked(client, topic('kiosk-1'), { ts: ts + 1, mid: 'e-1', action: 'tap', customer: 'eve@example.com' });
    await client.endAsync();
    await eventually(
      async () => (await destination(gw))?.pending,
      (n) => n === 2,
      'Eve’s event in the outbox',
    );
    expect(hubspot.attempts).toHaveLength(1);
    expect(hubspot.occurrences).toEqual([]);
  });

  it('erases a customer with HubSpot’s GDPR contact deletion: the contact and its events are gone', async () => {
    const { gw, hubspot } = await setUp();
    const ts = Date.now() - 60_000;
    await grantCrm(gw, 'fay@example.com', ts - 60_000);
    const client = await connectClient(gw.mqttUrl, { clientId: 'hubspot-erase' });
    await publishAcked(client, topic('feedback-1'), { ts, mid: 'f-1', action: 'feedback', value: 4, customer: 'fay@example.com' });
    await client.endAsync();
    await eventually(
      () => hubspot.occurrences.length,
      (n) => n === 1,
      'Fay’s feedback in HubSpot',
    );
    expect(hubspot.contacts.has('email:fay@example.com')).toBe(true);

    const res = await gw.api(`/api/v1/customers/${encodeURIComponent('fay@example.com')}`, { method: 'DELETE' });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { notified: string[] }).notified).toEqual(['hubspot']);
    await eventually(
      () => hubspot.gdprDeletes,
      (list) => list.length === 1,
      'the GDPR deletion at HubSpot',
    );
    expect(hubspot.gdprDeletes).toEqual([{ objectId: 'fay@example.com', idProperty: 'email' }]);
    expect(hubspot.contacts.has('email:fay@example.com')).toBe(false);
    expect(hubspot.occurrences).toEqual([]);
    await eventually(
      async () => (await destination(gw))?.pending,
      (n) => n === 0,
      'the erasure notice settled',
    );
    expect(await metricValue(gw.httpUrl, 'storeloop_crm_events_total', { destination: 'hubspot', outcome: 'delivered' })).toBe(2);
  });

  it('tells the privacy officer that HubSpot cannot be told when customers are known by tracking cookie, and keeps no notice naming them', async () => {
    const { gw, hubspot } = await setUp({ identifyBy: 'utk' });
    const ts = Date.now() - 60_000;
    const utk = 'c0ffee00c0ffee00c0ffee00c0ffee00';
    await grantCrm(gw, utk, ts - 60_000);
    const client = await connectClient(gw.mqttUrl, { clientId: 'hubspot-utk' });
    await publishAcked(client, topic('kiosk-1'), { ts, mid: 'u-1', action: 'tap', customer: utk });
    await client.endAsync();
    await eventually(
      () => hubspot.occurrences,
      (list) => list.length === 1,
      'the tap in HubSpot under the cookie',
    );
    expect(hubspot.occurrences[0]?.contact).toBe(`utk:${utk}`);

    const res = await gw.api(`/api/v1/customers/${utk}`, { method: 'DELETE' });
    expect(res.status).toBe(200);
    const erased = (await res.json()) as { notified: string[]; notNotified: Array<{ destination: string; reason: string }> };
    expect(erased.notified).toEqual([]);
    expect(erased.notNotified).toEqual([{ destination: 'hubspot', reason: expect.stringContaining('delete the contact in HubSpot by hand') }]);
    expect(await destination(gw)).toMatchObject({ pending: 0, deadLetters: 0 });
    expect(hubspot.attempts.filter((a) => a.path.includes('gdpr-delete'))).toEqual([]);
    // no notice waits with the cookie in it: no file of the state dir names the customer
    const files = await readdir(gw.config.state.dir, { recursive: true, withFileTypes: true });
    const named: string[] = [];
    for (const f of files.filter((e) => e.isFile())) if ((await readFile(join(f.parentPath, f.name))).includes(utk)) named.push(f.name);
    expect(named).toEqual([]);
  });
});
