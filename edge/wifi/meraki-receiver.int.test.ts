import { readFileSync } from 'node:fs';
import { Writable } from 'node:stream';

import Fastify from 'fastify';
import { describe, expect, it, onTestFinished } from 'vitest';

import { createLogger } from '../../lib/logger.js';
import { BleMessageSchema, PseudonymSchema, WifiMessageSchema } from '../../protocol/index.js';
import { findLeaks, macSpellings } from '../pseudonymise/leak-scan.js';
import { createPseudonymiser } from '../pseudonymise/pseudonymiser.js';
import type { SourcePayload } from '../types.js';
import { apSensorMap } from './meraki-mapping.js';
import { createMerakiReceiver, type MerakiReceiver, type MerakiReceiverOptions } from './meraki-receiver.js';

const SAMPLES = '/work/shared/samples';
const WIFI_TEXT = readFileSync(`${SAMPLES}/meraki-scanning-v3.json`, 'utf8');
const BLE_TEXT = readFileSync(`${SAMPLES}/meraki-scanning-v3-bluetooth.json`, 'utf8');
const wifiSample = () => JSON.parse(WIFI_TEXT) as WifiSample;
const bleSample = () => JSON.parse(BLE_TEXT) as Record<string, unknown>;
const SECRET = 'example-shared-secret-7f3a'; // the samples' secret
const VALIDATOR = '91473298742319492749273285409845';

interface WifiSample {
  secret: string;
  version: string;
  type: string;
  data: { observations: Array<{ clientMac: string; latestRecord: { time: string; nearestApRssi: number }; [key: string]: unknown }> };
}

/** Every personal or network value in the samples, as found by key, in every MAC spelling. */
function sampleNeedles(): string[] {
  const needles = new Set<string>();
  const walk = (value: unknown, key?: string): void => {
    if (Array.isArray(value)) value.forEach((v) => walk(v, key));
    else if (typeof value === 'object' && value !== null) for (const [k, v] of Object.entries(value)) walk(v, k);
    else if (typeof value === 'string' && key !== undefined) {
      if (['clientMac', 'apMac', 'nearestApMac', 'mac'].includes(key)) macSpellings(value).forEach((s) => needles.add(s));
      if (['ipv4', 'ipv6', 'userId', 'ssid', 'secret', 'rawData'].includes(key)) needles.add(value);
    }
  };
  walk(JSON.parse(WIFI_TEXT));
  walk(JSON.parse(BLE_TEXT));
  return [...needles];
}

interface Harness {
  receiver: MerakiReceiver;
  url: string;
  emitted: SourcePayload[];
  transcript: string[];
  logs: () => string;
}

const pseudonymiser = createPseudonymiser({ mode: 'daily', secret: 'retailer-secret-for-tests-0123456789', timezone: 'Europe/London' });

async function startReceiver(overrides: Partial<MerakiReceiverOptions> = {}): Promise<Harness> {
  const chunks: string[] = [];
  const sink = new Writable({ write: (chunk, _enc, done) => (chunks.push(String(chunk)), done()) });
  const log = createLogger('debug', sink);
  const receiver = createMerakiReceiver({
    validator: VALIDATOR,
    secret: SECRET,
    defaultSourceId: 'wifi-meraki',
    listen: { host: '127.0.0.1', port: 0 },
    pseudonymiser,
    log,
    ...overrides,
  });
  const emitted: SourcePayload[] = [];
  await receiver.start((message) => emitted.push(message));
  onTestFinished(() => receiver.stop());
  const address = receiver.address();
  if (address === undefined) throw new Error('receiver did not report its address');
  return { receiver, url: `http://127.0.0.1:${address.port}/meraki`, emitted, transcript: [], logs: () => chunks.join('') };
}

async function post(h: Harness, body: unknown, raw?: string): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(h.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: raw ?? JSON.stringify(body) });
  const text = await res.text();
  h.transcript.push(`${res.status} ${res.headers.get('content-type') ?? ''} ${text}`);
  return { status: res.status, json: JSON.parse(text) as Record<string, unknown> };
}

