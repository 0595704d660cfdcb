/**
 * Starts a real gateway in-process on free loopback ports (MQTT TCP, WebSocket, HTTP) against a given
 * InfluxDB, with its log captured in memory so tests can read what an installer would see.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';

import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';

import { parseConfig, type Config } from '../../config/index.js';
import { eventually } from './lifecycle.js';
import { Gateway, type GatewayOptions } from '../../gateway/gateway.js';
import { createLogger } from '../../lib/logger.js';
import type { NewIdentity } from '../../gateway/auth/mqtt-identities.js';
import { urlWithLogin, type MqttLogin } from './mqtt-identity.js';

export interface TestGateway {
  gateway: Gateway;
  config: Config;
  database: string;
  /** MQTT over TCP, logged in as the test operator (every store; publish and subscribe). */
  mqttUrl: string;
  /** MQTT over WebSocket, logged in as the test operator. */
  wsUrl: string;
  /** The MQTT and WebSocket addresses without a login (for identities of their own, or none). */
  mqttAddress: string;
  wsAddress: string;
  /** The test operator's login. */
  operator: MqttLogin;
  /** Adds an MQTT identity (as `storeloop credentials add` does) and returns its login. */
  addIdentity(spec: NewIdentity): MqttLogin;
  httpUrl: string;
  /** Log lines (parsed JSON) written so far. */
  logs(): Array<Record<string, unknown>>;
  stop(): Promise<void>;
}

export async function startTestGateway(options: {
  influxUrl: string;
  config?: Record<string, unknown>;
  database?: string;
  extraSinks?: GatewayOptions['extraSinks'];
  sessionClock?: GatewayOptions['sessionClock'];
}): Promise<TestGateway> {
  const database = options.database ?? `t_${randomBytes(4).toString('hex')}`;
  const raw = options.config ?? {};
  // a state dir of its own (broker state, spool), removed at stop, unless the test brings one to reuse
  const ownStateDir = raw.state === undefined ? await mkdtemp(join(tmpdir(), 'storeloop-state-')) : undefined;
  const config = parseConfig({
    ...raw,
    ...(ownStateDir === undefined ? {} : { state: { dir: ownStateDir } }),
    mqtt: { host: '127.0.0.1', port: 0, wsPort: 0, ...((raw.mqtt as object | undefined) ?? {}) },
    http: { host: '127.0.0.1', port: 0 },
    influx: {
      url: options.influxUrl,
      api: 'v1',
      database,
      flushIntervalMs: 20,
      maxRetryDelayMs: 200,
      maxRetries: 2,
      timeoutMs: 3000,
      ...((raw.influx as object | undefined) ?? {}),
    },
    log: { level: 'debug' },
  });
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      cb();
    },
  });
  const gateway = new Gateway(config, {
    log: createLogger('debug', sink),
    metrics: undefined,
    extraSinks: options.extraSinks,
    ...(options.sessionClock === undefined ? {} : { sessionClock: options.sessionClock }),
  });
  try {
    await gateway.start();
  } catch (err) {
    if (ownStateDir !== undefined) await rm(ownStateDir, { recursive: true, force: true });
    throw err;
  }
  const urls = gateway.urls();
  const addIdentity = (spec: NewIdentity): MqttLogin => {
    const { identity, secret } = gateway.mqttIdentities.add(spec);
    return { username: identity.name, password: secret ?? '' };
  };
  // a state dir brought back from an earlier run already has the operator: it gets a new secret
  const operator: MqttLogin =
    gateway.mqttIdentities.get('test-operator')?.revokedAt === null
      ? { username: 'test-operator', password: gateway.mqttIdentities.rotate('test-operator').secret }
      : addIdentity({ name: 'test-operator', role: 'operator', stores: '*' });
  let stopped: Promise<void> | undefined;
  return {
    gateway,
    config,
    database,
    mqttUrl: urlWithLogin(urls.mqtt, operator),
    wsUrl: urls.ws === null ? '' : urlWithLogin(urls.ws, operator),
    mqttAddress: urls.mqtt,
    wsAddress: urls.ws ?? '',
    operator,
    addIdentity,
    httpUrl: urls.http,
    logs: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>),
    stop: () => (stopped ??= gateway.stop().finally(() => (ownStateDir === undefined ? undefined : rm(ownStateDir, { recursive: true, force: true })))),
  };
}

/** Connects an MQTT.js client and waits for CONNACK. */
export async function connectClient(url: string, options: IClientOptions = {}): Promise<MqttClient> {
  const client = mqtt.connect(url, { reconnectPeriod: 0, connectTimeout: 5000, ...options });
  await new Promise<void>((resolve, reject) => {
    client.once('connect', () => resolve());
    client.once('error', reject);
  });
  return client;
}

/** Publishes at QoS 1 and resolves on PUBACK. */
export async function publishAcked(
  client: MqttClient,
  topic: string,
  payload: string | object,
  options: { qos?: 0 | 1; retain?: boolean } = {},
): Promise<void> {
  const body = typeof payload === 'string' ? payload : JSON.stringify(payload);
  await client.publishAsync(topic, body, { qos: options.qos ?? 1, retain: options.retain ?? false });
}

/** Reads a counter or gauge value from the Prometheus text at /metrics (sum over matching labels). */
export async function metricValue(httpUrl: string, name: string, labels: Record<string, string> = {}): Promise<number> {
  const text = await (await fetch(`${httpUrl}/metrics`)).text();
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    const ok = Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`));
    if (ok) sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}

/**
 * Waits until every sink has settled everything the event log holds: after a PUBACK (the message is in
 * the log), the InfluxDB sink writes it at its own pace.
 */
export async function sinksCaughtUp(httpUrl: string, timeoutMs = 30_000): Promise<void> {
  await eventually(
    async () => (await (await fetch(`${httpUrl}/api/v1/sinks`)).json()) as { sinks: Array<{ name: string; lag: { records: number } }> },
    (body) => body.sinks.every((s) => s.lag.records === 0),
    'every sink to catch up with the event log',
    timeoutMs,
  );
}
