/**
 * The data of the devices and pipeline pages on a real gateway, fed over MQTT: an edge agent's status
 * with its queue, a beacon's Eddystone-TLM telemetry as the edge agent sends it (the frame parsed and
 * turned into an environment event by edge/ble), a device's battery, sightings; rejected messages by
 * reason, the event log and the InfluxDB sink.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { DEMO_STORE } from '../config/index.js';
import { parseEddystone } from '../edge/ble/beacon-parser.js';
import { environmentFromTlm } from '../edge/ble/tlm-telemetry.js';
import { startInfluxd, type TestInfluxd } from './helpers/influxd.js';
import { connectClient, publishAcked, sinksCaughtUp, startTestGateway, type TestGateway } from './helpers/gateway.js';
import { eventually, useCleanups } from './helpers/lifecycle.js';

let influxd: TestInfluxd;
const cleanups = useCleanups();

beforeAll(async () => {
  influxd = await startInfluxd();
});
afterAll(async () => {
  await influxd?.stop();
});

/** The demo store with a TLM beacon by the door, mapped to a device as an edge agent's `tlmDeviceIds` does. */
const STORE = { ...DEMO_STORE, devices: [...(DEMO_STORE.devices ?? []), { id: 'beacon-door', type: 'environment' as const, zone: 'entrance' }] };
/** edge/ble/vectors/ble-frames.json `eddystone-tlm`: 2950 mV, 23.5 °C. */
const TLM_FRAME_HEX = '20000b8617800012d687000d2f05';

async function gateway(): Promise<{ gw: TestGateway; analyst: Record<string, string> }> {
  const gw = await startTestGateway({ influxUrl: influxd.url, config: { stores: [STORE] } });
  cleanups.push(() => gw.stop());
  const token = gw.gateway.apiTokens.add({ name: 'analyst', scopes: ['analyst'] }).token;
  return { gw, analyst: { authorization: `Bearer ${token}` } };
}

interface Devices {
  onlineWindowSeconds: number;
  agents: Array<{ id: string; state: string | null; since: string | null; online: boolean; queue: { depth: number; bytes: number | null; at: string } | null }>;
  devices: Array<{
    id: string;
    role: string;
    type: string | null;
    zone: string | null;
    lastSeenAt: string | null;
    online: boolean;
    battery: { pct: { value: number; at: string } | null; mv: { value: number; at: string } | null };
  }>;
}

describe('GET /api/v1/stores/{store}/devices', () => {
  it("shows the agent's state and queue depth, each source's last seen and online, the TLM beacon's and a device's battery with when it was read", async () => {
    const { gw, analyst } = await gateway();
    const client = await connectClient(gw.mqttUrl, { clientId: 'devices-page' });
    cleanups.push(() => client.endAsync());
    const ts = Date.now() - 5_000;
    await publishAcked(client, 'storeloop/demo-store/status/edge-1', {
      ts,
      mid: 'st-1',
      state: 'online',
      version: '1.4.0',
      queue_depth: 42,
      queue_bytes: 9000,
    });
    const frame = parseEddystone(Buffer.from(TLM_FRAME_HEX, 'hex'));
    if (!frame.ok || frame.frame.format !== 'eddystone-tlm') throw new Error('the TLM vector did not parse');
    const telemetry = environmentFromTlm(frame.frame);
    if (!telemetry.ok) throw new Error(`no telemetry: ${telemetry.reason}`);
    await publishAcked(client, 'storeloop/demo-store/device/beacon-door', { ts: ts + 1, mid: 'tlm-1', event: telemetry.event });
    await publishAcked(client, 'storeloop/demo-store/device/env-floor', {
      ts: ts + 2,
      mid: 'env-1',
      event: { type: 'environment', temperature_c: 21.5, battery_pct: 64 },
    });
    await publishAcked(client, 'storeloop/demo-store/ble/ble-women', {
      ts: ts + 3,
      mid: 'ble-1',
      sightings: [{ id: 'dev:aaaaaaaaaaaaaaaaaaaaaaaa', rssi: -60 }],
    });

    const body = await eventually(
      async () => (await (await fetch(`${gw.httpUrl}/api/v1/stores/demo-store/devices`, { headers: analyst })).json()) as Devices,
      (b) => b.devices.filter((d) => d.online).length === 3,
      'the three sources that sent something to be online',
      5_000,
    );
    expect(body.onlineWindowSeconds).toBe(300);
    expect(body.agents).toEqual([
      expect.objectContaining({
        id: 'edge-1',
        state: 'online',
        since: new Date(ts).toISOString(),
        online: true,
        queue: { depth: 42, bytes: 9000, at: new Date(ts).toISOString() },
      }),
    ]);
    const byId = new Map(body.devices.map((d) => [d.id, d]));
    expect(byId.get('beacon-door')).toMatchObject({
      role: 'device',
      type: 'environment',
      zone: 'entrance',
      online: true,
      battery: { pct: null, mv: { value: 2950, at: new Date(ts + 1).toISOString() } },
    });
    expect(byId.get('env-floor')?.battery).toEqual({ pct: { value: 64, at: new Date(ts + 2).toISOString() }, mv: null });
    expect(byId.get('ble-women')).toMatchObject({ online: true, lastSeenAt: new Date(ts + 3).toISOString() });
    expect(byId.get('ble-men')).toMatchObject({ online: false, lastSeenAt: null });
    expect(body.devices.map((d) => d.id).sort()).toEqual([...(STORE.sensors ?? []), ...(STORE.touchpoints ?? []), ...STORE.devices].map((d) => d.id).sort());

    // the agent's last will: offline at once, whatever the window
    await publishAcked(client, 'storeloop/demo-store/status/edge-1', { state: 'offline' });
    const after = await eventually(
      async () => (await (await fetch(`${gw.httpUrl}/api/v1/stores/demo-store/devices`, { headers: analyst })).json()) as Devices,
      (b) => b.agents[0]?.state === 'offline',
      'the agent offline',
      5_000,
    );
    expect(after.agents[0]).toMatchObject({ state: 'offline', online: false, queue: null });

    const unknown = await fetch(`${gw.httpUrl}/api/v1/stores/other-store/devices`, { headers: analyst });
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toEqual({ error: "unknown store 'other-store' (stores: demo-store)", code: 'SL_ERR_HTTP_STORE_UNKNOWN' });
  });
});

