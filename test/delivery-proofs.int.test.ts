/**
 * Nothing acknowledged is ever lost (issues #4 and #8), proven with real processes: a real influxd
 * that is stopped, hung and started, the gateway as its own process killed with SIGKILL,
 * persistent-session publishers that keep their own log of acknowledged message ids. Every message
 * carries its mid as the interaction `label`, so InfluxDB shows which acknowledged messages arrived,
 * and how often. A PUBACK means the message is in the fsynced event log; the InfluxDB sink writes it
 * from there at its own pace.
 */
import { describe, expect, it } from 'vitest';

import { AckedPublisher } from './helpers/acked-publisher.js';
import { GatewayProcess, influxSink, type GatewayLedger } from './helpers/gateway-process.js';
import { RestartableInfluxd } from './helpers/restartable-influxd.js';
import { eventually, useCleanups } from './helpers/lifecycle.js';
import { testBuild } from './helpers/test-build.js';

const cleanups = useCleanups();

async function labelsIn(influxd: RestartableInfluxd): Promise<Map<string, number>> {
  const series = await influxd.query('proof', 'SELECT "label", "count" FROM interaction', { epoch: 'ms' });
  const counts = new Map<string, number>();
  for (const row of series[0]?.values ?? []) counts.set(String(row[1]), (counts.get(String(row[1])) ?? 0) + 1);
  return counts;
}

/** Both equations hold: received = the gateway's states, and the InfluxDB sink's logged = pending + settled. */
function expectBalanced(ledger: GatewayLedger): void {
  const { received, states } = ledger.totals;
  expect(ledger.balanced, JSON.stringify({ totals: ledger.totals, sinks: ledger.sinks })).toBe(true);
  expect(Object.values(states).reduce((a, b) => a + b, 0)).toBe(received);
  expect(states.held).toBe(0);
  const sink = influxSink(ledger).ledger;
  expect(sink.logged).toBe(sink.pending + sink.delivered + sink.dead_lettered + sink.filtered + sink.expired);
  expect(sink.pending).toBe(0);
}

/** The ledger once nothing is held and the InfluxDB sink has written everything the log holds. */
function settled(gateway: GatewayProcess, what = 'a settled ledger'): Promise<GatewayLedger> {
  return eventually(
    () => gateway.ledger(),
    (l) => l.totals.states.held === 0 && influxSink(l).lag.records === 0,
    what,
  );
}

describe('durable acknowledgement', () => {
  it('keeps every PUBACKed message exactly once through repeated kill -9 of the gateway under load', async () => {
    const influxd = await RestartableInfluxd.create();
    cleanups.push(() => influxd.destroy());
    const gateway = await GatewayProcess.create(testBuild(), influxd.url);
    cleanups.push(() => gateway.destroy());
    await gateway.start();

    const publishers = ['kiosk-1', 'mirror-1', 'qr-shoes'].map(
      (touchpoint, i) => new AckedPublisher({ url: gateway.mqttUrl, clientId: `crash-pub-${i}`, touchpoint, count: 600, window: 20, intervalMs: 2 }),
    );
    cleanups.push(...publishers.map((p) => () => p.stop()));
    const running = Promise.all(publishers.map((p) => p.run()));

    // each kill lands at another point of the load, chosen by a count of acknowledgements, not a timer
    for (const acksBeforeCrash of [150, 233, 317]) {
      const ackedBefore = publishers.reduce((n, p) => n + p.acked.size, 0);
      await eventually(
        async () => publishers.reduce((n, p) => n + p.acked.size, 0),
        (n) => n >= ackedBefore + acksBeforeCrash,
        `${acksBeforeCrash} acknowledgements before the crash`,
      );
      await gateway.kill9();
      await gateway.start();
    }
    await running;
    await settled(gateway);

    const labels = await labelsIn(influxd);
    for (const publisher of publishers) {
      for (const mid of publisher.acked) expect(labels.get(mid), `acked ${mid}`).toBe(1);
    }
    expect([...labels.values()].every((n) => n === 1)).toBe(true);
    expect(labels.size).toBe(1800);
    const ledger = await settled(gateway);
    expectBalanced(ledger);
    // the sink's ledger spans the restarts: every logged record delivered once, none logged twice
    expect(influxSink(ledger).ledger).toMatchObject({ logged: 1800, delivered: 1800 });
    // the gateway as shipped (compiled) encoded those batches in the sink's worker thread
    expect(await (await gateway.api('/metrics')).text()).toMatch(/^storeloop_influx_sink_encoder_worker 1$/m);
  });
});

