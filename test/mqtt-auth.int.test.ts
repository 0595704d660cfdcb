/**
 * Identities and topic ACLs on real sockets: every probe of the security issue that needed no
 * limit but an identity, against a gateway with two stores. Each now fails to do harm, is counted,
 * and is visible to the installer; honest clients of the same identities keep working.
 */
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';

import { MqttIdentityStore } from '../gateway/auth/mqtt-identities.js';
import { secretKeyPath } from '../gateway/auth/secrets.js';
import { metricValue, publishAcked, sinksCaughtUp, startTestGateway, type TestGateway } from './helpers/gateway.js';
import { startInfluxd, type TestInfluxd } from './helpers/influxd.js';
import { eventually } from './helpers/lifecycle.js';
import type { MqttLogin } from './helpers/mqtt-identity.js';

const store = (id: string) => ({
  id,
  zones: [{ id: 'floor', kind: 'aisle' }],
  sensors: [{ id: `ble-${id}`, type: 'ble', zone: 'floor' }],
  touchpoints: [{ id: `kiosk-${id}`, type: 'kiosk', zone: 'floor' }],
  devices: [{ id: `counter-${id}`, type: 'people_counter', zone: 'floor' }],
  agents: [{ id: `edge-${id}` }],
});
const STORES = [store('a'), store('b')];

let influxd: TestInfluxd;
let gw: TestGateway;
let kioskA: MqttLogin;
let kioskB: MqttLogin;
let agentA: MqttLogin;
let operatorA: MqttLogin;

beforeAll(async () => {
  influxd = await startInfluxd();
  gw = await startTestGateway({ influxUrl: influxd.url, config: { stores: STORES } });
  kioskA = gw.addIdentity({ role: 'device', stores: ['a'], source: 'kiosk-a' });
  kioskB = gw.addIdentity({ role: 'device', stores: ['b'], source: 'kiosk-b' });
  agentA = gw.addIdentity({ role: 'agent', stores: ['a'], source: 'edge-a', forwards: ['ble-a', 'kiosk-a'] });
  operatorA = gw.addIdentity({ name: 'operator-a', role: 'operator', stores: ['a'] });
});

afterAll(async () => {
  await gw?.stop();
  await influxd?.stop();
});

/** Connects as `login` (or with no credentials) and waits for the CONNACK; rejects with the broker's refusal. */
async function connectAs(login: MqttLogin | null, options: IClientOptions & { url?: string } = {}): Promise<MqttClient> {
  const { url = gw.mqttAddress, ...rest } = options;
  const client = mqtt.connect(url, { reconnectPeriod: 0, connectTimeout: 5000, ...(login ?? {}), ...rest });
  onTestFinished(() => client.endAsync(true));
  await new Promise<void>((resolve, reject) => {
    client.once('connect', () => resolve());
    client.once('error', reject);
  });
  return client;
}

/** The CONNACK return code of a refused CONNECT. */
async function refusedWith(login: MqttLogin | null, options: IClientOptions & { url?: string } = {}): Promise<number> {
  const outcome = await connectAs(login, options).then(
    () => 0,
    (err: { code?: number }) => err.code ?? -1,
  );
  return outcome;
}

/** Resolves when the connection closes (the broker closed it). */
function closeOf(client: MqttClient): Promise<void> {
  return new Promise((resolve) => client.once('close', () => resolve()));
}

async function subscribeCodes(client: MqttClient, filters: string[]): Promise<number[]> {
  return client.subscribeAsync(filters, { qos: 1 }).then(
    (granted) => granted.map((g) => g.qos),
    (err: { packet?: { granted?: number[] } }) => err.packet?.granted ?? Promise.reject(err as Error),
  );
}

const counter = (n: number) => ({ v: 1, ts: Date.now(), event: { type: 'people_count', in: n, out: 0 } });