function withMid<T extends { payload: object }>(p: T, i: number) {
  return { ...p.payload, mid: `agent-1-${i}` };
}

describe('validator handshake', () => {
  it('answers GET with the bare validator string as text/plain', async () => {
    const h = await startReceiver();
    const res = await fetch(h.url);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(await res.text()).toBe(VALIDATOR);
    expect(h.receiver.stats().validatorRequests).toBe(1);
  });
});

describe('shared secret', () => {
  it('refuses a wrong secret with 403 and ingests nothing', async () => {
    const h = await startReceiver();
    const { status, json } = await post(h, { ...wifiSample(), secret: 'not-the-secret' });
    expect(status).toBe(403);
    expect(json).toMatchObject({ code: 'SL_ERR_MERAKI_SECRET_MISMATCH', error: 'the shared secret does not match' });
    expect(h.emitted).toEqual([]);
    expect(h.receiver.stats().refused.secret_mismatch).toBe(1);
    expect(h.receiver.health()).toMatchObject({ state: 'degraded' });
    expect(h.receiver.health().detail).toContain('shared secret does not match');
  });

  it('refuses a missing secret with 401, before looking at the rest of the body', async () => {
    const h = await startReceiver();
    const { secret: _secret, ...body } = wifiSample();
    const { status, json } = await post(h, { ...body, version: 'garbage' });
    expect(status).toBe(401);
    expect(json.code).toBe('SL_ERR_MERAKI_SECRET_MISSING');
    expect(h.emitted).toEqual([]);
    expect(h.receiver.stats().refused.secret_missing).toBe(1);
  });

  it('refuses a secret that only shares a prefix', async () => {
    const h = await startReceiver();
    expect((await post(h, { ...wifiSample(), secret: SECRET.slice(0, -1) })).status).toBe(403);
    expect((await post(h, { ...wifiSample(), secret: `${SECRET}x` })).status).toBe(403);
    expect(h.receiver.stats().refused.secret_mismatch).toBe(2);
  });
});

