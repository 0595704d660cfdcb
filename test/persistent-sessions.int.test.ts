/**
 * Persistent sessions (clean = false), capped and expiring, on a real gateway with real MQTT.js
 * clients: a new session beyond mqtt.limits.maxPersistentSessions is refused with CONNACK 3 while a
 * kept one comes back; a session whose client was away longer than sessionExpirySeconds loses its
 * subscriptions and queue, one inside the window keeps them; the clock survives a restart (sqlite).
 * Time is the gateway's session clock, moved by the test; nothing sleeps.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import mqtt, { type IClientOptions, type IConnackPacket, type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';

import { metricValue, publishAcked, startTestGateway, type TestGateway } from './helpers/gateway.js';
import { startInfluxd, type TestInfluxd } from './helpers/influxd.js';
import { eventually } from './helpers/lifecycle.js';

const TOPIC = 'storeloop/demo-store/touchpoint/kiosk-1';
const EXPIRY_SECONDS = 3_600;
const MINUTE_MS = 60_000;

let influxd: TestInfluxd;

beforeAll(async () => {
  influxd = await startInfluxd();
});

afterAll(async () => {
  await influxd?.stop();
});

/** A clock the test moves forward; the gateway's sessions expire by it. */
function movableClock(): { now: () => number; advance: (ms: number) => void } {
  let offsetMs = 0;
  return { now: () => Date.now() + offsetMs, advance: (ms) => (offsetMs += ms) };
}

async function gatewayWith(clock: { now: () => number }, options: { maxPersistentSessions?: number; stateDir?: string } = {}): Promise<TestGateway> {
  const gw = await startTestGateway({
    influxUrl: influxd.url,
    config: {
      mqtt: { limits: { maxPersistentSessions: options.maxPersistentSessions ?? 100, sessionExpirySeconds: EXPIRY_SECONDS } },
      ...(options.stateDir === undefined ? {} : { state: { dir: options.stateDir } }),
    },
    sessionClock: { now: clock.now, checkIntervalMs: 50 },
  });
  onTestFinished(() => gw.stop());
  return gw;
}

/** Every MQTT client of this file comes from here (credentials go here once the broker asks for them). */
async function connectMqtt(
  gw: TestGateway,
  clientId: string,
  options: IClientOptions = {},
): Promise<{ client: MqttClient; connack: IConnackPacket; received: string[] }> {
  const client = mqtt.connect(gw.mqttUrl, { clientId, reconnectPeriod: 0, connectTimeout: 5_000, ...options });
  onTestFinished(() => client.endAsync(true));
  // queued messages follow the CONNACK at once: listen before it comes
  const received: string[] = [];
  client.on('message', (_topic, payload) => received.push((JSON.parse(payload.toString()) as { mid?: string }).mid ?? ''));
  const connack = await new Promise<IConnackPacket>((resolve, reject) => {
    client.once('connect', resolve);
    client.once('error', reject);
  });
  return { client, connack, received };
}

/** A persistent session subscribes at QoS 1 and goes away. */
async function leaveSession(gw: TestGateway, clientId: string): Promise<void> {
  const { client } = await connectMqtt(gw, clientId, { clean: false });
  await client.subscribeAsync(TOPIC, { qos: 1 });
  await client.endAsync();
}

async function publishTaps(gw: TestGateway, mids: string[]): Promise<void> {
  const { client } = await connectMqtt(gw, `kiosk-${Math.random().toString(36).slice(2, 8)}`);
  for (const mid of mids) await publishAcked(client, TOPIC, { v: 1, ts: Date.now(), mid, action: 'tap' });
  await client.endAsync();
}

/**
 * A session comes back: what it was handed before a marker published once it is connected. Queued
 * packets are sent right after the CONNACK, so anything queued arrives before the marker.
 */
async function comeBack(gw: TestGateway, clientId: string): Promise<{ sessionPresent: boolean; queued: string[] }> {
  const back = await connectMqtt(gw, clientId, { clean: false });
  await back.client.subscribeAsync(TOPIC, { qos: 1 });
  await publishTaps(gw, ['marker']);
  await eventually(
    () => back.received,
    (mids) => mids.includes('marker'),
    `${clientId} to receive the marker`,
    10_000,
  );
  return { sessionPresent: back.connack.sessionPresent, queued: back.received.slice(0, back.received.indexOf('marker')) };
}

