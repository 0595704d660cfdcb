/**
 * Broker state across restarts: a persistent session (clean = false), the QoS 1 messages queued for it
 * while it was away, and retained statuses survive a gateway stop and a SIGKILL of the gateway process,
 * with the state in `<state.dir>/broker.sqlite`. Real gateways, real influxd, real MQTT clients.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import mqtt, { type IConnackPacket, type IPublishPacket, type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';

import { freePort } from '../devtools/free-port.js';
import { connectClient, publishAcked, startTestGateway } from './helpers/gateway.js';
import { provisionIdentity, urlWithLogin } from './helpers/mqtt-identity.js';
import { startInfluxd, type TestInfluxd } from './helpers/influxd.js';
import { testBuild } from './helpers/test-build.js';

const STATUS_FILTER = 'storeloop/demo-store/status/+';
const EDGE_STATUS = 'storeloop/demo-store/status/edge-1';
const KIOSK_STATUS = 'storeloop/demo-store/status/kiosk-1';
const SESSION_ID = 'crm-sync';

interface Received {
  topic: string;
  payload: Record<string, unknown>;
  qos: number;
  retain: boolean;
}

/** Resolves with the first `count` messages the client receives (listening from now on). */
function nextMessages(client: MqttClient, count: number): Promise<Received[]> {
  const received: Received[] = [];
  return new Promise((resolve) => {
    const onMessage = (topic: string, payload: Buffer, packet: IPublishPacket) => {
      received.push({ topic, payload: JSON.parse(payload.toString()) as Record<string, unknown>, qos: packet.qos, retain: packet.retain });
      if (received.length === count) {
        client.off('message', onMessage);
        resolve(received);
      }
    };
    client.on('message', onMessage);
  });
}