describe('WiFi POST', () => {
  it('turns the sample into wifi observations with hashed ids, flags and times of its own', async () => {
    const h = await startReceiver();
    const sample = wifiSample();
    const { status, json } = await post(h, sample);
    expect(status).toBe(202);
    expect(json).toEqual({ accepted: 4, dropped: 0 });

    const observations = h.emitted.flatMap((m) =>
      m.kind === 'wifi' ? m.payload.observations.map((o) => ({ ...o, ts: m.payload.ts, sourceId: m.sourceId })) : [],
    );
    expect(observations).toHaveLength(sample.data.observations.length);
    const expected = sample.data.observations.map((o) => {
      const ts = Date.parse(o.latestRecord.time);
      return {
        id: pseudonymiser.pseudonymise('wifi-mac', o.clientMac, ts),
        rssi: o.latestRecord.nearestApRssi,
        randomized: o.clientMac.startsWith('da:'),
        ts,
        sourceId: 'wifi-meraki',
      };
    });
    expect(observations).toEqual(expect.arrayContaining(expected));
    // only da:00:5e:00:53:7c is locally administered (meraki-scanning.md)
    expect(observations.filter((o) => o.randomized)).toHaveLength(1);
    expect(new Set(observations.map((o) => o.id)).size).toBe(4);
    // one payload per distinct latestRecord time, oldest first
    expect(h.emitted.map((m) => m.payload.ts)).toEqual(['14:00:33', '14:00:41', '14:00:50', '14:00:52'].map((t) => Date.parse(`2024-06-07T${t}Z`)));
    h.emitted.forEach((m, i) => {
      expect(m.kind).toBe('wifi');
      expect(WifiMessageSchema.safeParse(withMid(m, i)).success).toBe(true);
    });
    for (const o of observations) expect(PseudonymSchema.safeParse(o.id).success).toBe(true);
    expect(h.receiver.health()).toMatchObject({ state: 'ok', lastItemAt: expect.any(Number) });
  });

  it('routes observations to sensors by nearest AP and falls back to the default', async () => {
    const h = await startReceiver({ sensorForAp: apSensorMap({ '00-00-5E-00-53-01': 'wifi-entrance', '00:00:5e:00:53:03': 'wifi-checkout' }) });
    await post(h, wifiSample());
    const bySource = new Map<string, number>();
    for (const m of h.emitted) if (m.kind === 'wifi') bySource.set(m.sourceId, (bySource.get(m.sourceId) ?? 0) + m.payload.observations.length);
    // nearest APs in the sample: :01 (obs 1 and 4), :03 (obs 2), :02 (obs 3, not mapped)
    expect(Object.fromEntries(bySource)).toEqual({ 'wifi-entrance': 2, 'wifi-checkout': 1, 'wifi-meraki': 1 });
  });

  it('accepts the doc example spellings: string RSSI and coordinates, no latestRecord, version 3.1', async () => {
    const h = await startReceiver();
    const sample = wifiSample() as unknown as { version: string; data: { observations: Array<Record<string, unknown>> } };
    sample.version = '3.1';
    const [first, second] = sample.data.observations;
    if (first === undefined || second === undefined) throw new Error('sample has observations');
    first.latestRecord = { time: '2024-06-07T14:00:41Z', nearestApMac: '00:00:5e:00:53:01', nearestApRssi: '-47' };
    delete second.latestRecord; // falls back to its newest location: 14:00:12, strongest record -49 at :03
    const { status } = await post(h, sample);
    expect(status).toBe(202);
    const all = h.emitted.flatMap((m) =>
      m.kind === 'wifi' ? m.payload.observations.map((o) => ({ rssi: o.rssi, ts: m.payload.ts, randomized: o.randomized })) : [],
    );
    expect(all).toContainEqual({ rssi: -47, ts: Date.parse('2024-06-07T14:00:41Z'), randomized: false });
    expect(all).toContainEqual({ rssi: -49, ts: Date.parse('2024-06-07T14:00:12Z'), randomized: true });
  });

  it('drops and counts an observation with nothing to report, keeping the others', async () => {
    const h = await startReceiver();
    const sample = wifiSample() as unknown as { data: { observations: Array<Record<string, unknown>> } };
    const last = sample.data.observations[3];
    if (last === undefined) throw new Error('sample has 4 observations');
    delete last.latestRecord; // and its locations[] is empty
    const { status, json } = await post(h, sample);
    expect(status).toBe(202);
    expect(json).toEqual({ accepted: 3, dropped: 1 });
    expect(h.receiver.stats().dropped.no_record).toBe(1);
  });
});