describe('MQTT authentication', () => {
  it('refuses a client without credentials over TCP and WebSocket, a wrong secret and an unknown name, and counts each', async () => {
    const noCredentials = await metricValue(gw.httpUrl, 'storeloop_mqtt_refused_total', { reason: 'no_credentials' });
    const badCredentials = await metricValue(gw.httpUrl, 'storeloop_mqtt_refused_total', { reason: 'bad_credentials' });
    expect(await refusedWith(null)).toBe(5);
    expect(await refusedWith(null, { url: gw.wsAddress })).toBe(5);
    expect(await refusedWith({ username: kioskA.username, password: 'not-the-secret' })).toBe(4);
    expect(await refusedWith({ username: kioskA.username, password: '' })).toBe(4);
    expect(await refusedWith({ username: 'nobody', password: kioskA.password })).toBe(4);
    expect(await refusedWith({ username: kioskB.username, password: kioskA.password })).toBe(4);
    expect(await metricValue(gw.httpUrl, 'storeloop_mqtt_refused_total', { reason: 'no_credentials' })).toBe(noCredentials + 2);
    expect(await metricValue(gw.httpUrl, 'storeloop_mqtt_refused_total', { reason: 'bad_credentials' })).toBe(badCredentials + 4);
    // the right secret, over both transports
    await connectAs(kioskA);
    await connectAs(kioskA, { url: gw.wsAddress });
  });

  it('keeps the secrets out of the identity store and out of the log', async () => {
    const listed = gw.gateway.mqttIdentities.list();
    expect(JSON.stringify(listed)).not.toContain(kioskA.password);
    expect(listed.find((i) => i.name === kioskA.username)?.secretHash).toMatch(/^hmac-sha256:/);
    expect(JSON.stringify(gw.logs())).not.toContain(kioskA.password);
  });

  it('closes the connections of an identity revoked by another process at once, and refuses it afterwards', async () => {
    const login = gw.addIdentity({ role: 'device', stores: ['a'], source: 'counter-a', name: 'counter-a-revoked' });
    const client = await connectAs(login);
    const closed = closeOf(client);
    // what `storeloop credentials revoke` does: its own connection to the gateway's identity database
    const cli = new MqttIdentityStore(`${gw.config.state.dir}/mqtt-identities.sqlite`, secretKeyPath(gw.config.state));
    cli.open();
    try {
      cli.revoke(login.username);
    } finally {
      cli.close();
    }
    await closed;
    expect(await refusedWith(login)).toBe(4);
  });

  it('lets an installer add a device through the API (operator token), and closes its connections the moment it is revoked there', async () => {
    const made = await gw.api('/api/v1/mqtt/identities', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ role: 'device', stores: ['b'], source: 'ble-b' }),
    });
    expect(made.status).toBe(201);
    const login = (await made.json()) as MqttLogin;
    const client = await connectAs(login);
    const closed = closeOf(client);
    expect((await gw.api(`/api/v1/mqtt/identities/${encodeURIComponent(login.username)}`, { method: 'DELETE' })).status).toBe(200);
    await closed;
    expect(await refusedWith(login)).toBe(4);
  });

  it('closes the connections made with a rotated secret; the new secret works, the old one no longer', async () => {
    const login = gw.addIdentity({ role: 'device', stores: ['b'], source: 'counter-b', name: 'counter-b-rotated' });
    const client = await connectAs(login);
    const closed = closeOf(client);
    const { secret } = gw.gateway.mqttIdentities.rotate(login.username);
    await closed;
    expect(await refusedWith(login)).toBe(4);
    await connectAs({ username: login.username, password: secret });
  });
});