async function tempDir(prefix: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  onTestFinished(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/**
 * The session subscribes (QoS 1) and goes away; then edge-1 publishes its retained `online` status and
 * kiosk-1 a plain one, both QoS 1. Returns once the broker has queued both for the absent session: a
 * live watcher receiving them proves it, since aedes stores retained and queues offline deliveries
 * before it forwards a publish (aedes.js publishFuncsQoS), although it writes the PUBACK before both.
 */
async function leaveStatusesForAbsentSession(mqttUrl: string, sentAt: number): Promise<void> {
  const session = await connectClient(mqttUrl, { clientId: SESSION_ID, clean: false });
  const granted = await session.subscribeAsync(STATUS_FILTER, { qos: 1 });
  expect(granted.map((g) => g.qos)).toEqual([1]);
  await session.endAsync();

  const watcher = await connectClient(mqttUrl, { clientId: 'watcher' });
  await watcher.subscribeAsync(STATUS_FILTER, { qos: 1 });
  const forwarded = nextMessages(watcher, 2);
  const agent = await connectClient(mqttUrl, { clientId: 'edge-1' });
  const kiosk = await connectClient(mqttUrl, { clientId: 'kiosk-1' });
  await publishAcked(agent, EDGE_STATUS, { ts: sentAt, state: 'online', version: '1' }, { qos: 1, retain: true });
  await publishAcked(kiosk, KIOSK_STATUS, { ts: sentAt, state: 'degraded', detail: 'printer jam' }, { qos: 1 });
  expect((await forwarded).map((m) => m.topic).sort()).toEqual([EDGE_STATUS, KIOSK_STATUS]);
  await Promise.all([watcher.endAsync(), agent.endAsync(), kiosk.endAsync()]);
}

/** The session comes back on the restarted broker: session present, the queued statuses, the retained one. */
async function expectSessionRestored(mqttUrl: string, sentAt: number): Promise<void> {
  // queued messages follow the CONNACK at once: listen before connecting
  const session = mqtt.connect(mqttUrl, { clientId: SESSION_ID, clean: false, reconnectPeriod: 0, connectTimeout: 5000 });
  onTestFinished(() => session.endAsync());
  const queued = nextMessages(session, 2);
  const connack = await new Promise<IConnackPacket>((resolve, reject) => {
    session.once('connect', resolve);
    session.once('error', reject);
  });
  expect(connack.sessionPresent, 'the broker still knows the session and its subscription').toBe(true);
  // not compared: the RETAIN flag of a queued copy. aedes 1.2 delivers it as published (retain = 1 for
  // edge-1) with its own in-memory persistence too, although [MQTT-3.3.1-9] asks for 0
  const delivered = (await queued).map(({ topic, payload, qos }) => ({ topic, payload, qos })).sort((a, b) => a.topic.localeCompare(b.topic));
  expect(delivered).toEqual([
    { topic: EDGE_STATUS, payload: expect.objectContaining({ ts: sentAt, state: 'online', version: '1' }), qos: 1 },
    { topic: KIOSK_STATUS, payload: expect.objectContaining({ ts: sentAt, state: 'degraded' }), qos: 1 },
  ]);

  // a client that was never there subscribes and gets the retained status
  const dashboard = await connectClient(mqttUrl, { clientId: 'dashboard' });
  onTestFinished(() => dashboard.endAsync());
  const retained = nextMessages(dashboard, 1);
  await dashboard.subscribeAsync(EDGE_STATUS, { qos: 1 });
  expect(await retained).toEqual([
    { topic: EDGE_STATUS, payload: expect.objectContaining({ ts: sentAt, state: 'online', version: '1' }), qos: 1, retain: true },
  ]);
}

describe('broker state across restarts', () => {
  let influxd: TestInfluxd;

  beforeAll(async () => {
    influxd = await startInfluxd();
  });
  afterAll(async () => {
    await influxd?.stop();
  });

  it('restores a persistent session, its queued QoS 1 messages and the retained status after a stop and start on the same state dir', async () => {
    const stateDir = await tempDir('storeloop-restart-');
    const sentAt = Date.now();

    const first = await startTestGateway({ influxUrl: influxd.url, config: { state: { dir: stateDir } } });
    onTestFinished(() => first.stop());
    await leaveStatusesForAbsentSession(first.mqttUrl, sentAt);
    await first.stop();

    const second = await startTestGateway({ influxUrl: influxd.url, config: { state: { dir: stateDir } } });
    onTestFinished(() => second.stop());
    expect(second.logs().find((l) => l.msg === 'broker state restored')).toMatchObject({ sessions: 1, retained: 1, queued: 2 });
    await expectSessionRestored(second.mqttUrl, sentAt);
  });

  it('keeps the session, queue and retained status of a gateway process killed with SIGKILL', async () => {
    const stateDir = await tempDir('storeloop-crash-');
    const sentAt = Date.now();
    const ports = { mqtt: await freePort(), http: await freePort() };
    const operator = provisionIdentity({ dir: stateDir }, { name: 'crash-operator', role: 'operator', stores: '*' });
    const child: ChildProcess = spawn(process.execPath, [testBuild().cliMain, 'gateway'], {
      env: {
        ...process.env,
        STORELOOP_STATE_DIR: stateDir,
        STORELOOP_MQTT_HOST: '127.0.0.1',
        STORELOOP_MQTT_PORT: String(ports.mqtt),
        STORELOOP_WS_PORT: 'off',
        STORELOOP_HTTP_HOST: '127.0.0.1',
        STORELOOP_HTTP_PORT: String(ports.http),
        STORELOOP_INFLUX_URL: influxd.url,
        STORELOOP_INFLUX_API: 'v1',
        STORELOOP_INFLUX_DATABASE: 'crash',
        STORELOOP_LOG_LEVEL: 'warn',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    onTestFinished(() => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    });
    let output = '';
    child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
    const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;

    let ready = false;
    for (let i = 0; i < 200 && !ready && child.exitCode === null; i++) {
      ready = await fetch(`http://127.0.0.1:${ports.http}/readyz`).then(
        (r) => r.status === 200,
        () => false,
      );
      if (!ready) await new Promise((r) => setTimeout(r, 50));
    }
    expect(ready, output).toBe(true);

    await leaveStatusesForAbsentSession(urlWithLogin(`mqtt://127.0.0.1:${ports.mqtt}`, operator), sentAt);
    child.kill('SIGKILL'); // no shutdown code runs: the state file is left as the crash left it
    expect((await exited)[1]).toBe('SIGKILL');

    const restarted = await startTestGateway({ influxUrl: influxd.url, config: { state: { dir: stateDir } } });
    onTestFinished(() => restarted.stop());
    // the session is the crash-operator's: only that identity may take its client id back
    await expectSessionRestored(urlWithLogin(restarted.mqttAddress, operator), sentAt);
  });
});