describe('Bluetooth POST', () => {
  it('is ignored by default, counted per observation', async () => {
    const h = await startReceiver();
    const { status, json } = await post(h, bleSample());
    expect(status).toBe(202);
    expect(json).toEqual({ accepted: 0, dropped: 2 });
    expect(h.emitted).toEqual([]);
    expect(h.receiver.stats().dropped.bluetooth_ignored).toBe(2);
  });

  it('maps the iBeacon tag to the same id as the BLE source, and pseudonymises other devices as dev:', async () => {
    const h = await startReceiver({ bluetooth: 'beacons-and-devices', defaultBleSourceId: 'ble-meraki' });
    expect((await post(h, bleSample())).status).toBe(202);
    expect(h.emitted).toEqual([
      {
        kind: 'ble',
        sourceId: 'ble-meraki',
        payload: {
          ts: Date.parse('2024-06-07T14:00:44Z'),
          sightings: [{ id: `dev:${pseudonymiser.pseudonymise('ble-address', 'c0:00:5e:00:53:f1', Date.parse('2024-06-07T14:00:44Z'))}`, rssi: -90 }],
        },
      },
      // vector ibeacon-entrance of ble-frames.json
      {
        kind: 'ble',
        sourceId: 'ble-meraki',
        payload: { ts: Date.parse('2024-06-07T14:00:58Z'), sightings: [{ id: 'ibeacon:28e13894-a2ad-49b3-9d03-95c43b5bba7c:4660:22136', rssi: -63, tx: -59 }] },
      },
    ]);
    h.emitted.forEach((m, i) => expect(BleMessageSchema.safeParse(withMid(m, i)).success).toBe(true));
  });

  it('keeps only beacons under the beacons policy, routes by AP serial, and takes type "BLE" as the docs spell it', async () => {
    const h = await startReceiver({ bluetooth: 'beacons', defaultBleSourceId: 'ble-meraki', sensorForAp: apSensorMap({ 'Q000-0000-0001': 'ble-entrance' }) });
    const { status, json } = await post(h, { ...bleSample(), type: 'BLE' });
    expect(status).toBe(202);
    expect(json).toEqual({ accepted: 1, dropped: 1 });
    expect(h.emitted.map((m) => [m.kind, m.sourceId])).toEqual([['ble', 'ble-entrance']]);
    expect(h.receiver.stats().dropped.ble_not_beacon).toBe(1);
  });
});

describe('bad bodies', () => {
  it('answer 400 with the zod path', async () => {
    const h = await startReceiver();
    const sample = wifiSample();
    const first = sample.data.observations[0];
    if (first === undefined) throw new Error('sample has observations');
    first.clientMac = 'not-a-mac';
    const { status, json } = await post(h, sample);
    expect(status).toBe(400);
    expect(json).toMatchObject({ code: 'SL_ERR_MERAKI_BODY_INVALID', issues: [{ path: 'data.observations.0.clientMac', message: 'expected a MAC address' }] });
    expect(h.emitted).toEqual([]);
  });

  it('answer 400 for another major version and an unknown type, naming the root fields', async () => {
    const h = await startReceiver();
    const v2 = await post(h, { ...wifiSample(), version: '2.0' });
    expect(v2.status).toBe(400);
    expect(v2.json.issues).toEqual([{ path: 'version', message: 'expected Scanning API version 3.x' }]);
    const other = await post(h, { ...wifiSample(), type: 'Zigbee' });
    expect(other.status).toBe(400);
    expect((other.json.issues as Array<{ path: string }>).map((i) => i.path)).toEqual(['type']);
    expect(h.receiver.stats().refused.body_invalid).toBe(2);
  });

  it('answer 400 for invalid JSON without quoting it back', async () => {
    const h = await startReceiver();
    const { status, json } = await post(h, undefined, '{"secret":"example-shared-secret-7f3a","clientMac":"00:00:5e:00:53:41",');
    expect(status).toBe(400);
    expect(json).toEqual({ error: 'the body is not valid JSON', code: 'FST_ERR_CTP_INVALID_JSON_BODY' });
    expect(h.receiver.stats().refused.body_invalid).toBe(1);
  });
});

describe('privacy', () => {
  it('no raw MAC, IP, user id, SSID or secret of the samples reaches payloads, logs or responses', async () => {
    const h = await startReceiver({ bluetooth: 'beacons-and-devices', defaultBleSourceId: 'ble-meraki' });
    await fetch(h.url);
    await post(h, wifiSample());
    await post(h, bleSample());
    await post(h, { ...wifiSample(), secret: 'wrong-secret-value' });
    const broken = wifiSample();
    const obs = broken.data.observations[1];
    if (obs === undefined) throw new Error('sample has observations');
    obs.latestRecord.time = 'yesterday';
    await post(h, broken);
    await post(h, undefined, WIFI_TEXT.slice(0, 700));
    await h.receiver.stop();

    expect(h.emitted.length).toBeGreaterThan(0);
    expect(h.transcript).toHaveLength(5);
    expect(h.logs()).toContain('Meraki POST accepted');
    const everything = [
      JSON.stringify(h.emitted),
      h.logs(),
      h.transcript.join('\n'),
      JSON.stringify(h.receiver.stats()),
      JSON.stringify(h.receiver.health()),
    ].join('\n');
    const needles = sampleNeedles();
    expect(needles).toEqual(
      expect.arrayContaining(['alex@example.com', '192.0.2.41', '2001:db8:10::41', '00:00:5e:00:53:41', '00005e005341', 'StoreGuest', SECRET]),
    );
    expect(findLeaks(everything, needles)).toEqual([]);
    // control: the scan does catch a leak, even in another spelling and case
    expect(findLeaks(`${everything} 00-00-5E-00-53-41`, needles)).toEqual(['00-00-5e-00-53-41']);
  });
});