describe('InfluxDB outages', () => {
  it('keeps acknowledging from the log while influxd is stopped under load, then writes everything once, with its own event time', async () => {
    const influxd = await RestartableInfluxd.create();
    cleanups.push(() => influxd.destroy());
    const gateway = await GatewayProcess.create(testBuild(), influxd.url, { sinks: { influx: { retryMaxMs: 300 } } });
    cleanups.push(() => gateway.destroy());
    await gateway.start();

    const publisher = new AckedPublisher({ url: gateway.mqttUrl, clientId: 'outage-pub', count: 1000, window: 20, intervalMs: 2 });
    cleanups.push(() => publisher.stop());
    const running = publisher.run();
    await eventually(
      async () => publisher.acked.size,
      (n) => n > 200,
      'traffic before the outage',
    );

    await influxd.stop();
    const during = await eventually(
      async () => (await (await fetch(`${gateway.httpUrl}/readyz`)).json()) as { ready: boolean; sinks: GatewayLedger['sinks'] },
      (r) => influxSink(r).lag.records > 100 && influxSink(r).health.state === 'failing',
      'the InfluxDB sink to lag during the outage',
    );
    expect(during.ready).toBe(false);
    const metrics = await (await gateway.api('/metrics')).text();
    expect(metrics).toMatch(/storeloop_sink_lag_records\{sink="influx"\} [1-9]/);
    expect(metrics).toMatch(/storeloop_sink_up\{sink="influx"\} 0/);
    const ackedDuringOutage = publisher.acked.size;

    // PUBACKs go on while InfluxDB is down: they wait for the log, not for InfluxDB
    await eventually(
      async () => publisher.acked.size,
      (n) => n > ackedDuringOutage + 100,
      'acknowledgements during the outage',
    );
    await influxd.start();
    await running;
    const ledger = await settled(gateway, 'the InfluxDB sink to catch up');
    expectBalanced(ledger);
    expect(influxSink(ledger).ledger.delivered).toBe(1000);

    const series = await influxd.query('proof', 'SELECT "label" FROM interaction', { epoch: 'ms' });
    const rows = series[0]?.values ?? [];
    expect(rows).toHaveLength(1000);
    for (const [time, label] of rows) expect(Number(time), String(label)).toBe(publisher.sentAt.get(String(label)));
  });

  it('stops acknowledging when a tiny log is full of what InfluxDB has not written, loses nothing acknowledged, and resumes when InfluxDB returns', async () => {
    const influxd = await RestartableInfluxd.create({ running: false });
    cleanups.push(() => influxd.destroy());
    const gateway = await GatewayProcess.create(testBuild(), influxd.url, {
      eventLog: { quotaBytes: 64 * 1024, segmentBytes: 16 * 1024, backpressureHoldMs: 300 },
      sinks: { influx: { retryMaxMs: 300 } },
    });
    cleanups.push(() => gateway.destroy());
    await gateway.start();

    const publisher = new AckedPublisher({ url: gateway.mqttUrl, clientId: 'quota-pub', count: 1200, window: 10 });
    cleanups.push(() => publisher.stop());
    const running = publisher.run();
    const full = await eventually(
      () => gateway.ledger(),
      (l) => l.log.full && (l.totals.rejectedBy.backpressure ?? 0) > 0,
      'the log to fill and acks to stop',
    );
    expect(full.totals.states.logged).toBeGreaterThan(0);
    expect(full.log.unconsumedBytes).toBeLessThanOrEqual(64 * 1024);
    const ackedWhileFull = publisher.acked.size;
    expect(ackedWhileFull).toBeLessThan(1200);
    expect(gateway.log).toMatch(/LOG FULL/);

    await influxd.start();
    await running;
    await settled(gateway, 'the InfluxDB sink to catch up');
    const labels = await labelsIn(influxd);
    for (const mid of publisher.acked) expect(labels.get(mid), mid).toBe(1);
    expect(labels.size).toBe(1200);
    expectBalanced(await gateway.ledger());
  });
});

