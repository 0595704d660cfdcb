/**
 * Nothing acknowledged is ever lost (issue #4), proven with real processes: a real influxd that is
 * stopped and started, the gateway as its own process killed with SIGKILL, persistent-session
 * publishers that keep their own log of acknowledged message ids. Every message carries its mid as
 * the interaction `label`, so InfluxDB shows which acknowledged messages arrived, and how often.
 */
import { describe, expect, it } from 'vitest';

import { AckedPublisher } from './helpers/acked-publisher.js';
import { GatewayProcess, type GatewayLedger } from './helpers/gateway-process.js';
import { RestartableInfluxd } from './helpers/restartable-influxd.js';
import { eventually, useCleanups, usePrivateBuild } from './helpers/lifecycle.js';

const cleanups = useCleanups();

const privateBuild = usePrivateBuild();

async function labelsIn(influxd: RestartableInfluxd): Promise<Map<string, number>> {
  const series = await influxd.query('proof', 'SELECT "label", "count" FROM interaction', { epoch: 'ms' });
  const counts = new Map<string, number>();
  for (const row of series[0]?.values ?? []) counts.set(String(row[1]), (counts.get(String(row[1])) ?? 0) + 1);
  return counts;
}

function expectBalanced(ledger: GatewayLedger): void {
  const { received, recovered, states } = ledger.totals;
  expect(ledger.balanced, JSON.stringify(ledger.totals)).toBe(true);
  expect(Object.values(states).reduce((a, b) => a + b, 0)).toBe(received + recovered);
  expect(states.held).toBe(0);
  expect(states.spooled).toBe(0);
}

describe('durable acknowledgement', () => {
  it('keeps every PUBACKed message exactly once through repeated kill -9 of the gateway under load', async () => {
    const influxd = await RestartableInfluxd.create();
    cleanups.push(() => influxd.destroy());
    const gateway = await GatewayProcess.create(privateBuild.current, influxd.url);
    cleanups.push(() => gateway.destroy());
    await gateway.start();

    const publishers = ['kiosk-1', 'mirror-1', 'qr-shoes'].map(
      (touchpoint, i) => new AckedPublisher({ url: gateway.mqttUrl, clientId: `crash-pub-${i}`, touchpoint, count: 600, window: 20, intervalMs: 2 }),
    );
    cleanups.push(...publishers.map((p) => () => p.stop()));
    const running = Promise.all(publishers.map((p) => p.run()));

    for (let crash = 0; crash < 3; crash++) {
      const ackedBefore = publishers.reduce((n, p) => n + p.acked.size, 0);
      await eventually(async () => publishers.reduce((n, p) => n + p.acked.size, 0), (n) => n > ackedBefore + 150, 'acknowledgements before the crash');
      await new Promise((r) => setTimeout(r, Math.floor(Math.random() * 200)));
      await gateway.kill9();
      await gateway.start();
    }
    await running;

    const labels = await labelsIn(influxd);
    for (const publisher of publishers) {
      for (const mid of publisher.acked) expect(labels.get(mid), `acked ${mid}`).toBe(1);
    }
    expect([...labels.values()].every((n) => n === 1)).toBe(true);
    expect(labels.size).toBe(1800);
    expectBalanced(await eventually(() => gateway.ledger(), (l) => l.totals.states.held === 0 && l.totals.states.spooled === 0, 'a settled ledger'));
  });
});