async function expiredSessions(gw: TestGateway): Promise<number> {
  return metricValue(gw.httpUrl, 'storeloop_mqtt_sessions_expired_total');
}

describe('persistent sessions: cap', () => {
  it('refuses the next new persistent session with CONNACK 3, counts and logs it, and still admits a returning one', async () => {
    const gw = await gatewayWith(movableClock(), { maxPersistentSessions: 2 });
    await leaveSession(gw, 'session-1');
    await leaveSession(gw, 'session-2');
    expect(await metricValue(gw.httpUrl, 'storeloop_mqtt_persistent_sessions')).toBe(2);

    const refused = connectMqtt(gw, 'session-3', { clean: false });
    await expect(refused).rejects.toMatchObject({ code: 3 });
    expect(await metricValue(gw.httpUrl, 'storeloop_mqtt_refused_total', { reason: 'too_many_sessions' })).toBe(1);
    expect(gw.logs().find((l) => l.reason === 'too_many_sessions')).toMatchObject({ level: 40, clientId: 'session-3' });

    await publishTaps(gw, ['while-away']);
    expect(await comeBack(gw, 'session-1')).toEqual({ sessionPresent: true, queued: ['while-away'] });
    // a clean session takes no place
    const passerBy = await connectMqtt(gw, 'passer-by', { clean: true });
    expect(passerBy.connack.returnCode).toBe(0);
    expect(await metricValue(gw.httpUrl, 'storeloop_mqtt_persistent_sessions')).toBe(2);
  });
});

describe('persistent sessions: expiry', () => {
  it('removes the subscriptions and queue of a session away longer than the expiry, and keeps those of one inside it', async () => {
    const clock = movableClock();
    const gw = await gatewayWith(clock);
    await leaveSession(gw, 'away-long');
    clock.advance(40 * MINUTE_MS);
    await leaveSession(gw, 'away-short');
    await publishTaps(gw, ['queued-1', 'queued-2']);
    clock.advance(30 * MINUTE_MS); // away-long: 70 min, away-short: 30 min, expiry 60 min

    await eventually(
      () => expiredSessions(gw),
      (n) => n === 1,
      'one session to expire',
      10_000,
    );
    expect(await metricValue(gw.httpUrl, 'storeloop_mqtt_persistent_sessions')).toBe(1);
    expect(gw.logs().find((l) => String(l.msg).startsWith('persistent session expired'))).toMatchObject({ level: 30, clientId: 'away-long' });

    expect(await comeBack(gw, 'away-long')).toEqual({ sessionPresent: false, queued: [] });
    expect(await comeBack(gw, 'away-short')).toEqual({ sessionPresent: true, queued: ['queued-1', 'queued-2'] });
  });

  it('keeps the time a client was last seen across a gateway restart (sqlite)', async () => {
    const stateDir = await mkdtemp(join(tmpdir(), 'storeloop-sessions-'));
    onTestFinished(() => rm(stateDir, { recursive: true, force: true }));
    const clock = movableClock();
    const first = await gatewayWith(clock, { stateDir });
    expect(first.config.mqtt.persistence).toBe('sqlite');
    await leaveSession(first, 'away-long');
    clock.advance(50 * MINUTE_MS);
    await leaveSession(first, 'away-short');
    await publishTaps(first, ['queued-1']);
    await first.stop();

    clock.advance(20 * MINUTE_MS); // while the gateway is down: away-long 70 min, away-short 20 min
    const second = await gatewayWith(clock, { stateDir });
    // removed by the check at start
    expect(await expiredSessions(second)).toBe(1);
    expect(await comeBack(second, 'away-long')).toEqual({ sessionPresent: false, queued: [] });
    expect(await comeBack(second, 'away-short')).toEqual({ sessionPresent: true, queued: ['queued-1'] });
  });
});