describe('partial failures', () => {
  it('dead-letters one poisoned line with its reason and writes the rest of its batch', async () => {
    const influxd = await RestartableInfluxd.create();
    cleanups.push(() => influxd.destroy());
    const gateway = await GatewayProcess.create(testBuild(), influxd.url);
    cleanups.push(() => gateway.destroy());
    await gateway.start();
    await eventually(
      async () => (await fetch(`${gateway.httpUrl}/readyz`)).status,
      (s) => s === 200,
      'readiness',
    );
    // the poison: `value` already exists as a string field in this shard, a float will conflict
    const res = await fetch(`${influxd.url}/write?db=proof&precision=ms`, {
      method: 'POST',
      body: `interaction,store=demo-store,zone=checkout,touchpoint=feedback-1,touchpoint_type=feedback,action=feedback value="five",count=1i ${Date.now() - 1000}`,
    });
    expect(res.status).toBe(204);

    const good = new AckedPublisher({ url: gateway.mqttUrl, clientId: 'good-pub', count: 300, window: 50 });
    cleanups.push(() => good.stop());
    const goodRun = good.run();
    const { default: mqtt } = await import('mqtt');
    const poisoner = await mqtt.connectAsync(gateway.mqttUrl, { clientId: 'poisoner' });
    cleanups.push(() => poisoner.endAsync(true));
    await poisoner.publishAsync(
      'storeloop/demo-store/touchpoint/feedback-1',
      JSON.stringify({ ts: Date.now(), mid: 'poison-1', action: 'feedback', value: 5 }),
      { qos: 1 },
    );
    await goodRun;
    await settled(gateway);

    const letters = (await (await gateway.api('/api/v1/dead-letters')).json()) as {
      total: number;
      deadLetters: Array<{ line: string; error: string; status: number }>;
    };
    expect(letters.total, JSON.stringify(letters.deadLetters.slice(0, 3))).toBe(1);
    expect(letters.deadLetters[0]?.line).toContain('touchpoint=feedback-1');
    expect(letters.deadLetters[0]?.error).toMatch(/field type conflict/);
    expect(letters.deadLetters[0]?.status).toBe(400);
    const labels = await labelsIn(influxd);
    for (const mid of good.acked) expect(labels.get(mid), mid).toBe(1);
    const ledger = await gateway.ledger();
    expectBalanced(ledger);
    expect(influxSink(ledger).ledger).toMatchObject({ dead_lettered: 1, delivered: 300 });
  });
});