describe('outage spool', () => {
  it('spools while influxd is stopped under load and drains everything, once, with its own event time', async () => {
    const influxd = await RestartableInfluxd.create();
    cleanups.push(() => influxd.destroy());
    const gateway = await GatewayProcess.create(privateBuild.current, influxd.url, { delivery: { directTimeoutMs: 300, probeIntervalMs: 200 } });
    cleanups.push(() => gateway.destroy());
    await gateway.start();

    const publisher = new AckedPublisher({ url: gateway.mqttUrl, clientId: 'outage-pub', count: 1000, window: 20, intervalMs: 2 });
    cleanups.push(() => publisher.stop());
    const running = publisher.run();
    await eventually(async () => publisher.acked.size, (n) => n > 200, 'traffic before the outage');

    await influxd.stop();
    const during = await eventually(
      async () => (await (await fetch(`${gateway.httpUrl}/readyz`)).json()) as { ready: boolean; delivery: GatewayLedger['delivery'] },
      (r) => r.delivery.mode === 'spooling' && r.delivery.spool.pendingMessages > 100,
      'the spool to fill during the outage',
    );
    expect(during.ready).toBe(false);
    const metrics = await (await fetch(`${gateway.httpUrl}/metrics`)).text();
    expect(metrics).toMatch(/storeloop_spool_pending_messages [1-9]/);
    expect(metrics).toMatch(/storeloop_delivery_spooling 1/);
    const ackedDuringOutage = publisher.acked.size;

    await influxd.start();
    await running;
    expect(publisher.acked.size).toBeGreaterThan(ackedDuringOutage);
    const ledger = await eventually(() => gateway.ledger(), (l) => l.totals.states.spooled === 0 && l.totals.states.held === 0, 'the spool to drain');
    expectBalanced(ledger);
    expect(ledger.totals.states.written).toBe(1000);

    const series = await influxd.query('proof', 'SELECT "label" FROM interaction', { epoch: 'ms' });
    const rows = series[0]?.values ?? [];
    expect(rows).toHaveLength(1000);
    for (const [time, label] of rows) expect(Number(time), String(label)).toBe(publisher.sentAt.get(String(label)));
  });

  it('stops acknowledging when a tiny spool is full, loses nothing acknowledged, and resumes when InfluxDB returns', async () => {
    const influxd = await RestartableInfluxd.create({ running: false });
    cleanups.push(() => influxd.destroy());
    const gateway = await GatewayProcess.create(privateBuild.current, influxd.url, {
      spool: { quotaBytes: 64 * 1024, segmentBytes: 16 * 1024 },
      delivery: { directTimeoutMs: 200, probeIntervalMs: 200, backpressureHoldMs: 300 },
    });
    cleanups.push(() => gateway.destroy());
    await gateway.start();

    const publisher = new AckedPublisher({ url: gateway.mqttUrl, clientId: 'quota-pub', count: 1200, window: 10 });
    cleanups.push(() => publisher.stop());
    const running = publisher.run();
    const full = await eventually(() => gateway.ledger(), (l) => l.delivery.spool.full && (l.totals.rejectedBy.backpressure ?? 0) > 0, 'the spool to fill and acks to stop');
    expect(full.totals.states.spooled).toBeGreaterThan(0);
    const ackedWhileFull = publisher.acked.size;
    expect(ackedWhileFull).toBeLessThan(1200);
    expect(gateway.log).toMatch(/SPOOL FULL/);

    await influxd.start();
    await running;
    const labels = await labelsIn(influxd);
    for (const mid of publisher.acked) expect(labels.get(mid), mid).toBe(1);
    expect(labels.size).toBe(1200);
    expectBalanced(await eventually(() => gateway.ledger(), (l) => l.totals.states.spooled === 0 && l.totals.states.held === 0, 'the spool to drain'));
  });
});

describe('partial failures', () => {
  it('dead-letters one poisoned line with its reason and writes the rest of its batch', async () => {
    const influxd = await RestartableInfluxd.create();
    cleanups.push(() => influxd.destroy());
    const gateway = await GatewayProcess.create(privateBuild.current, influxd.url);
    cleanups.push(() => gateway.destroy());
    await gateway.start();
    await eventually(async () => (await fetch(`${gateway.httpUrl}/readyz`)).status, (s) => s === 200, 'readiness');
    // the poison: `value` already exists as a string field in this shard, a float will conflict
    const res = await fetch(`${influxd.url}/write?db=proof&precision=ms`, { method: 'POST', body: `interaction,store=demo-store,zone=checkout,touchpoint=feedback-1,touchpoint_type=feedback,action=feedback value="five",count=1i ${Date.now() - 1000}` });
    expect(res.status).toBe(204);

    const good = new AckedPublisher({ url: gateway.mqttUrl, clientId: 'good-pub', count: 300, window: 50 });
    cleanups.push(() => good.stop());
    const goodRun = good.run();
    const { default: mqtt } = await import('mqtt');
    const poisoner = await mqtt.connectAsync(gateway.mqttUrl, { clientId: 'poisoner' });
    cleanups.push(() => poisoner.endAsync(true));
    await poisoner.publishAsync('storeloop/demo-store/touchpoint/feedback-1', JSON.stringify({ ts: Date.now(), mid: 'poison-1', action: 'feedback', value: 5 }), { qos: 1 });
    await goodRun;

    const letters = (await (await fetch(`${gateway.httpUrl}/api/v1/dead-letters`)).json()) as { total: number; deadLetters: Array<{ line: string; error: string; status: number }> };
    expect(letters.total, JSON.stringify(letters.deadLetters.slice(0, 3))).toBe(1);
    expect(letters.deadLetters[0]?.line).toContain('touchpoint=feedback-1');
    expect(letters.deadLetters[0]?.error).toMatch(/field type conflict/);
    expect(letters.deadLetters[0]?.status).toBe(400);
    const labels = await labelsIn(influxd);
    for (const mid of good.acked) expect(labels.get(mid), mid).toBe(1);
    const ledger = await gateway.ledger();
    expectBalanced(ledger);
    expect(ledger.totals.states.dead_lettered).toBe(1);
  });
});

