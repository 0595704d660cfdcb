/**
 * The edge agent against the real gateway (in-process) and a real influxd, over each transport the
 * agent offers (MQTT over TCP and over WebSocket): ingress events and sightings from a source land in
 * InfluxDB with their event time, the agent's status is stored, and a remote config published by an
 * operator through the gateway reaches the agent, which applies a valid one and refuses an invalid one.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import { eventually, startTestAgent } from './helpers/edge-agent.js';
import { IngressPoster } from './helpers/edge-poster.js';
import { ScriptedSource } from './helpers/edge-test-source.js';
import { connectClient, publishAcked, startTestGateway, type TestGateway } from './helpers/gateway.js';
import { startInfluxd, type TestInfluxd } from './helpers/influxd.js';

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

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
});

const IBEACON = 'ibeacon:f7826da6-4fa2-4e98-8024-bc5b71e0893e:100:7';

for (const transport of ['tcp', 'ws'] as const) {
  describe(`edge agent → gateway over ${transport}`, () => {
    it('stores ingress events and source sightings with their event time, and the agent status', async () => {
      const source = new ScriptedSource('ble-shoes');
      const agent = await startTestAgent({ gatewayUrl: transport === 'tcp' ? gw.mqttUrl : gw.wsUrl, deps: { sources: [{ block: 'ble', source }] } });
      cleanups.push(() => agent.stop());
      const poster = new IngressPoster(agent.ingressUrl, `gw-${transport}`);
      for (let i = 0; i < 12; i++) expect(await poster.postOne()).toBe(202);
      const ts = Date.now() - 60_000;
      source.emit({ kind: 'ble', sourceId: 'ble-shoes', payload: { ts, sightings: [{ id: IBEACON, rssi: -64, tx: -59 }] } });

      const labels = poster.acknowledged.filter((e) => e.kind === 'touchpoint');
      await eventually(
        async () =>
          (await influxd.query(gw.database, `SELECT "label" FROM interaction WHERE "label" =~ /^gw-${transport}-/`, { epoch: 'ms' }))[0]?.values ?? [],
        (rows) => rows.length === labels.length,
        'the touchpoints in InfluxDB',
      );
      const rows = (await influxd.query(gw.database, `SELECT "label" FROM interaction WHERE "label" =~ /^gw-${transport}-/`, { epoch: 'ms' }))[0]?.values ?? [];
      expect(new Map(rows.map((r) => [String(r[1]), Number(r[0])]))).toEqual(new Map(labels.map((e) => [e.key, e.ts])));
      const sightings = await eventually(
        async () =>
          (
            await influxd.query(gw.database, `SELECT "rssi", "visitor" FROM sighting WHERE "sensor"='ble-shoes' AND time >= ${ts}ms AND time < ${ts + 1}ms`, {
              epoch: 'ms',
            })
          )[0]?.values ?? [],
        (r) => r.length === 1,
        'the sighting in InfluxDB',
      );
      expect(sightings[0]).toEqual([ts, -64, IBEACON]);
      await eventually(
        async () => (await influxd.query(gw.database, `SELECT "queue_depth", "clock_synced" FROM agent WHERE "agent"='edge-1'`))[0]?.values.length ?? 0,
        (n) => n >= 1,
        'the agent status in InfluxDB',
      );
      await eventually(
        () => agent.agent.status().queue_depth,
        (d) => d === 0,
        'an empty queue',
      );
    });
  });
}

describe('remote config through the gateway', () => {
  it('reaches the agent retained; a valid one applies without a restart, an invalid one is refused and reported', async () => {
    const operator = await connectClient(gw.mqttUrl, { clientId: 'edge-operator' });
    cleanups.push(() => operator.endAsync());
    await publishAcked(
      operator,
      'storeloop/demo-store/config/edge-1',
      { rev: 'g1', queue: { shedRawAbovePct: 65 }, gateway: { replayRatePerS: 80 } },
      { retain: true },
    );
    // the agent starts after the config was published: the gateway retained it
    const agent = await startTestAgent({ gatewayUrl: gw.mqttUrl });
    cleanups.push(() => agent.stop());
    await eventually(
      () => agent.agent.status().detail ?? '',
      (d) => d.includes('config rev g1'),
      'the retained config applied',
    );
    expect((agent.agent.localStatus() as { settings: Record<string, unknown> }).settings).toMatchObject({ shedRawAbovePct: 65, replayRatePerS: 80 });

    const watcher = await connectClient(gw.mqttUrl, { clientId: 'edge-status-watcher' });
    cleanups.push(() => watcher.endAsync());
    const statuses: Array<{ state?: string; detail?: string }> = [];
    watcher.on('message', (_t, payload) => statuses.push(JSON.parse(payload.toString()) as { state?: string; detail?: string }));
    await watcher.subscribeAsync('storeloop/demo-store/status/edge-1', { qos: 1 });

    await publishAcked(operator, 'storeloop/demo-store/config/edge-1', { rev: 'g2', gateway: { inflightWindow: 0 } }, { retain: true });
    const refused = await eventually(
      () => statuses.filter((s) => s.detail?.includes('rev g2 refused')),
      (list) => list.length > 0,
      'the refusal in the status through the gateway',
    );
    expect(refused[0]?.state).toBe('degraded');
    expect(refused[0]?.detail).toMatch(/config rev g2 refused: gateway\.inflightWindow: /);
    expect((agent.agent.localStatus() as { settings: Record<string, unknown> }).settings).toMatchObject({
      shedRawAbovePct: 65,
      replayRatePerS: 80,
      inflightWindow: 32,
    });
    // back to the file's values; the gateway refuses an empty payload, so the operator sends {}
    await publishAcked(operator, 'storeloop/demo-store/config/edge-1', {}, { retain: true });
    await eventually(
      () => (agent.agent.localStatus() as { settings: { shedRawAbovePct: number } }).settings.shedRawAbovePct,
      (p) => p === 80,
      'the file values',
    );
  });
  it("is applied by the running agent only when an operator published it: a device's forged retained config never reaches it", async () => {
    // the agent and a kiosk of its store log in as themselves; only the test operator is an operator
    const agentLogin = gw.addIdentity({ role: 'agent', stores: ['demo-store'], source: 'edge-1' });
    const kioskLogin = gw.addIdentity({ role: 'device', stores: ['demo-store'], source: 'kiosk-1' });
    const agent = await startTestAgent({ gatewayUrl: gw.mqttAddress, config: { gateway: agentLogin } });
    cleanups.push(() => agent.stop());
    const operator = await connectClient(gw.mqttUrl, { clientId: 'edge-operator-2' });
    cleanups.push(() => operator.endAsync());
    await publishAcked(operator, 'storeloop/demo-store/config/edge-1', { rev: 'op-1' }, { retain: true });
    await eventually(
      () => agent.agent.status().detail ?? '',
      (d) => d.includes('config rev op-1'),
      "the operator's config applied",
    );

    const kiosk = await connectClient(gw.mqttAddress, { clientId: 'kiosk-forger', ...kioskLogin });
    cleanups.push(() => kiosk.endAsync());
    // what the probe did: the agent would refuse the real kiosk and keep its queue a minute only
    await publishAcked(
      kiosk,
      'storeloop/demo-store/config/edge-1',
      { rev: 'forged', queue: { maxAgeSeconds: 60 }, sources: { ingress: { sourceIds: [] } } },
      { retain: true },
    );
    expect(gw.gateway.rejections.list(5).find((r) => r.clientId === 'kiosk-forger')).toMatchObject({ reason: 'not_authorized' });
    // the operator's next config arrives; the forged one never did
    await publishAcked(operator, 'storeloop/demo-store/config/edge-1', { rev: 'op-2' }, { retain: true });
    await eventually(
      () => agent.agent.status().detail ?? '',
      (d) => d.includes('config rev op-2'),
      "the operator's next config applied",
    );
    expect(agent.logText()).not.toContain('forged');
    expect((agent.agent.localStatus() as { settings: Record<string, unknown> }).settings).not.toMatchObject({ maxAgeSeconds: 60 });
  });
});