describe('isolation and shutdown', () => {
  it('keeps connects, retained status, subscriptions, deliveries and PUBACKs going while InfluxDB hangs', async () => {
    const influxd = await RestartableInfluxd.create();
    cleanups.push(() => influxd.destroy());
    const gateway = await GatewayProcess.create(testBuild(), influxd.url, { sinks: { influx: { retryMaxMs: 300 } } });
    cleanups.push(() => gateway.destroy());
    await gateway.start();
    await eventually(
      async () => (await fetch(`${gateway.httpUrl}/readyz`)).status,
      (s) => s === 200,
      'readiness',
    );
    const { default: mqtt } = await import('mqtt');

    influxd.pause(); // a hung database: TCP accepts, nothing answers
    cleanups.push(async () => influxd.resume());
    const watcher = await mqtt.connectAsync(gateway.mqttUrl, { clientId: 'iso-watcher' });
    cleanups.push(() => watcher.endAsync(true));
    const seen: string[] = [];
    watcher.on('message', (topic) => seen.push(topic));
    await watcher.subscribeAsync('storeloop/demo-store/#', { qos: 1 });
    const agent = await mqtt.connectAsync(gateway.mqttUrl, { clientId: 'iso-agent' });
    cleanups.push(() => agent.endAsync(true));
    await agent.publishAsync('storeloop/demo-store/touchpoint/kiosk-1', JSON.stringify({ ts: Date.now(), mid: 'iso-q0', action: 'tap' }), { qos: 0 });
    await eventually(
      async () => seen.length,
      (n) => n >= 1,
      'a QoS 0 delivery while InfluxDB hangs',
    );
    // a QoS 1 retained status is acknowledged once logged, delivered and retained, while InfluxDB hangs
    await agent.publishAsync('storeloop/demo-store/status/edge-1', JSON.stringify({ ts: Date.now(), mid: 'iso-status', state: 'online', version: '9' }), {
      qos: 1,
      retain: true,
    });
    await eventually(
      async () => seen.length,
      (n) => n >= 2,
      'the status delivery',
    );
    const late = await mqtt.connectAsync(gateway.mqttUrl, { clientId: 'iso-late' });
    cleanups.push(() => late.endAsync(true));
    const retained = new Promise<string>((resolve) => late.on('message', (_t, payload) => resolve(payload.toString())));
    await late.subscribeAsync('storeloop/demo-store/status/+', { qos: 1 });
    expect(JSON.parse(await retained)).toMatchObject({ state: 'online', version: '9' });
    const ledger = await gateway.ledger();
    expect(influxSink(ledger).lag.records).toBeGreaterThanOrEqual(2); // the hung write holds the sink, nothing else

    influxd.resume();
    expectBalanced(await settled(gateway, 'the InfluxDB sink after the hang'));
    const agents = await influxd.query('proof', `SELECT "version" FROM agent WHERE "agent"='edge-1'`);
    expect(agents[0]?.values.map((v) => v[1])).toEqual(['9']);
  });

  it('stops within bounds on SIGTERM with records InfluxDB has not written, and the next run writes them', async () => {
    const influxd = await RestartableInfluxd.create({ running: false });
    cleanups.push(() => influxd.destroy());
    const gateway = await GatewayProcess.create(testBuild(), influxd.url, { sinks: { influx: { retryMaxMs: 300 } } });
    cleanups.push(() => gateway.destroy());
    await gateway.start();
    const publisher = new AckedPublisher({ url: gateway.mqttUrl, clientId: 'term-pub', count: 200, window: 20 });
    cleanups.push(() => publisher.stop());
    await publisher.run();
    await publisher.stop();
    const before = await gateway.ledger();
    expect(before.totals.states.logged).toBe(200);
    expect(influxSink(before).ledger.pending).toBe(200);

    const stoppedAt = Date.now();
    expect(await gateway.stop()).toBe(0);
    expect(Date.now() - stoppedAt).toBeLessThan(15_000);

    await influxd.start();
    await gateway.start();
    const after = await settled(gateway, 'the InfluxDB sink to write what the last run logged');
    expectBalanced(after);
    expect(after.totals.received).toBe(0); // this run received nothing: the records came from the log
    expect(influxSink(after).ledger).toMatchObject({ logged: 200, delivered: 200 });
    const labels = await labelsIn(influxd);
    for (const mid of publisher.acked) expect(labels.get(mid), mid).toBe(1);
    expect(labels.size).toBe(200);
  });
});