describe('MQTT topic ACLs', () => {
  it("refuses store A's kiosk publishing as store B's counter: acknowledged, never logged, visible with its reason", async () => {
    const denied = await metricValue(gw.httpUrl, 'storeloop_mqtt_denied_total', { action: 'publish', reason: 'other_store' });
    const client = await connectAs(kioskA, { clientId: 'kiosk-a-forger' });
    await publishAcked(client, 'storeloop/b/device/counter-b', counter(99_999));
    await publishAcked(client, 'storeloop/a/device/counter-a', counter(88_888)); // its own store, not its own source
    await publishAcked(client, 'storeloop/a/touchpoint/kiosk-a', { v: 1, ts: Date.now(), action: 'tap' }); // its own topic
    expect(await metricValue(gw.httpUrl, 'storeloop_mqtt_denied_total', { action: 'publish', reason: 'other_store' })).toBe(denied + 1);
    const rejections = gw.gateway.rejections.list(5).filter((r) => r.clientId === 'kiosk-a-forger');
    expect(rejections.map((r) => [r.topic, r.reason])).toEqual([
      ['storeloop/a/device/counter-a', 'not_authorized'],
      ['storeloop/b/device/counter-b', 'not_authorized'],
    ]);
    expect(rejections[0]?.detail).toContain(`identity '${kioskA.username}' (device)`);
    await sinksCaughtUp(gw.httpUrl);
    const counts = await influxd.query(gw.database, 'SELECT "in" FROM people_count');
    expect(counts.flatMap((s) => s.values)).toEqual([]);
    const taps = await influxd.query(gw.database, `SELECT "count" FROM interaction WHERE "touchpoint"='kiosk-a'`);
    expect(taps.flatMap((s) => s.values)).toHaveLength(1);
  });

  it('lets no device or publisher subscribe, over TCP or WebSocket, and keeps an operator inside its store', async () => {
    const filters = ['#', 'storeloop/#', '$SYS/#', 'storeloop/a/#', 'storeloop/a/touchpoint/kiosk-a'];
    const denied = await metricValue(gw.httpUrl, 'storeloop_mqtt_denied_total', { action: 'subscribe' });
    const device = await connectAs(kioskA);
    expect(await subscribeCodes(device, filters)).toEqual([128, 128, 128, 128, 128]);
    const overWs = await connectAs(kioskA, { url: gw.wsAddress });
    expect(await subscribeCodes(overWs, filters)).toEqual([128, 128, 128, 128, 128]);
    expect(device.connected && overWs.connected).toBe(true);
    const operator = await connectAs(operatorA);
    expect(await subscribeCodes(operator, ['storeloop/a/#', 'storeloop/b/#', 'storeloop/+/device/#', '#'])).toEqual([1, 128, 128, 128]);
    // 8 by the devices (the $SYS ones count as reserved topics), 3 by the operator
    expect(await metricValue(gw.httpUrl, 'storeloop_mqtt_denied_total', { action: 'subscribe' })).toBe(denied + 11);
  });

  it("lets only an operator publish an agent's config, and the agent read only its own config topic", async () => {
    const agent = await connectAs(agentA, { clientId: 'edge-a' });
    expect(await subscribeCodes(agent, ['storeloop/a/config/edge-a', 'storeloop/b/config/edge-b', 'storeloop/a/config/+'])).toEqual([1, 128, 128]);
    const received: string[] = [];
    agent.on('message', (_topic, payload) => received.push(payload.toString()));

    const kiosk = await connectAs(kioskA);
    await publishAcked(kiosk, 'storeloop/a/config/edge-a', { queue: { maxAgeSeconds: 60 } }, { retain: true });
    const forger = await connectAs(agentA, { clientId: 'edge-a-self' }); // an agent may not configure itself either
    await publishAcked(forger, 'storeloop/a/config/edge-a', { queue: { maxAgeSeconds: 61 } }, { retain: true });
    const operator = await connectAs(operatorA);
    await publishAcked(operator, 'storeloop/b/config/edge-b', { queue: { maxAgeSeconds: 62 } }, { retain: true });
    await publishAcked(operator, 'storeloop/a/config/edge-a', { queue: { maxAgeSeconds: 3600 } }, { retain: true });
    await eventually(
      () => received,
      (r) => r.length > 0,
      "the operator's config at the agent",
    );
    expect(received.map((r) => JSON.parse(r) as unknown)).toEqual([{ queue: { maxAgeSeconds: 3600 } }]);
    // what stays retained is the operator's
    const late = await connectAs(agentA, { clientId: 'edge-a-late' });
    const retained = new Promise<string>((resolve) => late.once('message', (_t, p) => resolve(p.toString())));
    await late.subscribeAsync('storeloop/a/config/edge-a', { qos: 1 });
    expect(JSON.parse(await retained)).toEqual({ queue: { maxAgeSeconds: 3600 } });
    expect(gw.gateway.rejections.list(10).filter((r) => r.reason === 'not_authorized' && r.topic.includes('/config/'))).toHaveLength(3);
  });

  it('lets a client id be taken over by the same identity only, also when it holds a persistent session', async () => {
    const taken = await metricValue(gw.httpUrl, 'storeloop_mqtt_refused_total', { reason: 'client_id_taken' });
    const first = await connectAs(kioskA, { clientId: 'kiosk-a-main' });
    expect(await refusedWith(kioskB, { clientId: 'kiosk-a-main' })).toBe(2);
    expect(first.connected).toBe(true);
    // the same identity reconnecting takes its client id back, as MQTT says
    const closed = closeOf(first);
    await connectAs(kioskA, { clientId: 'kiosk-a-main' });
    await closed;

    const session = await connectAs(agentA, { clientId: 'edge-a-session', clean: false });
    await session.subscribeAsync('storeloop/a/config/edge-a', { qos: 1 });
    await session.endAsync();
    expect(await refusedWith(operatorA, { clientId: 'edge-a-session', clean: true })).toBe(2);
    const back = await connectAs(agentA, { clientId: 'edge-a-session', clean: false });
    expect(back.connected).toBe(true);
    expect(await metricValue(gw.httpUrl, 'storeloop_mqtt_refused_total', { reason: 'client_id_taken' })).toBe(taken + 2);
  });

  it("applies the ACL to a last will: a device's will on another store's topic is refused when it fires, its own is logged", async () => {
    const will = (topic: string) => ({ topic, payload: Buffer.from(JSON.stringify({ v: 1, state: 'offline' })), qos: 1 as const, retain: false });
    const forged = await connectAs(kioskA, { clientId: 'kiosk-a-will-forged', will: will('storeloop/b/status/kiosk-b') });
    const honest = await connectAs(kioskA, { clientId: 'kiosk-a-will-own', will: will('storeloop/a/status/kiosk-a') });
    const accepted = () => metricValue(gw.httpUrl, 'storeloop_messages_accepted_total', { store: 'a', kind: 'status' });
    const before = await accepted();
    forged.stream.destroy(); // gone without DISCONNECT: the broker publishes the will
    honest.stream.destroy();
    await eventually(
      () => gw.gateway.rejections.list(10).filter((r) => r.clientId === 'kiosk-a-will-forged'),
      (r) => r.length === 1,
      'the forged will refused',
    );
    expect(gw.gateway.rejections.list(10).find((r) => r.clientId === 'kiosk-a-will-forged')).toMatchObject({
      topic: 'storeloop/b/status/kiosk-b',
      reason: 'not_authorized',
    });
    await eventually(accepted, (n) => n === before + 1, 'the own will logged');
  });

  it("keeps one identity from making another's message a duplicate by sending its mid first", async () => {
    const duplicates = () => metricValue(gw.httpUrl, 'storeloop_messages_duplicate_total', { store: 'a', kind: 'touchpoint' });
    const before = await duplicates();
    const ts = Date.now();
    // the agent forwards for kiosk-a, so it may publish on its topic; it sends the kiosk's next mid first
    const agent = await connectAs(agentA, { clientId: 'edge-a-poisoner' });
    await publishAcked(agent, 'storeloop/a/touchpoint/kiosk-a', { v: 1, ts, mid: 'kiosk-a-next', action: 'tap', label: 'forged' });
    const kiosk = await connectAs(kioskA, { clientId: 'kiosk-a-honest' });
    await publishAcked(kiosk, 'storeloop/a/touchpoint/kiosk-a', { v: 1, ts, mid: 'kiosk-a-next', action: 'tap', label: 'real' });
    expect(await duplicates()).toBe(before);
    // a resend by the same identity is still a duplicate
    await publishAcked(kiosk, 'storeloop/a/touchpoint/kiosk-a', { v: 1, ts, mid: 'kiosk-a-next', action: 'tap', label: 'real' });
    expect(await duplicates()).toBe(before + 1);
    await sinksCaughtUp(gw.httpUrl);
    const labels = await influxd.query(gw.database, `SELECT "label" FROM interaction WHERE "touchpoint"='kiosk-a' AND "label"='real'`);
    expect(labels.flatMap((s) => s.values)).toHaveLength(1);
  });
});

