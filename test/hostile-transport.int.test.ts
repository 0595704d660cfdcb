/**
 * Hostile clients on real sockets against a real gateway: random bytes on the MQTT TCP port and on the
 * WebSocket, a connection flood, a subscriber that never reads, and hostile payloads over MQTT. Each
 * time the gateway closes or refuses what it must, stays up, counts it, and an honest device still
 * gets its PUBACK.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { connect, type Socket } from 'node:net';

import type { IClientOptions, MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import WebSocket from 'ws';

import { connectClient, metricValue, publishMany, startTestGateway, type TestGateway } from './helpers/gateway.js';
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
  const client = await connectClient(gw.mqttUrl, { clientId, reconnectPeriod: 0, connectTimeout: 5_000, ...options });
  onTestFinished(() => client.endAsync(true));
  return client;
}

/** Every HTTP call of this file comes from here (a bearer token goes here once the API asks for one). */
async function api<T>(path: string): Promise<T> {
  const response = await gw.api(path);
  expect(response.status, path).toBe(200);
  return (await response.json()) as T;
}

const BLE_TOPIC = 'storeloop/demo-store/ble/ble-entrance';

/** A BLE message of 85 sightings (about 7.5 kB), under this gateway's 8 kB payload limit. */
function bleBatch(mid: string): string {
  const sightings = Array.from({ length: 85 }, (_, i) => ({ id: `ibeacon:f7826da6-4fa2-4e98-8024-bc5b71e0893e:100:${i}`, rssi: -60 - (i % 30) }));
  return JSON.stringify({ v: 1, ts: Date.now(), mid, sightings });
}

function tap(mid: string): string {
  return JSON.stringify({ v: 1, ts: Date.now(), mid, action: 'tap' });
}

/** An honest device connects and gets its PUBACK: the gateway is up and serving. */
async function honestDevicePublishes(): Promise<void> {
  const client = await connectMqtt(`kiosk-honest-${Math.random().toString(36).slice(2, 8)}`);
  await publishMany(client, 1, 1, () => ({ topic: TOPIC, payload: tap(`honest-${Date.now()}`) }));
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
  it('disconnects a subscriber that stops reading, and keeps serving an honest publisher and subscriber beside it, with the RSS under 400 MB', async () => {
    const slowBefore = await metricValue(gw.httpUrl, 'storeloop_mqtt_refused_total', { reason: 'slow_subscriber' });
    // two real subscribers, each in its own process (not this one, where the gateway runs): an honest one that
    // prints one short line per message (its payload length), and the slow reader, frozen (SIGSTOP) once subscribed
    const { hostname, port } = new URL(gw.mqttAddress);
    const subscriber = (clientId: string, extra: string[]) => {
      const child = spawn(
        'mosquitto_sub',
        ['-h', hostname, '-p', port, '-u', gw.operator.username, '-P', gw.operator.password, '-i', clientId, '-q', '1', '-t', BLE_TOPIC, ...extra],
        { stdio: ['ignore', 'pipe', 'pipe'] },
      );
      let stderr = '';
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      child.on('error', (err) => (stderr += String(err)));
      onTestFinished(() => {
        child.kill('SIGKILL');
      });
      /** Throws when this mosquitto_sub is gone: a wait on its messages would only time out. */
      const alive = () => {
        if (child.exitCode !== null || child.signalCode !== null) {
          throw new Error(`mosquitto_sub ${clientId} exited (${child.exitCode ?? child.signalCode}): ${stderr.trim() || 'nothing on stderr'}`);
        }
      };
      return { child, alive };
    };
    const honest = subscriber('watcher-honest', ['-F', '%l']);
    let received = 0;
    honest.child.stdout.on('data', (chunk: Buffer) => (received += chunk.toString().split('\n').length - 1));
    const slow = subscriber('slow-reader', []);
    let slowGot = 0;
    slow.child.stdout.once('data', () => (slowGot = 1));
    const publisher = await connectMqtt('kiosk-busy');
    // both subscribed once a message reached both; each probe fails on its own after PUBACK_TIMEOUT_MS
    let probes = 0;
    await eventually(
      async () => {
        honest.alive();
        slow.alive();
        await publishMany(publisher, 1, 1, () => ({ topic: BLE_TOPIC, payload: bleBatch(`probe-${probes++}`) }));
        return { probes, 'watcher-honest': received, 'slow-reader': slowGot };
      },
      (got) => got['watcher-honest'] > 0 && got['slow-reader'] > 0,
      'both mosquitto_sub to print a probe (probes sent, lines watcher-honest printed, 1 once slow-reader printed)',
      15_000,
    );
    slow.child.kill('SIGSTOP');

    const rss: number[] = [process.memoryUsage().rss];
    // subscribers get the validated message as the gateway logged it, so the volume is in its items: about 7.5 kB of
    // sightings a message, 7.5 MB in all, more than the socket buffers take for a receiver that reads nothing
    for (let round = 0; round < 10; round++) {
      const before = received;
      // all 100 in flight at once; each fails the test naming it when its PUBACK does not come
      await publishMany(publisher, 100, 100, (i) => ({ topic: BLE_TOPIC, payload: bleBatch(`busy-${round}-${i}`) }));
      rss.push(process.memoryUsage().rss);
      // the honest subscriber gets every message of the round, the slow reader beside it notwithstanding
      await eventually(
        () => {
          honest.alive();
          return received - before;
        },
        (n) => n >= 100,
        `mosquitto_sub watcher-honest to get the 100 messages of round ${round} (messages it got)`,
        10_000,
      );
    }
    // aedes answers a publish once every subscriber's socket took it: a socket that stops draining holds up the
    // publishers until mqtt.limits.subscriberDrainTimeoutMs (1 s), then the gateway closes that subscriber
    await eventually(
      () => metricValue(gw.httpUrl, 'storeloop_mqtt_refused_total', { reason: 'slow_subscriber' }),
      (n) => n === slowBefore + 1,
      'the slow reader disconnected',
      10_000,
    );
    // the bound for the gateway under attack; the gateway runs in this process
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
