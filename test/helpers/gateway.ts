/**
 * Starts a real gateway in-process on free loopback ports (MQTT TCP, WebSocket, HTTP) against a given
 * InfluxDB, with its log captured in memory so tests can read what an installer would see. Each gets an
 * `admin` API token in its state dir; `gw.api(path)` and the helpers below send it.
 */
import { execFileSync } from 'node:child_process';
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
import { testBuild } from './test-build.js';

export interface TestGateway {
  gateway: Gateway;
  /** An API token with the `admin` scope, made in the gateway's token store at start. */
  apiToken: string;
  /** fetch() of a path of the gateway's HTTP API with the admin token. */
  api(path: string, init?: RequestInit): Promise<Response>;
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
    // tests poll the API far faster than any client should: the rate limit is tested on its own
    http: { rateLimitPerMinute: 1_000_000, ...((raw.http as object | undefined) ?? {}), host: '127.0.0.1', port: 0 },
    influx: {
      url: options.influxUrl,
      api: 'v1',
      database,
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
    // the pages as the run's build bundled them
    webAssetsDir: testBuild().web,
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
  const issued = gateway.mqttIdentities.issue({ name: 'test-operator', role: 'operator', stores: '*' });
  const operator: MqttLogin = { username: issued.identity.name, password: issued.secret ?? '' };
  const apiToken = gateway.apiTokens.add({ name: `test-admin-${randomBytes(3).toString('hex')}`, scopes: ['admin'] }).token;
  API_TOKENS.set(urls.http, apiToken);
  let stopped: Promise<void> | undefined;
  return {
    gateway,
    apiToken,
    api: (path, init) => apiFetch(urls.http, path, init),
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

/** The admin token of each gateway this process started, by its HTTP URL (for helpers that take only the URL). */
const API_TOKENS = new Map<string, string>();

/** Registers the API token of a gateway started another way (a process), so the helpers below send it. */
export function useApiToken(httpUrl: string, token: string): void {
  API_TOKENS.set(httpUrl, token);
}

/** fetch() of `path` on the gateway at `httpUrl`, with the admin token it was started with. */
export function apiFetch(httpUrl: string, path: string, init: RequestInit = {}): Promise<Response> {
  const token = API_TOKENS.get(httpUrl);
  if (token === undefined) throw new Error(`no API token known for the gateway at ${httpUrl} (startTestGateway or useApiToken)`);
  const headers = new Headers(init.headers);
  headers.set('authorization', `Bearer ${token}`);
  return fetch(`${httpUrl}${path}`, { ...init, headers });
}

/**
 * Connects an MQTT.js client and waits for CONNACK: fails after `connectTimeout` (MQTT.js's 'connack timeout'), or at
 * once when the gateway closes the connection first (MQTT.js then stops its CONNACK timer and reports no error).
 */
export async function connectClient(url: string, options: IClientOptions = {}): Promise<MqttClient> {
  const client = mqtt.connect(url, { reconnectPeriod: 0, connectTimeout: 5000, ...options });
  await new Promise<void>((resolve, reject) => {
    client.once('connect', () => resolve());
    client.once('error', reject);
    if (client.options.reconnectPeriod === 0) {
      client.once('close', () => reject(new Error(`MQTT client ${client.options.clientId}: the connection closed before CONNACK`)));
    }
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

/** A PUBACK that has not come by then will not come: the gateway refused the publish or dropped the connection (a test failure, not a hang). */
export const PUBACK_TIMEOUT_MS = 20_000;

/**
 * Publishes `count` messages at QoS 1 with at most `window` of them unacknowledged; resolves with how many were
 * acknowledged, and fails naming the message whose PUBACK did not come within PUBACK_TIMEOUT_MS (MQTT.js's
 * publishAsync never settles when the connection drops without a reconnect).
 */
export async function publishMany(
  client: MqttClient,
  count: number,
  window: number,
  message: (i: number) => { topic: string; payload: string | object },
): Promise<number> {
  let next = 0;
  let acked = 0;
  const worker = async () => {
    while (next < count) {
      const i = next++;
      const { topic, payload } = message(i);
      let timer: NodeJS.Timeout | undefined;
      const unacknowledged = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () =>
            reject(
              new Error(
                `${client.options.clientId}: publish ${i} of ${count} to ${topic} was not acknowledged within ${PUBACK_TIMEOUT_MS} ms ` +
                  `(${client.connected ? 'still connected' : 'disconnected'}; ${acked} acknowledged so far; the gateway refused it or dropped the connection: see its log and ledger)`,
              ),
            ),
          PUBACK_TIMEOUT_MS,
        );
      });
      try {
        await Promise.race([client.publishAsync(topic, typeof payload === 'string' ? payload : JSON.stringify(payload), { qos: 1 }), unacknowledged]);
      } finally {
        clearTimeout(timer);
      }
      acked += 1;
    }
  };
  await Promise.all(Array.from({ length: Math.min(window, count) }, worker));
  return acked;
}

const METRICS_TIMEOUT_MS = 10_000;

/** Reads a counter or gauge value from the Prometheus text at /metrics (sum over matching labels). */
export async function metricValue(httpUrl: string, name: string, labels: Record<string, string> = {}): Promise<number> {
  // a gateway that takes the request and never answers fails the caller here, not at the test's timeout
  const text = await apiFetch(httpUrl, '/metrics', { signal: AbortSignal.timeout(METRICS_TIMEOUT_MS) })
    .then((response) => response.text())
    .catch((err: Error) => {
      throw err.name === 'TimeoutError' ? new Error(`GET ${httpUrl}/metrics (for ${name}) did not answer within ${METRICS_TIMEOUT_MS} ms`) : err;
    });
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
    async () => (await (await apiFetch(httpUrl, '/api/v1/sinks')).json()) as { sinks: Array<{ name: string; lag: { records: number } }> },
    (body) => body.sinks.every((s) => s.lag.records === 0),
    'every sink to catch up with the event log',
    timeoutMs,
  );
}

/** `storeloop tokens …ARGS` of the run's build on a gateway's state dir, as an operator runs it beside the gateway; its stdout. */
export function tokensCli(gw: Pick<TestGateway, 'config'>, args: string[]): string {
  return execFileSync(process.execPath, [testBuild().bin, 'tokens', ...args], {
    env: { ...process.env, STORELOOP_STATE_DIR: gw.config.state.dir },
    encoding: 'utf8',
  });
}

/** The token a `storeloop tokens add` printed. */
export function tokenPrinted(output: string): string {
  const token = /^ {2}(sl_\S+)$/m.exec(output)?.[1];
  if (token === undefined) throw new Error(`no token in: ${output}`);
  return token;
}
