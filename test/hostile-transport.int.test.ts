/**
 * Hostile clients on real sockets against a real gateway: random bytes on the MQTT TCP port and on the
 * WebSocket, a connection flood, a subscriber that never reads, and hostile payloads over MQTT. Each
 * time the gateway closes or refuses what it must, stays up, counts it, and an honest device still
 * gets its PUBACK.
 */
import { once } from 'node:events';
import { connect, type Socket } from 'node:net';

import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import WebSocket from 'ws';

import { encodeConnect } from '../devtools/mqtt-wire.js';
import { metricValue, startTestGateway, type TestGateway } from './helpers/gateway.js';
import { startInfluxd, type TestInfluxd } from './helpers/influxd.js';
import { eventually } from './helpers/lifecycle.js';

const LIMITS = {
  connectTimeoutMs: 1_000,
  packetTimeoutMs: 1_000,
  maxConnections: 200,
  maxConnectionsPerAddress: 20,
  maxQueuedPerSession: 50,
  // the slow-reader test publishes 64 MB as fast as it can
  maxMessagesPerSecondPerClient: 100_000,
  maxBytesPerSecondPerClient: 256 * 1024 * 1024,
};
const TOPIC = 'storeloop/demo-store/touchpoint/kiosk-1';

let influxd: TestInfluxd;
let gw: TestGateway;

beforeAll(async () => {
  influxd = await startInfluxd();
  gw = await startTestGateway({ influxUrl: influxd.url, config: { mqtt: { maxPayloadBytes: 8_192, limits: LIMITS } } });
});

afterAll(async () => {
  await gw?.stop();
  await influxd?.stop();
});

/** Every MQTT.js client of this file comes from here (credentials go here once the broker asks for them). */
async function connectMqtt(clientId: string, options: IClientOptions = {}): Promise<MqttClient> {
  const client = mqtt.connect(gw.mqttUrl, { clientId, reconnectPeriod: 0, connectTimeout: 5_000, ...options });
  onTestFinished(() => client.endAsync(true));
  await new Promise<void>((resolve, reject) => {
    client.once('connect', () => resolve());
    client.once('error', reject);
  });
  return client;
}

/** Every HTTP call of this file comes from here (a bearer token goes here once the API asks for one). */
async function api<T>(path: string): Promise<T> {
  const response = await gw.api(path);
  expect(response.status, path).toBe(200);
  return (await response.json()) as T;
}

function tap(mid: string): string {
  return JSON.stringify({ v: 1, ts: Date.now(), mid, action: 'tap' });
}

/** An honest device connects and gets its PUBACK: the gateway is up and serving. */
async function honestDevicePublishes(): Promise<void> {
  const client = await connectMqtt(`kiosk-honest-${Math.random().toString(36).slice(2, 8)}`);
  await client.publishAsync(TOPIC, tap(`honest-${Date.now()}`), { qos: 1 });
  await client.endAsync();
}

function mqttAddress(): { host: string; port: number } {
  const url = new URL(gw.mqttUrl);
  return { host: url.hostname, port: Number(url.port) };
}

/** A seeded PRNG (mulberry32): the same buffers on every run, so a failure can be replayed. */
function seededBytes(seed: number, length: number): Buffer {
  let state = seed >>> 0;
  const bytes = Buffer.alloc(length);
  for (let i = 0; i < length; i++) {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    bytes[i] = ((t ^ (t >>> 14)) >>> 0) & 0xff;
  }
  return bytes;
}

const SEEDS = [1, 2, 3, 42, 1_337, 65_535, 0xdeadbeef, 20_240_229];
const LENGTHS = [1, 7, 64, 300, 1_500, 4_096, 16_384, 65_536];

/** Resolves once the server closed the socket; fails after `withinMs`. */
async function closedByServer(socket: Socket, withinMs: number): Promise<void> {
  socket.resume();
  if (socket.destroyed) return;
  await Promise.race([
    once(socket, 'close'),
    new Promise((_, reject) => setTimeout(() => reject(new Error(`the gateway did not close the connection within ${withinMs} ms`)), withinMs).unref()),
  ]);
}

describe('random bytes', () => {
  it('closes a TCP connection that sends random bytes, for every seed, and serves an honest device afterwards', async () => {
    for (const [i, seed] of SEEDS.entries()) {
      const socket = connect(mqttAddress());
      socket.on('error', () => undefined); // a reset is one of the answers under test
      await once(socket, 'connect');
      socket.write(seededBytes(seed, LENGTHS[i] as number));
      // at the latest the packet or CONNECT timeout closes what the parser did not refuse at once
      await closedByServer(socket, LIMITS.packetTimeoutMs + 3_000);
    }
    await honestDevicePublishes();
  });

  it('closes a WebSocket that sends random bytes, for every seed, and serves an honest device afterwards', async () => {
    for (const [i, seed] of SEEDS.entries()) {
      const ws = new WebSocket(gw.wsUrl, 'mqtt');
      ws.on('error', () => undefined);
      await once(ws, 'open');
      const closed = once(ws, 'close');
      ws.send(seededBytes(seed, Math.min(LENGTHS[i] as number, 8_000)));
      await Promise.race([closed, new Promise((_, reject) => setTimeout(() => reject(new Error(`seed ${seed}: the WebSocket stayed open`)), 5_000).unref())]);
    }
    await honestDevicePublishes();
  });
});