describe('isolation and shutdown', () => {
  it('keeps connects, retained status, subscriptions and deliveries going while InfluxDB hangs and while the gateway spools', async () => {
    const influxd = await RestartableInfluxd.create();
    cleanups.push(() => influxd.destroy());
    const gateway = await GatewayProcess.create(privateBuild.current, influxd.url, { delivery: { directTimeoutMs: 1500, probeIntervalMs: 200 } });
    cleanups.push(() => gateway.destroy());
    await gateway.start();
    await eventually(async () => (await fetch(`${gateway.httpUrl}/readyz`)).status, (s) => s === 200, 'readiness');
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
    // QoS 0 is forwarded at once even while the write waits on the hung database
    const startedAt = Date.now();
    await agent.publishAsync('storeloop/demo-store/touchpoint/kiosk-1', JSON.stringify({ ts: Date.now(), mid: 'iso-q0', action: 'tap' }), { qos: 0 });
    await eventually(async () => seen.length, (n) => n >= 1, 'a QoS 0 delivery while InfluxDB hangs', 1000);
    expect(Date.now() - startedAt).toBeLessThan(1500);
    // a QoS 1 retained status is acknowledged once spooled (after directTimeoutMs), then delivered and retained
    await agent.publishAsync('storeloop/demo-store/status/edge-1', JSON.stringify({ ts: Date.now(), mid: 'iso-status', state: 'online', version: '9' }), { qos: 1, retain: true });
    await eventually(async () => seen.length, (n) => n >= 2, 'the status delivery');
    const late = await mqtt.connectAsync(gateway.mqttUrl, { clientId: 'iso-late' });
    cleanups.push(() => late.endAsync(true));
    const retained = new Promise<string>((resolve) => late.on('message', (_t, payload) => resolve(payload.toString())));
    await late.subscribeAsync('storeloop/demo-store/status/+', { qos: 1 });
    expect(JSON.parse(await retained)).toMatchObject({ state: 'online', version: '9' });
    const ledger = await gateway.ledger();
    expect(ledger.delivery.mode).toBe('spooling');

    influxd.resume();
    const settled = await eventually(() => gateway.ledger(), (l) => l.delivery.mode === 'direct' && l.totals.states.spooled === 0 && l.totals.states.held === 0, 'the drain after the hang');
    expectBalanced(settled);
    const agents = await influxd.query('proof', `SELECT "version" FROM agent WHERE "agent"='edge-1'`);
    expect(agents[0]?.values.map((v) => v[1])).toEqual(['9']);
  });

  it('stops within bounds on SIGTERM with a spool pending, and the next run drains it (recovered in its ledger)', async () => {
    const influxd = await RestartableInfluxd.create({ running: false });
    cleanups.push(() => influxd.destroy());
    const gateway = await GatewayProcess.create(privateBuild.current, influxd.url, { delivery: { directTimeoutMs: 200, probeIntervalMs: 200 } });
    cleanups.push(() => gateway.destroy());
    await gateway.start();
    const publisher = new AckedPublisher({ url: gateway.mqttUrl, clientId: 'term-pub', count: 200, window: 20 });
    cleanups.push(() => publisher.stop());
    await publisher.run();
    await publisher.stop();
    const before = await gateway.ledger();
    expect(before.totals.states.spooled).toBe(200);

    const stoppedAt = Date.now();
    expect(await gateway.stop()).toBe(0);
    expect(Date.now() - stoppedAt).toBeLessThan(15_000);

    await influxd.start();
    await gateway.start();
    const after = await eventually(() => gateway.ledger(), (l) => l.totals.recovered === 200 && l.totals.states.spooled === 0, 'the recovered spool to drain');
    expectBalanced(after);
    expect(after.totals.states.written).toBe(200);
    const labels = await labelsIn(influxd);
    for (const mid of publisher.acked) expect(labels.get(mid), mid).toBe(1);
    expect(labels.size).toBe(200);
  });
});
