/**
 * The data path end to end with real parts: MQTT.js clients over TCP and WebSocket → the gateway's
 * aedes broker → ingest → a real influxd (1.x, /write) → InfluxQL.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { DEMO_STORE_ID } from '../config/index.js';
import { connectClient, metricValue, publishAcked, sinksCaughtUp, startTestGateway, type TestGateway } from './helpers/gateway.js';
import { startInfluxd, type TestInfluxd } from './helpers/influxd.js';
import { eventually } from './helpers/lifecycle.js';

const IBEACON = 'ibeacon:f7826da6-4fa2-4e98-8024-bc5b71e0893e:100:7';
const PSEUDONYM = 'a1b2c3d4e5f60718293a4b5c';
const topic = (kind: string, source: string, store = DEMO_STORE_ID) => `storeloop/${store}/${kind}/${source}`;

let influxd: TestInfluxd;
let gw: TestGateway;

beforeAll(async () => {
  influxd = await startInfluxd();
  gw = await startTestGateway({ influxUrl: influxd.url });
});
afterAll(async () => {
  await gw?.stop();
  await influxd?.stop();
});

async function count(measurement: string, field: string, where = ''): Promise<number> {
  const series = await influxd.query(gw.database, `SELECT count("${field}") FROM "${measurement}" ${where}`);
  return Number(series[0]?.values[0]?.[1] ?? 0);
}

describe('valid messages of every kind', () => {
  it('writes each kind as documented in docs/schema.md (tags, fields, event time)', async () => {
    const client = await connectClient(gw.mqttUrl, { clientId: 'kinds' });
    const ts = Date.now() - 60_000;
    await publishAcked(client, topic('ble', 'ble-women'), {
      ts,
      mid: 'k-1',
      sightings: [
        { id: IBEACON, rssi: -67, tx: -59 },
        { id: `dev:${PSEUDONYM}`, rssi: -80 },
      ],
    });
    await publishAcked(client, topic('wifi', 'wifi-front'), { ts, mid: 'k-2', observations: [{ id: PSEUDONYM, rssi: -71, randomized: true }] });
    await publishAcked(client, topic('touchpoint', 'feedback-1'), {
      ts,
      mid: 'k-3',
      action: 'feedback',
      value: 4,
      customer: 'C-000123',
      visitor: PSEUDONYM,
      beacon: IBEACON,
    });
    await publishAcked(client, topic('device', 'counter-door'), { ts, mid: 'k-4', event: { type: 'people_count', in: 3, out: 1 } });
    await publishAcked(client, topic('device', 'shelf-shoes'), { ts, mid: 'k-5', event: { type: 'shelf', action: 'pick_up', sku: 'SKU-42' } });
    await publishAcked(client, topic('status', 'edge-1'), { ts, mid: 'k-6', state: 'online', version: '1.0.0', uptime_s: 12 });
    await client.endAsync();

    // acknowledged means in the event log; the InfluxDB sink writes it at its own pace
    await sinksCaughtUp(gw.httpUrl);
    const sightings = await influxd.query(gw.database, `SELECT * FROM sighting WHERE "source"='ble'`, { epoch: 'ms' });
    const s = sightings[0];
    expect(s?.values).toHaveLength(2);
    const row = Object.fromEntries(s!.columns.map((c, i) => [c, s!.values[0]![i]]));
    expect(row).toMatchObject({
      time: ts,
      store: DEMO_STORE_ID,
      zone: 'aisle-women',
      sensor: 'ble-women',
      source: 'ble',
      id_type: 'ibeacon',
      rssi: -67,
      tx: -59,
      visitor: IBEACON,
    });

    const tags = await influxd.query(gw.database, 'SHOW TAG KEYS FROM sighting');
    expect(tags[0]?.values.flat()).not.toContain('visitor'); // pseudonymous ids are fields, never tags

    expect(await count('sighting', 'rssi', `WHERE "source"='wifi' AND "zone"='entrance'`)).toBe(1);
    const interaction = await influxd.query(gw.database, 'SELECT "value", "identified", "visitor", "beacon", "touchpoint_type", "action" FROM interaction');
    expect(interaction[0]?.values[0]?.slice(1)).toEqual([4, true, PSEUDONYM, IBEACON, 'feedback', 'feedback']);
    const fields = await influxd.query(gw.database, 'SHOW FIELD KEYS FROM interaction');
    expect(fields[0]?.values.map((v) => v[0])).not.toContain('customer'); // the CRM id stays out of InfluxDB
    const interactionTags = await influxd.query(gw.database, 'SHOW TAG KEYS FROM interaction');
    expect(interactionTags[0]?.values.flat()).not.toContain('beacon'); // a field, like the sightings' visitor
    // the interaction joins the sightings of the same id (docs/schema.md)
    expect(await count('sighting', 'rssi', `WHERE "visitor"='${IBEACON}'`)).toBe(1);

    const counter = await influxd.query(gw.database, `SELECT "in", "out" FROM telemetry WHERE "event"='people_count'`);
    expect(counter[0]?.values[0]?.slice(1)).toEqual([3, 1]);
    expect(await count('telemetry', 'sku', `WHERE "action"='pick_up'`)).toBe(1);
    const agent = await influxd.query(gw.database, `SELECT "online", "version" FROM agent WHERE "agent"='edge-1'`);
    expect(agent[0]?.values[0]?.slice(1)).toEqual([true, '1.0.0']);
  });

  it('counts a redelivery with the same mid as a duplicate and writes nothing twice', async () => {
    const client = await connectClient(gw.mqttUrl, { clientId: 'dups' });
    const msg = {
      ts: Date.now() - 1000,
      mid: 'dup-1',
      sightings: [
        { id: IBEACON, rssi: -60 },
        { id: IBEACON, rssi: -61 },
      ],
    };
    await sinksCaughtUp(gw.httpUrl);
    const before = await count('sighting', 'rssi', `WHERE "sensor"='ble-men'`);
    const dupsBefore = await metricValue(gw.httpUrl, 'storeloop_messages_duplicate_total', { kind: 'ble' });
    await publishAcked(client, topic('ble', 'ble-men'), msg);
    await publishAcked(client, topic('ble', 'ble-men'), msg);
    // without a mid, the same payload bytes from the same source are recognised as a resend too
    const noMid = { ts: msg.ts, sightings: msg.sightings };
    await publishAcked(client, topic('ble', 'ble-men'), noMid);
    await publishAcked(client, topic('ble', 'ble-men'), noMid);
    await client.endAsync();
    await sinksCaughtUp(gw.httpUrl);
    expect(await count('sighting', 'rssi', `WHERE "sensor"='ble-men'`)).toBe(before + 4);
    expect(await metricValue(gw.httpUrl, 'storeloop_messages_duplicate_total', { kind: 'ble' })).toBe(dupsBefore + 2);
  });

  it('forwards to subscribers only the validated message: no rejected items, no CRM customer id', async () => {
    const subscriber = await connectClient(gw.mqttUrl, { clientId: 'watcher' });
    await subscriber.subscribeAsync('storeloop/#', { qos: 1 });
    const received: Array<{ topic: string; payload: string }> = [];
    subscriber.on('message', (t, p) => received.push({ topic: t, payload: p.toString() }));
    const client = await connectClient(gw.mqttUrl, { clientId: 'forwarded' });
    const ts = Date.now();
    await publishAcked(client, topic('touchpoint', 'mirror-1'), { ts, mid: 'fw-1', action: 'try_on', customer: 'C-000777', extra: 'x' });
    await publishAcked(client, topic('ble', 'ble-fitting'), {
      ts,
      mid: 'fw-2',
      sightings: [
        { id: 'dev:00-00-5e-00-53-99', rssi: -50 },
        { id: IBEACON, rssi: -55 },
      ],
    });
    await publishAcked(client, topic('ble', 'ble-fitting'), 'not json');
    // a marker after the rejected message: once it is delivered, the rejected one would have been too
    await publishAcked(client, topic('touchpoint', 'kiosk-1'), { ts, mid: 'fw-marker', action: 'tap' });
    await eventually(
      () => received.some((m) => m.payload.includes('fw-marker')),
      (seen) => seen,
      'the marker message at the subscriber',
    );
    await client.endAsync();
    await subscriber.endAsync();
    expect(received.map((m) => JSON.parse(m.payload) as unknown)).toEqual([
      { ts, mid: 'fw-1', action: 'try_on' },
      { ts, mid: 'fw-2', sightings: [{ id: IBEACON, rssi: -55 }] },
      { ts, mid: 'fw-marker', action: 'tap' },
    ]);
  });

  it('passes an agent its retained remote config, and refuses config for unknown agents or non-agents', async () => {
    const operator = await connectClient(gw.mqttUrl, { clientId: 'operator' });
    const config = { sources: { ble: { intervalMs: 2000 } } };
    await publishAcked(operator, 'storeloop/demo-store/config/edge-1', config, { retain: true });
    const before = await metricValue(gw.httpUrl, 'storeloop_messages_rejected_total', { kind: 'config' });
    await publishAcked(operator, 'storeloop/demo-store/config/edge-9', config, { retain: true });
    await publishAcked(operator, 'storeloop/demo-store/config/kiosk-1', config, { retain: true });
    await publishAcked(operator, 'storeloop/demo-store/config/edge-1', '[1,2]');
    await operator.endAsync();
    expect(await metricValue(gw.httpUrl, 'storeloop_messages_rejected_total', { kind: 'config' })).toBe(before + 3);
    const agent = await connectClient(gw.mqttUrl, { clientId: 'edge-1-agent' });
    const received = new Promise<{ topic: string; payload: string }>((resolve) => agent.on('message', (t, p) => resolve({ topic: t, payload: p.toString() })));
    await agent.subscribeAsync('storeloop/demo-store/config/edge-1', { qos: 1 });
    expect(await received).toEqual({ topic: 'storeloop/demo-store/config/edge-1', payload: JSON.stringify(config) });
    await agent.endAsync();
    // a retained zero-byte publish clears it: a new subscriber gets nothing retained
    const clearer = await connectClient(gw.mqttUrl, { clientId: 'operator-2' });
    await publishAcked(clearer, 'storeloop/demo-store/config/edge-1', '', { retain: true });
    await clearer.endAsync();
    const late = await connectClient(gw.mqttUrl, { clientId: 'edge-1-late' });
    const got: string[] = [];
    late.on('message', (_t, p) => got.push(p.toString()));
    await late.subscribeAsync('storeloop/demo-store/config/edge-1', { qos: 1 });
    await publishAcked(late, 'storeloop/demo-store/touchpoint/kiosk-1', { ts: Date.now(), action: 'tap' }); // a round trip after the subscription
    await late.endAsync();
    expect(got).toEqual([]);
    const ledger = (await (await gw.api('/api/v1/ledger')).json()) as { totals: { states: Record<string, number> } };
    expect(ledger.totals.states.forwarded).toBeGreaterThanOrEqual(1);
  });

  it('carries MQTT over WebSocket the same way', async () => {
    const client = await connectClient(gw.wsUrl, { clientId: 'ws-client' });
    await publishAcked(client, topic('touchpoint', 'qr-shoes'), { ts: Date.now(), mid: 'ws-1', action: 'scan', label: 'running shoes' });
    await client.endAsync();
    await sinksCaughtUp(gw.httpUrl);
    expect(await count('interaction', 'count', `WHERE "touchpoint"='qr-shoes'`)).toBe(1);
    expect(await metricValue(gw.httpUrl, 'storeloop_mqtt_connections_total', { transport: 'ws' })).toBeGreaterThanOrEqual(1);
  });

  it('stamps a last-will offline status with the time it fires, and logs the same will bytes again each time they fire', async () => {
    const connectedAt = Date.now();
    const will = {
      topic: topic('status', 'edge-1'),
      payload: Buffer.from(JSON.stringify({ ts: connectedAt - 3_600_000, state: 'offline' })),
      qos: 1 as const,
      retain: true,
    };
    const offlineRows = async () => (await influxd.query(gw.database, `SELECT "online" FROM agent WHERE "state"='offline'`, { epoch: 'ms' }))[0]?.values ?? [];
    for (const round of [1, 2]) {
      const client = await connectClient(gw.mqttUrl, { clientId: `will-edge-${round}`, will });
      const firedAfter = Date.now();
      client.stream.destroy(); // an abrupt loss of the connection fires the will
      const rows = await eventually(offlineRows, (r) => r.length === round, `offline status #${round} in InfluxDB`);
      client.end(true);
      expect(Number(rows[round - 1]?.[0])).toBeGreaterThanOrEqual(firedAfter);
    }
  });
});

describe('bad input', () => {
  const ts = () => Date.now();
  const cases: Array<{ name: string; topic: string; payload: string | object; reason: string }> = [
    { name: 'malformed JSON', topic: topic('ble', 'ble-entrance'), payload: '{"ts": 1, "sightings": [', reason: 'json_invalid' },
    { name: 'a schema violation', topic: topic('touchpoint', 'kiosk-1'), payload: { ts: ts(), action: 'Tap Now!' }, reason: 'schema_invalid' },
    { name: 'an unknown store', topic: topic('ble', 'ble-entrance', 'nowhere'), payload: { ts: ts(), sightings: [] }, reason: 'store_unknown' },
    { name: 'an unknown source', topic: topic('ble', 'ble-07'), payload: { ts: ts(), sightings: [] }, reason: 'source_unknown' },
    { name: 'a source of another kind', topic: topic('ble', 'wifi-front'), payload: { ts: ts(), sightings: [] }, reason: 'source_kind_mismatch' },
    { name: 'a wrong topic shape', topic: 'storeloop/demo-store/ble', payload: { ts: ts(), sightings: [] }, reason: 'topic_invalid' },
    { name: 'an unknown kind', topic: 'storeloop/demo-store/zigbee/x', payload: { ts: ts() }, reason: 'topic_unknown_kind' },
    { name: 'a topic outside the prefix', topic: 'hello/world', payload: 'hi', reason: 'topic_outside_prefix' },
    { name: 'a reserved $SYS topic', topic: '$SYS/broker/x', payload: 'hi', reason: 'topic_outside_prefix' },
    {
      name: 'a payload over the limit',
      topic: topic('touchpoint', 'kiosk-1'),
      payload: `{"ts":1,"action":"tap","label":"${'x'.repeat(300 * 1024)}"}`,
      reason: 'payload_too_large',
    },
    {
      name: 'a timestamp far in the future',
      topic: topic('touchpoint', 'kiosk-1'),
      payload: { ts: Date.now() + 86_400_000, action: 'tap' },
      reason: 'ts_in_future',
    },
    {
      name: 'a timestamp far in the past',
      topic: topic('touchpoint', 'kiosk-1'),
      payload: { ts: Date.now() - 30 * 86_400_000, action: 'tap' },
      reason: 'ts_too_old',
    },
    {
      name: 'a raw MAC address as wifi id',
      topic: topic('wifi', 'wifi-front'),
      payload: { ts: ts(), observations: [{ id: '00:00:5e:00:53:01', rssi: -50, randomized: false }] },
      reason: 'schema_invalid',
    },
    {
      name: 'a contract version this gateway does not speak',
      topic: topic('status', 'edge-1'),
      payload: { v: 2, state: 'online' },
      reason: 'version_unsupported',
    },
  ];

  it.each(cases)('acknowledges and drops $name, counted as $reason, and the client stays connected', async ({ topic: t, payload, reason }) => {
    const client = await connectClient(gw.mqttUrl, { clientId: `bad-${reason}` });
    let closed = false;
    client.on('close', () => (closed = true));
    const before = await metricValue(gw.httpUrl, 'storeloop_messages_rejected_total', { reason });
    const headBefore = await metricValue(gw.httpUrl, 'storeloop_log_head_seq');
    await publishAcked(client, t, payload); // a PUBACK, not a disconnect
    expect(await metricValue(gw.httpUrl, 'storeloop_messages_rejected_total', { reason })).toBe(before + 1);
    expect(await metricValue(gw.httpUrl, 'storeloop_log_head_seq')).toBe(headBefore); // nothing logged
    const { rejections } = (await (await gw.api('/api/v1/rejections?limit=1')).json()) as { rejections: Array<Record<string, string>> };
    expect(rejections[0]).toMatchObject({ reason, clientId: `bad-${reason}` });
    expect(rejections[0]?.excerpt?.length).toBeLessThanOrEqual(161);
    await publishAcked(client, topic('touchpoint', 'kiosk-1'), { ts: Date.now(), action: 'tap' }); // still usable
    expect(closed).toBe(false);
    await client.endAsync();
  });

  it('masks MAC addresses in rejection excerpts and keeps them out of the log', async () => {
    const client = await connectClient(gw.mqttUrl, { clientId: 'mac-leak' });
    await publishAcked(client, topic('wifi', 'wifi-back'), { ts: Date.now(), observations: [{ id: '00:00:5E:00:53:AB', rssi: -40, randomized: false }] });
    await client.endAsync();
    const { rejections } = (await (await gw.api('/api/v1/rejections?limit=1')).json()) as { rejections: Array<Record<string, string>> };
    expect(rejections[0]?.excerpt).toContain('xx:xx:xx:xx:xx:xx');
    expect(JSON.stringify(rejections)).not.toMatch(/00:00:5E:00:53:AB/i);
    expect(JSON.stringify(gw.logs())).not.toMatch(/00:00:5E:00:53:AB/i);
  });

  it('writes the good sightings beside a bad one and says which one was bad', async () => {
    const client = await connectClient(gw.mqttUrl, { clientId: 'batch' });
    await sinksCaughtUp(gw.httpUrl);
    const before = await count('sighting', 'rssi', `WHERE "sensor"='ble-checkout'`);
    await publishAcked(client, topic('ble', 'ble-checkout'), {
      ts: Date.now(),
      mid: 'batch-1',
      sightings: [
        { id: IBEACON, rssi: -60 },
        { id: 'ibeacon:nope', rssi: -61 },
        { id: IBEACON, rssi: -62 },
      ],
    });
    await client.endAsync();
    await sinksCaughtUp(gw.httpUrl);
    expect(await count('sighting', 'rssi', `WHERE "sensor"='ble-checkout'`)).toBe(before + 2);
    const { rejections } = (await (await gw.api('/api/v1/rejections?reason=items_invalid&limit=1')).json()) as {
      rejections: Array<Record<string, string>>;
    };
    expect(rejections[0]?.detail).toMatch(/sightings\.1\.id/);
    expect(await metricValue(gw.httpUrl, 'storeloop_items_rejected_total', { kind: 'ble' })).toBeGreaterThanOrEqual(1);
  });

  it('logs a flood of rejections without flooding the log', async () => {
    // a gateway of its own: the rejection log's rate limit (one line per reason per 10 s) starts unused
    const fresh = await startTestGateway({ influxUrl: influxd.url });
    try {
      const client = await connectClient(fresh.mqttUrl, { clientId: 'flood' });
      for (let i = 0; i < 200; i++) client.publish(topic('ble', 'ble-entrance'), 'not json', { qos: 1 });
      await publishAcked(client, topic('ble', 'ble-entrance'), 'still not json');
      await client.endAsync();
      // all 201 are refused and counted (the 200 unawaited ones may still be in the broker when the last PUBACK comes)
      await eventually(
        () => metricValue(fresh.httpUrl, 'storeloop_messages_rejected_total', { reason: 'json_invalid' }),
        (n) => n === 201,
        '201 json_invalid rejections counted',
      );
      const logged = fresh.logs().filter((l) => l.msg === 'message rejected' && l.reason === 'json_invalid');
      expect(logged).toHaveLength(1); // the first one, with the reason; the other 200 are counted, not logged
    } finally {
      await fresh.stop();
    }
  });
});

describe('HTTP API', () => {
  it('answers healthz, readyz, the stores and the OpenAPI document', async () => {
    const writtenBefore = await metricValue(gw.httpUrl, 'storeloop_points_written_total');
    const client = await connectClient(gw.mqttUrl, { clientId: 'health' });
    await publishAcked(client, topic('touchpoint', 'kiosk-1'), { ts: Date.now(), mid: 'health-1', action: 'tap' });
    await client.endAsync();
    await sinksCaughtUp(gw.httpUrl);
    expect((await fetch(`${gw.httpUrl}/healthz`)).status).toBe(200);
    const ready = await fetch(`${gw.httpUrl}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({
      ready: true,
      checks: { broker: true, influx: true, log: true },
      log: { full: false },
      sinks: [
        { name: 'influx', holdsBackIngest: true, health: { state: expect.stringMatching(/^(ok|idle)$/) } },
        // the consent registry's: a withdrawal is never dropped
        { name: 'consent', holdsBackIngest: true, health: { state: expect.stringMatching(/^(ok|idle)$/) } },
        // the experience engine (the demo store has a layout): never holds back ingest
        { name: 'experience', holdsBackIngest: false, health: { state: expect.stringMatching(/^(ok|idle)$/) } },
      ],
    });
    const { stores } = (await (await gw.api('/api/v1/stores')).json()) as {
      stores: Array<{ id: string; sensors: unknown[]; touchpoints: unknown[]; devices: unknown[] }>;
    };
    expect(stores[0]?.id).toBe(DEMO_STORE_ID);
    expect(stores[0]?.sensors.length).toBeGreaterThan(0);
    const openapi = (await (await fetch(`${gw.httpUrl}/openapi.json`)).json()) as { openapi: string; paths: Record<string, unknown> };
    expect(openapi.openapi).toMatch(/^3\./);
    expect(Object.keys(openapi.paths)).toEqual(
      expect.arrayContaining([
        '/healthz',
        '/readyz',
        '/metrics',
        '/api/v1/stores',
        '/api/v1/rejections',
        '/api/v1/live',
        '/api/v1/ledger',
        '/api/v1/dead-letters',
        '/api/v1/sinks',
        '/api/v1/sinks/{name}',
        '/api/v1/sinks/{name}/replay',
      ]),
    );
    expect((await fetch(`${gw.httpUrl}/docs`)).status).toBeLessThan(400);
    const metrics = await (await gw.api('/metrics')).text();
    for (const name of [
      'storeloop_messages_received_total',
      'storeloop_messages_accepted_total',
      'storeloop_messages_rejected_total',
      'storeloop_points_written_total',
      'storeloop_influx_write_duration_seconds',
      'storeloop_influx_batch_points',
      'storeloop_mqtt_clients',
    ]) {
      expect(metrics).toContain(name);
    }
    expect(await metricValue(gw.httpUrl, 'storeloop_points_written_total')).toBeGreaterThan(writtenBefore);
  });

  it('accounts for every message received in the ledger: one state each, nothing held, balanced', async () => {
    interface Row {
      store: string;
      kind: string;
      received: number;
      states: Record<string, number>;
      rejectedBy: Record<string, number>;
      balanced: boolean;
    }
    interface LedgerAnswer {
      balanced: boolean;
      totals: Row;
      rows: Row[];
    }
    const ledger = async () => (await (await gw.api('/api/v1/ledger')).json()) as LedgerAnswer;
    const ble = (l: LedgerAnswer) => l.rows.find((r) => r.store === DEMO_STORE_ID && r.kind === 'ble');
    const before = await ledger();
    // one message into each state this test looks at (the gateway is shared: counted as differences)
    const client = await connectClient(gw.mqttUrl, { clientId: 'ledger' });
    const message = { ts: Date.now(), mid: 'ledger-1', sightings: [{ id: IBEACON, rssi: -60 }] };
    await publishAcked(client, topic('ble', 'ble-entrance'), message); // logged
    await publishAcked(client, topic('ble', 'ble-entrance'), message); // duplicate
    await publishAcked(client, topic('ble', 'ble-entrance'), 'not json'); // rejected: json_invalid
    await publishAcked(client, topic('ble', 'ble-entrance', 'nowhere'), { ts: Date.now(), sightings: [] }); // rejected: store_unknown
    await publishAcked(client, 'hello/world', 'hi'); // rejected: topic_outside_prefix, under store and kind _unknown
    await client.endAsync();
    const after = await ledger();
    const delta = (pick: (l: LedgerAnswer) => number | undefined) => (pick(after) ?? 0) - (pick(before) ?? 0);

    expect(after.balanced).toBe(true);
    expect(after.rows.every((r) => r.balanced)).toBe(true);
    expect(after.totals.received).toBe(await metricValue(gw.httpUrl, 'storeloop_messages_received_total'));
    expect(after.totals.states.held).toBe(0);
    expect(delta((l) => l.totals.received)).toBe(5);
    expect(delta((l) => ble(l)?.states.logged)).toBe(1);
    expect(delta((l) => ble(l)?.states.duplicate)).toBe(1);
    expect(delta((l) => ble(l)?.rejectedBy.json_invalid)).toBe(1);
    expect(delta((l) => l.totals.rejectedBy.store_unknown)).toBe(1);
    expect(delta((l) => l.rows.find((r) => r.store === '_unknown' && r.kind === '_unknown')?.rejectedBy.topic_outside_prefix)).toBe(1);
    expect(await metricValue(gw.httpUrl, 'storeloop_ledger_messages', { store: DEMO_STORE_ID, kind: 'ble', state: 'logged' })).toBe(ble(after)?.states.logged);
  });

  it('answers 400 with a reason for a bad query parameter', async () => {
    const res = await gw.api('/api/v1/rejections?limit=zero');
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: string }).error).toMatch(/limit/);
  });
});

describe('readiness without InfluxDB', () => {
  it('answers 503 on /readyz while InfluxDB does not answer, and the broker still accepts clients', async () => {
    const lonely = await startTestGateway({ influxUrl: 'http://127.0.0.1:9' });
    try {
      const res = await fetch(`${lonely.httpUrl}/readyz`);
      expect(res.status).toBe(503);
      expect(await res.json()).toMatchObject({ ready: false, checks: { broker: true, influx: false } });
      const client = await connectClient(lonely.mqttUrl, { clientId: 'while-down' });
      await client.endAsync(true);
    } finally {
      await lonely.stop();
    }
  });
});
