/**
 * The event log at the centre (issue #8), proven with real parts: a real influxd, the gateway in
 * process or as its own process killed with SIGKILL, MQTT.js clients over TCP, and sinks that
 * misbehave on purpose beside the InfluxDB sink.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';

import { afterEach, describe, expect, it } from 'vitest';

import { DEMO_STORE_ID } from '../config/index.js';
import { apiFetch, connectClient, metricValue, publishAcked, publishMany, sinksCaughtUp, startTestGateway, type TestGateway } from './helpers/gateway.js';
import { GatewayProcess, influxSink, type GatewayLedger, type SinkState } from './helpers/gateway-process.js';
import { startInfluxd, type TestInfluxd } from './helpers/influxd.js';
import { eventually, useCleanups } from './helpers/lifecycle.js';
import { testBuild } from './helpers/test-build.js';
import { RestartableInfluxd } from './helpers/restartable-influxd.js';
import { FailingSink, RecordingSink, StuckSink } from './helpers/test-sinks.js';

const cleanups = useCleanups();
const IBEACON = (n: number) => `ibeacon:f7826da6-4fa2-4e98-8024-bc5b71e0893e:${1 + (n % 60000)}:7`;
const topic = (kind: string, source: string) => `storeloop/${DEMO_STORE_ID}/${kind}/${source}`;

let influxd: TestInfluxd | undefined;
let gw: TestGateway | undefined;
afterEach(async () => {
  await gw?.stop();
  await influxd?.stop();
  gw = undefined;
  influxd = undefined;
});

async function count(database: string, query: string): Promise<number> {
  const series = await (influxd as TestInfluxd).query(database, query);
  return Number(series[0]?.values[0]?.[1] ?? 0);
}

async function sinks(httpUrl: string): Promise<SinkState[]> {
  return ((await (await apiFetch(httpUrl, '/api/v1/sinks')).json()) as { sinks: SinkState[] }).sinks;
}

async function ledger(httpUrl: string): Promise<GatewayLedger> {
  return (await (await apiFetch(httpUrl, '/api/v1/ledger')).json()) as GatewayLedger;
}

describe('exactly-once effect per sink', () => {
  it('stores exactly acked × items points when four clients publish to one source at full speed, many messages per millisecond, in and out of order', async () => {
    influxd = await startInfluxd();
    gw = await startTestGateway({ influxUrl: influxd.url });
    const base = Date.now() - 10_000;
    const clients = await Promise.all([0, 1, 2, 3].map((c) => connectClient(gw!.mqttUrl, { clientId: `same-source-${c}` })));
    const perClient = 1500;
    const acked = await Promise.all(
      clients.map((client, c) =>
        publishMany(client, perClient, 64, (i) => ({
          topic: topic('ble', 'ble-women'),
          // 20 messages per millisecond per client, all four clients on the same milliseconds; client 3 goes backwards (late slots)
          payload: {
            ts: c === 3 ? base + Math.floor((perClient - i) / 20) : base + Math.floor(i / 20),
            mid: `c${c}-${i}`,
            sightings: [0, 1, 2, 3, 4].map((k) => ({ id: IBEACON(i * 5 + k), rssi: -60 - k })),
          },
        })),
      ),
    );
    await Promise.all(clients.map((client) => client.endAsync()));
    const totalAcked = acked.reduce((a, b) => a + b, 0);
    expect(totalAcked).toBe(4 * perClient);
    await sinksCaughtUp(gw.httpUrl);
    // every acknowledged sighting is its own point: no two messages shared a (series, timestamp)
    expect(await count(gw.database, `SELECT count("rssi") FROM sighting WHERE "sensor"='ble-women'`)).toBe(totalAcked * 5);
    const sink = influxSink(await ledger(gw.httpUrl));
    expect(sink.ledger).toMatchObject({ delivered: totalAcked, pending: 0, balanced: true });
  });

  it('recognises a resend of the same mid after a kill -9 and restart of the gateway, and stores it once', async () => {
    const restartable = await RestartableInfluxd.create();
    cleanups.push(() => restartable.destroy());
    const gateway = await GatewayProcess.create(testBuild(), restartable.url);
    cleanups.push(() => gateway.destroy());
    await gateway.start();
    const { default: mqtt } = await import('mqtt');
    const sent: string[] = [];
    for (let round = 0; round < 3; round++) {
      const client = await mqtt.connectAsync(gateway.mqttUrl, { clientId: `resender-${round}`, reconnectPeriod: 0 });
      for (let i = 0; i < 20; i++) {
        const mid = `again-${round}-${i}`;
        await client.publishAsync('storeloop/demo-store/touchpoint/kiosk-1', JSON.stringify({ ts: Date.now() - 1000, mid, action: 'tap', label: mid }), {
          qos: 1,
        });
        sent.push(mid);
      }
      // acknowledged, then the gateway dies at once: the message index may not have flushed those mids
      await gateway.kill9();
      await client.endAsync(true);
      await gateway.start();
      const resender = await mqtt.connectAsync(gateway.mqttUrl, { clientId: `resender-${round}-b`, reconnectPeriod: 0 });
      for (const mid of sent) {
        await resender.publishAsync('storeloop/demo-store/touchpoint/kiosk-1', JSON.stringify({ ts: Date.now() - 1000, mid, action: 'tap', label: mid }), {
          qos: 1,
        });
      }
      await resender.endAsync();
      const run = await gateway.ledger();
      // every resend of this run is a duplicate: nothing logged twice
      expect(run.totals.states.duplicate).toBe(sent.length);
      expect(run.totals.states.logged).toBe(0);
    }
    const settled = await eventually(
      () => gateway.ledger(),
      (l) => influxSink(l).lag.records === 0,
      'the InfluxDB sink to catch up',
    );
    expect(influxSink(settled).ledger).toMatchObject({ logged: 60, delivered: 60, balanced: true });
    const series = await restartable.query('proof', 'SELECT "label" FROM interaction');
    const labels = (series[0]?.values ?? []).map((row) => String(row[1]));
    expect(labels.sort()).toEqual([...sent].sort());
  });
});

describe('personal references', () => {
  it('logs a touchpoint customer only as an opaque token the identity vault resolves, so erasure needs no log rewrite', async () => {
    influxd = await startInfluxd();
    gw = await startTestGateway({ influxUrl: influxd.url });
    const client = await connectClient(gw.mqttUrl, { clientId: 'identified' });
    await publishAcked(client, topic('touchpoint', 'kiosk-1'), { ts: Date.now(), mid: 'id-1', action: 'checkin', customer: 'CRM-4711' });
    await publishAcked(client, topic('touchpoint', 'kiosk-1'), { ts: Date.now(), mid: 'id-2', action: 'tap', customer: 'CRM-4711' });
    await client.endAsync();
    const records = await gw.gateway.eventLog.read(1, 10, 1 << 20);
    const tokens = records.map((r) => (r.message as { customerToken?: string }).customerToken);
    expect(tokens[0]).toMatch(/^ct_[A-Za-z0-9_-]{22}$/);
    expect(tokens[1]).toBe(tokens[0]); // one customer, one token: later sinks can link their records
    expect(JSON.stringify(records)).not.toContain('CRM-4711');
    const logDir = join(gw.config.state.dir, 'log');
    for (const file of (await readdir(logDir)).filter((f) => f.endsWith('.seg'))) {
      expect((await readFile(join(logDir, file))).includes('CRM-4711'), file).toBe(false);
    }
    expect(gw.gateway.customerTokens.resolve(tokens[0] as string)).toBe('CRM-4711');
    expect(gw.gateway.customerTokens.erase('CRM-4711')).toBe(true);
    expect(gw.gateway.customerTokens.resolve(tokens[0] as string)).toBeUndefined(); // the log's copies now point nowhere
  });
});

describe('sinks that are slow, failing or stuck', () => {
  it('hold back nobody but themselves: every publish is acknowledged and InfluxDB gets everything while one sink hangs and one fails; their lag is visible; detaching them frees the disk', async () => {
    influxd = await startInfluxd();
    const stuck = new StuckSink('stuck');
    const failing = new FailingSink('failing');
    gw = await startTestGateway({
      influxUrl: influxd.url,
      config: { eventLog: { segmentBytes: 16 * 1024, replayRetentionSeconds: 0 } },
      extraSinks: [
        { sink: stuck, options: { lagBudget: { seconds: 3600, bytes: 1024 ** 3 } } },
        { sink: failing, options: { retryMinMs: 10, retryMaxMs: 50, lagBudget: { seconds: 3600, bytes: 1024 ** 3 } } },
      ],
    });
    const client = await connectClient(gw.mqttUrl, { clientId: 'beside-stuck' });
    const acked = await publishMany(client, 600, 32, (i) => ({
      topic: topic('touchpoint', 'kiosk-1'),
      payload: { ts: Date.now(), mid: `s-${i}`, action: 'tap', label: `s-${i}` },
    }));
    await client.endAsync();
    expect(acked).toBe(600); // the PUBACKs never waited for the stuck sink
    await eventually(
      () => sinks(gw!.httpUrl),
      (all) => influxSink({ sinks: all }).lag.records === 0,
      'the InfluxDB sink to write everything',
    );
    expect(await count(gw.database, `SELECT count("count") FROM interaction WHERE "touchpoint"='kiosk-1'`)).toBe(600);

    const states = await eventually(
      () => sinks(gw!.httpUrl),
      (all) => all.find((s) => s.name === 'failing')?.health.state === 'failing',
      'the failing sink to report failing',
    );
    const stuckState = states.find((s) => s.name === 'stuck') as SinkState;
    const failingState = states.find((s) => s.name === 'failing') as SinkState;
    expect(stuckState.lag.records).toBe(600);
    expect(stuckState.lag.bytes).toBeGreaterThan(0);
    expect(failingState.lag.records).toBe(600);
    expect(failing.attempts).toBeGreaterThan(1); // retried with backoff, not given up
    expect(await metricValue(gw.httpUrl, 'storeloop_sink_lag_records', { sink: 'stuck' })).toBe(600);
    expect(await metricValue(gw.httpUrl, 'storeloop_sink_up', { sink: 'failing' })).toBe(0);
    expect(await metricValue(gw.httpUrl, 'storeloop_sink_up', { sink: 'influx' })).toBe(1);
    const logDir = join(gw.config.state.dir, 'log');
    const segmentsBefore = (await readdir(logDir)).filter((f) => f.endsWith('.seg')).length;
    const retainedBefore = (await ledger(gw.httpUrl)).log.retainedRecords;
    expect(retainedBefore).toBe(600); // kept for the two lagging sinks

    for (const name of ['stuck', 'failing']) {
      const res = await gw.api(`/api/v1/sinks/${name}`, { method: 'DELETE' });
      expect(res.status).toBe(200);
    }
    expect((await gw.api('/api/v1/sinks/nope', { method: 'DELETE' })).status).toBe(404);
    const after = await eventually(
      () => ledger(gw!.httpUrl),
      (l) => l.log.retainedRecords === 0,
      'the log to drop what only the detached sinks needed',
    );
    expect(after.sinks.map((s) => s.name)).toEqual(['influx', 'consent', 'experience']);
    expect(segmentsBefore).toBeGreaterThan(2);
    // the log drops the records at once; their segment files are removed right after (unlinked in the background)
    await eventually(
      async () => (await readdir(logDir)).filter((f) => f.endsWith('.seg')).length,
      (n) => n <= 1, // at most the segment being written
      'the segments of the dropped records to be removed',
    );
    expect((await readdir(join(logDir, 'sinks'))).sort()).toEqual(['consent.json', 'experience.json', 'influx.json']);
  });

  it('expires what a stuck sink has not consumed when it falls out of its lag budget, counted and alarmed, and never stops ingest when the log is full', async () => {
    influxd = await startInfluxd();
    const stuck = new StuckSink('crm-like');
    gw = await startTestGateway({
      influxUrl: influxd.url,
      // the hold stays at a few seconds: the InfluxDB sink (which does hold back ingest) makes its position durable
      // every 200 ms and may fall a quota behind for a moment on a loaded machine; only the stuck sink must never be waited for
      config: { eventLog: { quotaBytes: 96 * 1024, segmentBytes: 8 * 1024, replayRetentionSeconds: 0, backpressureHoldMs: 10_000 } },
      extraSinks: [{ sink: stuck, options: { lagBudget: { seconds: 3600, bytes: 1024 ** 3 } } }],
    });
    const client = await connectClient(gw.mqttUrl, { clientId: 'past-budget' });
    // far more than the quota: the stuck sink's backlog must give way, the devices must not
    const acked = await publishMany(client, 1500, 16, (i) => ({
      topic: topic('touchpoint', 'kiosk-1'),
      payload: { ts: Date.now(), mid: `b-${i}`, action: 'tap', label: `b-${i}-${'x'.repeat(64)}`.slice(0, 64) },
    }));
    await client.endAsync();
    expect(acked).toBe(1500);
    await sinksCaughtUpExcept(gw.httpUrl, 'crm-like');
    expect(await count(gw.database, `SELECT count("count") FROM interaction WHERE "touchpoint"='kiosk-1'`)).toBe(1500);
    const l = await ledger(gw.httpUrl);
    expect(l.totals.rejectedBy.backpressure ?? 0).toBe(0);
    const crm = l.sinks.find((s) => s.name === 'crm-like') as SinkState;
    expect(crm.ledger.expired).toBeGreaterThan(0);
    expect(crm.ledger.balanced).toBe(true);
    expect(crm.ledger.logged).toBe(crm.ledger.pending + crm.ledger.delivered + crm.ledger.expired + crm.ledger.dead_lettered + crm.ledger.filtered);
    expect(gw.logs().some((line) => String(line.msg).startsWith('SINK LAGGING'))).toBe(true);
    expect(await metricValue(gw.httpUrl, 'storeloop_sink_records_total', { sink: 'crm-like', outcome: 'expired' })).toBe(crm.ledger.expired);
  });

  it('expires by age: records older than the lag budget are given up for that sink only', async () => {
    influxd = await startInfluxd();
    const stuck = new StuckSink('short-budget');
    const recording = new RecordingSink('healthy');
    gw = await startTestGateway({
      influxUrl: influxd.url,
      extraSinks: [
        { sink: stuck, options: { lagBudget: { seconds: 1, bytes: 1024 ** 3 } } },
        { sink: recording, options: { lagBudget: { seconds: 1, bytes: 1024 ** 3 } } },
      ],
    });
    const client = await connectClient(gw.mqttUrl, { clientId: 'aging' });
    await publishMany(client, 50, 8, (i) => ({ topic: topic('touchpoint', 'kiosk-1'), payload: { ts: Date.now(), mid: `a-${i}`, action: 'tap' } }));
    await client.endAsync();
    const expired = await eventually(
      () => sinks(gw!.httpUrl),
      (all) => all.find((s) => s.name === 'short-budget')?.ledger.expired === 50,
      'the records to expire for the stuck sink',
    );
    expect(expired.find((s) => s.name === 'short-budget')?.ledger).toMatchObject({ expired: 50, pending: 0, delivered: 0, balanced: true });
    expect(expired.find((s) => s.name === 'healthy')?.ledger).toMatchObject({ delivered: 50, expired: 0 });
    expect([...recording.seen.values()].every((n) => n === 1)).toBe(true);
  });
});

describe('replay', () => {
  it('restores a time range wiped from InfluxDB exactly, from the retained log', async () => {
    influxd = await startInfluxd();
    gw = await startTestGateway({ influxUrl: influxd.url });
    const client = await connectClient(gw.mqttUrl, { clientId: 'replayed' });
    const sentAt = Date.now();
    const since = new Date(sentAt - 1000).toISOString();
    const eventBase = sentAt - 3_600_000; // event times an hour back; replay goes by receive time
    await publishMany(client, 300, 16, (i) => ({
      topic: topic('touchpoint', 'mirror-1'),
      payload: { ts: eventBase + Math.floor(i / 3), mid: `r-${i}`, action: 'try_on', label: `r-${i}` },
    }));
    await client.endAsync();
    await sinksCaughtUp(gw.httpUrl);
    const before = await influxd.query(gw.database, `SELECT "label" FROM interaction WHERE "touchpoint"='mirror-1'`, { epoch: 'ns' });
    expect(before[0]?.values).toHaveLength(300);

    await influxd.query(gw.database, `DELETE FROM interaction WHERE time >= ${eventBase}ms`);
    expect(await count(gw.database, `SELECT count("count") FROM interaction WHERE "touchpoint"='mirror-1'`)).toBe(0);

    const res = await gw.api('/api/v1/sinks/influx/replay', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ since }),
    });
    expect(res.status).toBe(202);
    const range = (await res.json()) as { from: number; until: number };
    expect(range.until - range.from + 1).toBeGreaterThanOrEqual(300);
    const done = await eventually(
      () => sinks(gw!.httpUrl),
      (all) => influxSink({ sinks: all }).replay === null && influxSink({ sinks: all }).lag.records === 0,
      'the replay to finish',
    );
    expect(influxSink({ sinks: done }).ledger).toMatchObject({ delivered: 300, balanced: true });
    expect(influxSink({ sinks: done }).ledger.replayed).toBeGreaterThanOrEqual(300);
    const after = await influxd.query(gw.database, `SELECT "label" FROM interaction WHERE "touchpoint"='mirror-1'`, { epoch: 'ns' });
    // the same points, the same nanosecond timestamps
    expect(after[0]?.values).toEqual(before[0]?.values);
  });
});

async function sinksCaughtUpExcept(httpUrl: string, except: string): Promise<void> {
  await eventually(
    () => sinks(httpUrl),
    (all) => all.filter((s) => s.name !== except).every((s) => s.lag.records === 0),
    `every sink but ${except} to catch up`,
  );
}