interface Pipeline {
  ingest: { perMinute: Array<{ minute: string; accepted: number; rejected: number }>; totals: { accepted: number; rejected: number } };
  rejections: Array<{ reason: string; count: number; description: string | null }>;
  log: { records: number; segments: number; oldest: { seq: number; appendedAt: string } | null; newest: { seq: number; appendedAt: string } | null };
  sinks: Array<{ name: string; state: string; lag: { records: number; seconds: number }; delivered: number; deadLettered: number }>;
  deadLetters: number;
}

describe('GET /api/v1/pipeline', () => {
  it('counts what was accepted and rejected this minute, rejections by reason, the log and the InfluxDB sink caught up', async () => {
    const { gw, analyst } = await gateway();
    const client = await connectClient(gw.mqttUrl, { clientId: 'pipeline-page' });
    cleanups.push(() => client.endAsync());
    const ts = Date.now() - 1_000;
    for (let i = 0; i < 5; i++)
      await publishAcked(client, 'storeloop/demo-store/device/counter-door', { ts: ts + i, mid: `pc-${i}`, event: { type: 'people_count', in: 1, out: 0 } });
    await publishAcked(client, 'storeloop/demo-store/device/counter-door', { ts, event: { type: 'people_count', in: -1, out: 0 } }); // schema_invalid
    await publishAcked(client, 'storeloop/demo-store/device/no-such-counter', { ts, event: { type: 'people_count', in: 1, out: 0 } }); // source_unknown
    await publishAcked(client, 'storeloop/demo-store/device/counter-door', '{not json'); // json_invalid
    await sinksCaughtUp(gw.httpUrl);

    const response = await fetch(`${gw.httpUrl}/api/v1/pipeline`, { headers: analyst });
    expect(response.status).toBe(200);
    const body = (await response.json()) as Pipeline;
    expect(body.ingest.perMinute).toHaveLength(60);
    // counted in the running minute, or the one before had a minute just turned
    const recent = body.ingest.perMinute.slice(-2);
    expect(recent.reduce((n, m) => n + m.accepted, 0)).toBe(5);
    expect(recent.reduce((n, m) => n + m.rejected, 0)).toBe(3);
    expect(body.ingest.totals).toMatchObject({ accepted: 5, rejected: 3 });
    expect(body.rejections.map((r) => [r.reason, r.count])).toEqual([
      ['json_invalid', 1],
      ['schema_invalid', 1],
      ['source_unknown', 1],
    ]);
    expect(body.rejections.every((r) => r.description !== null)).toBe(true);
    expect(body.log.records).toBe(5);
    expect(body.log.segments).toBeGreaterThanOrEqual(1);
    expect(body.log.oldest?.seq).toBe(1);
    expect(body.log.newest?.seq).toBe(5);
    const influx = body.sinks.find((s) => s.name === 'influx');
    expect(influx).toMatchObject({ state: expect.stringMatching(/^(ok|idle)$/), lag: { records: 0, seconds: 0 }, delivered: 5, deadLettered: 0 });
    expect(body.deadLetters).toBe(0);
    // counts and positions only: nothing of the rejected payloads or who sent them
    const text = JSON.stringify(body);
    expect(text).not.toContain('pipeline-page');
    expect(text).not.toContain('no-such-counter');
  });
});