describe('lifecycle', () => {
  it('mounts as a plugin in another fastify server when listen is false', async () => {
    const receiver = createMerakiReceiver({
      validator: VALIDATOR,
      secret: SECRET,
      defaultSourceId: 'wifi-meraki',
      listen: false,
      path: '/hooks/meraki',
      pseudonymiser,
      log: createLogger('silent'),
    });
    const emitted: SourcePayload[] = [];
    await receiver.start((m) => emitted.push(m));
    const app = Fastify();
    await app.register(receiver.plugin);
    await app.listen({ host: '127.0.0.1', port: 0 });
    onTestFinished(() => app.close());
    const address = app.server.address();
    const base = `http://127.0.0.1:${typeof address === 'object' && address !== null ? address.port : 0}/hooks/meraki`;
    expect(await (await fetch(base)).text()).toBe(VALIDATOR);
    const res = await fetch(base, { method: 'POST', headers: { 'content-type': 'application/json' }, body: WIFI_TEXT });
    expect(res.status).toBe(202);
    expect(emitted).toHaveLength(4);
  });

  it('rejects start with SL_ERR_MERAKI_LISTEN when the port is taken', async () => {
    const h = await startReceiver();
    const port = h.receiver.address()?.port ?? 0;
    const second = createMerakiReceiver({
      validator: VALIDATOR,
      secret: SECRET,
      defaultSourceId: 'wifi-meraki',
      listen: { host: '127.0.0.1', port },
      pseudonymiser,
      log: createLogger('silent'),
    });
    await expect(second.start(() => undefined)).rejects.toMatchObject({ code: 'SL_ERR_MERAKI_LISTEN', context: { port } });
  });

  it('reports degraded when Meraki has not posted for staleAfterMs', async () => {
    let clock = Date.parse('2024-06-07T14:00:00Z');
    const h = await startReceiver({ now: () => clock, staleAfterMs: 5 * 60_000 });
    expect(h.receiver.health().state).toBe('ok');
    clock += 6 * 60_000;
    expect(h.receiver.health()).toMatchObject({ state: 'degraded', detail: expect.stringContaining('no POST from Meraki for 6 min') });
    await post(h, wifiSample());
    expect(h.receiver.health().state).toBe('ok');
  });

  it('refuses settings that cannot work', () => {
    const log = createLogger('silent');
    const base = { validator: VALIDATOR, secret: SECRET, defaultSourceId: 'wifi-meraki', pseudonymiser, log };
    expect(() =>
      createMerakiReceiver({ ...base, pseudonymiser: createPseudonymiser({ mode: 'consented', secret: 'retailer-secret-for-tests-0123456789' }) }),
    ).toThrow(expect.objectContaining({ code: 'SL_ERR_MERAKI_CONFIG' }));
    expect(() => createMerakiReceiver({ ...base, bluetooth: 'beacons' })).toThrow(/defaultBleSourceId/);
    expect(() => createMerakiReceiver({ ...base, defaultSourceId: '00-00-5e-00-53-41' })).toThrow(/defaultSourceId: a source id must not be a MAC address/);
    expect(() => createMerakiReceiver({ ...base, validator: '' })).toThrow(/validator/);
  });
});