describe('connection flood', () => {
  it('refuses and counts a flood of 300 connections from one address, while a device on another address is served', async () => {
    const openBefore = await metricValue(gw.httpUrl, 'storeloop_mqtt_open_connections');
    const before = await metricValue(gw.httpUrl, 'storeloop_mqtt_refused_total', { reason: 'too_many_connections_from_address' });
    const { host, port } = mqttAddress();
    const flood: Socket[] = [];
    onTestFinished(() => {
      for (const socket of flood) socket.destroy();
    });
    // the flood comes from 127.0.0.2, the honest device from 127.0.0.1: two addresses of the loopback
    const opened = Array.from({ length: 300 }, () => {
      const socket = connect({ host, port, localAddress: '127.0.0.2' });
      socket.on('error', () => undefined);
      flood.push(socket);
      return once(socket, 'connect').catch(() => undefined);
    });
    await Promise.all(opened);
    const refused = await eventually(
      async () => (await metricValue(gw.httpUrl, 'storeloop_mqtt_refused_total', { reason: 'too_many_connections_from_address' })) - before,
      (n) => n >= 300 - LIMITS.maxConnectionsPerAddress,
      'the flood to be refused',
      10_000,
    );
    expect(refused).toBeLessThanOrEqual(300);
    expect(await metricValue(gw.httpUrl, 'storeloop_mqtt_open_connections')).toBeLessThanOrEqual(openBefore + LIMITS.maxConnectionsPerAddress);
    await honestDevicePublishes();
  });
});

describe('slow reader', () => {
  it('keeps serving an honest publisher (PUBACKs) and an honest subscriber beside one that never reads, with the RSS under 400 MB', async () => {
    // the slow reader: CONNECT and SUBSCRIBE (QoS 1) on a raw socket, then it never reads again
    const slow = connect(mqttAddress());
    slow.on('error', () => undefined);
    onTestFinished(() => {
      slow.destroy();
    });
    await once(slow, 'connect');
    slow.write(encodeConnect({ clientId: 'slow-reader', keepaliveSeconds: 0, login: gw.operator }));
    const topic = Buffer.from(TOPIC);
    const subscribe = Buffer.concat([Buffer.from([0x82, 2 + 2 + topic.length + 1, 0, 1, 0, topic.length]), topic, Buffer.from([1])]);
    slow.write(subscribe);
    await once(slow, 'data'); // CONNACK (and SUBACK): subscribed
    slow.pause();

    const publisher = await connectMqtt('kiosk-busy');
    const watcher = await connectMqtt('watcher-honest');
    let lastSeen = '';
    watcher.on('message', (_t, payload) => (lastSeen = (JSON.parse(payload.toString()) as { mid: string }).mid));
    await watcher.subscribeAsync(TOPIC, { qos: 0 });
    const rss: number[] = [process.memoryUsage().rss];
    // 64 MB towards a subscriber that reads none of it: more than the loopback's socket buffers take in
    // (tcp_rmem up to 32 MB here), so the rest would sit in the gateway's memory if nothing bounded it
    const padding = ' '.repeat(7_900);
    for (let round = 0; round < 20; round++) {
      await Promise.all(Array.from({ length: 400 }, (_, i) => publisher.publishAsync(TOPIC, `${tap(`busy-${round}-${i}`)}${padding}`, { qos: 1 })));
      rss.push(process.memoryUsage().rss);
      // an honest subscriber that reads gets every round, the slow reader beside it notwithstanding
      await eventually(
        () => lastSeen,
        (mid) => mid === `busy-${round}-399`,
        `the honest subscriber to get round ${round}`,
        10_000,
      );
    }
    // what bounds it today is aedes itself (it waits for 'drain' and ends a connection that does not drain
    // within its drainTimeout, 60 s), not a limit of ours: the issue's bound for the gateway under attack
    // is an RSS under 400 MB, and the gateway runs in this process
    expect(Math.max(...rss)).toBeLessThan(400 * 1024 * 1024);
    await honestDevicePublishes();
  });
});

describe('hostile payloads over MQTT', () => {
  interface Rejections {
    rejections: Array<{ reason: string; detail: string; topic: string; clientId: string | null }>;
  }

  it('rejects __proto__ keys and invalid UTF-8, answers them with PUBACK, and shows them in /api/v1/rejections', async () => {
    const device = await connectMqtt('kiosk-hostile');
    const ts = Date.now();
    await device.publishAsync(TOPIC, `{"v":1,"ts":${ts},"action":"tap","__proto__":{"polluted":true}}`, { qos: 1 });
    await device.publishAsync(TOPIC, Buffer.concat([Buffer.from(`{"v":1,"ts":${ts},"action":"tap","label":"caf`), Buffer.from([0xc3]), Buffer.from('"}')]), {
      qos: 1,
    });
    const { rejections } = await api<Rejections>('/api/v1/rejections?limit=10');
    const mine = rejections.filter((r) => r.clientId === 'kiosk-hostile');
    expect(mine.map((r) => [r.reason, r.detail])).toEqual([
      ['json_invalid', 'the payload is not valid UTF-8 (JSON text is UTF-8, RFC 8259 §8.1)'],
      ['schema_invalid', expect.stringMatching(/^a '__proto__' key/)],
    ]);
    await honestDevicePublishes();
  });
});