describe('MQTT connection caps per store and per identity', () => {
  it('refuses an identity its connection beyond maxConnectionsPerIdentity; a reconnect under the same client id still gets in', async () => {
    const own = await startTestGateway({ influxUrl: influxd.url, config: { stores: STORES, mqtt: { limits: { maxConnectionsPerIdentity: 2 } } } });
    onTestFinished(() => own.stop());
    const ops = own.addIdentity({ name: 'ops', role: 'operator', stores: '*' });
    await connectAs(ops, { url: own.mqttAddress, clientId: 'ops-1' });
    await connectAs(ops, { url: own.mqttAddress, clientId: 'ops-2' });
    expect(await refusedWith(ops, { url: own.mqttAddress, clientId: 'ops-3' })).toBe(3);
    await connectAs(ops, { url: own.mqttAddress, clientId: 'ops-2' }); // takes its own place back
    expect(await metricValue(own.httpUrl, 'storeloop_mqtt_refused_total', { reason: 'too_many_connections_for_identity' })).toBe(1);
  });

  it('refuses a store its next device beyond maxConnectionsPerStore, while other stores connect', async () => {
    const own = await startTestGateway({ influxUrl: influxd.url, config: { stores: STORES, mqtt: { limits: { maxConnectionsPerStore: 2 } } } });
    onTestFinished(() => own.stop());
    const a1 = own.addIdentity({ role: 'device', stores: ['a'], source: 'kiosk-a' });
    const a2 = own.addIdentity({ role: 'device', stores: ['a'], source: 'counter-a' });
    const a3 = own.addIdentity({ role: 'agent', stores: ['a'], source: 'edge-a' });
    const b1 = own.addIdentity({ role: 'device', stores: ['b'], source: 'kiosk-b' });
    await connectAs(a1, { url: own.mqttAddress });
    await connectAs(a2, { url: own.mqttAddress });
    expect(await refusedWith(a3, { url: own.mqttAddress })).toBe(3);
    await connectAs(b1, { url: own.mqttAddress });
    expect(await metricValue(own.httpUrl, 'storeloop_mqtt_refused_total', { reason: 'too_many_connections_for_store' })).toBe(1);
  });
});

describe('anonymous access', () => {
  it('when turned on, lets anonymous clients publish data but never config, and subscribe to nothing', async () => {
    const own = await startTestGateway({ influxUrl: influxd.url, config: { stores: STORES, mqtt: { auth: { anonymous: true } } } });
    onTestFinished(() => own.stop());
    const anonymous = await connectAs(null, { url: own.mqttAddress, clientId: 'anonymous-1' });
    await publishAcked(anonymous, 'storeloop/a/device/counter-a', counter(1));
    await publishAcked(anonymous, 'storeloop/a/config/edge-a', { queue: { maxAgeSeconds: 60 } });
    expect(await subscribeCodes(anonymous, ['storeloop/#'])).toEqual([128]);
    expect(own.gateway.rejections.list(5).map((r) => r.reason)).toEqual(['not_authorized']);
    expect(await metricValue(own.httpUrl, 'storeloop_messages_accepted_total', { store: 'a', kind: 'device' })).toBe(1);
  });
});
