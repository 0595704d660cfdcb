/**
 * Store-and-forward, proven with real processes (issue #5): a real influxd, the gateway as its own
 * process, the edge agent as its own process (`storeloop edge`). Kiosks and devices POST to the
 * agent's ingress at a steady rate and the test keeps its own log of the events the ingress
 * acknowledged (2xx). The gateway is killed, the agent queues, the agent is killed with -9 with a
 * full-ish queue and started again, then the gateway returns: every acknowledged event is in
 * InfluxDB exactly once, with the event time it was posted with.
 */
import { describe, expect, it } from 'vitest';

import { eventually } from './helpers/edge-agent.js';
import { EdgeAgentProcess } from './helpers/edge-agent-process.js';
import { IngressPoster, type PostedEvent } from './helpers/edge-poster.js';
import { GatewayProcess, influxSink } from './helpers/gateway-process.js';
import { RestartableInfluxd } from './helpers/restartable-influxd.js';
import { useCleanups } from './helpers/lifecycle.js';
import { testBuild } from './helpers/test-build.js';

const cleanups = useCleanups();

/** Event key → event times (ms) found in InfluxDB: touchpoints by label, devices by `<device>@<ms>`. */
async function eventsIn(influxd: RestartableInfluxd): Promise<Map<string, number[]>> {
  const found = new Map<string, number[]>();
  const add = (key: string, time: number) => found.set(key, [...(found.get(key) ?? []), time]);
  const interactions = await influxd.query('proof', 'SELECT "label" FROM interaction', { epoch: 'ms' });
  for (const row of interactions[0]?.values ?? []) add(String(row[1]), Number(row[0]));
  const telemetry = await influxd.query('proof', 'SELECT "in", "sku", "temperature_c" FROM telemetry GROUP BY "device"', { epoch: 'ms' });
  for (const series of telemetry) for (const row of series.values) add(`${series.tags?.device ?? '?'}@${Number(row[0])}`, Number(row[0]));
  return found;
}

function missing(found: Map<string, number[]>, acknowledged: PostedEvent[]): number {
  return acknowledged.filter((e) => !found.has(e.key)).length;
}

describe('edge store-and-forward', () => {
  it('delivers every acknowledged event exactly once with its original time through a gateway outage and a kill -9 of the agent with a full queue', async () => {
    const influxd = await RestartableInfluxd.create();
    cleanups.push(() => influxd.destroy());
    const gateway = await GatewayProcess.create(testBuild(), influxd.url);
    cleanups.push(() => gateway.destroy());
    await gateway.start();
    await eventually(
      async () => (await fetch(`${gateway.httpUrl}/readyz`)).status,
      (s) => s === 200,
      'gateway readiness',
    );

    const agent = await EdgeAgentProcess.create(testBuild(), gateway.mqttUrl, {
      gateway: { url: gateway.mqttUrl, reconnectMinMs: 100, reconnectMaxMs: 400, replayRatePerS: 400 },
    });
    cleanups.push(() => agent.destroy());
    await agent.start();
    const poster = new IngressPoster(agent.ingressUrl, 'proof');
    cleanups.push(() => poster.stop());
    poster.start(8);

    // 1. live traffic flows through
    await eventually(
      () => poster.acknowledged.length,
      (n) => n >= 100,
      'live traffic',
    );
    await eventually(
      async () => missing(await eventsIn(influxd), poster.acknowledged.slice(0, 50)),
      (n) => n === 0,
      'live events in InfluxDB',
    );

    // 2. the gateway dies: the agent queues
    await gateway.kill9();
    const queued = await eventually(
      () => agent.localStatus(),
      (s) => !s.publisher.connected && s.queue.depth >= 300,
      'a queue filling during the outage',
      30_000,
    );
    expect(queued.status.queue_depth).toBeGreaterThanOrEqual(300);

    // 3. the agent dies with its queue full-ish (no flush, no goodbye), while kiosks keep posting
    await agent.kill9();
    const refusedBefore = poster.refused.get(0) ?? 0;
    await eventually(
      () => poster.refused.get(0) ?? 0,
      (n) => n > refusedBefore,
      'a post that no agent answers',
    );
    await agent.start();
    const restarted = await agent.localStatus();
    expect(restarted.queue.depth).toBeGreaterThanOrEqual(queued.queue.depth);
    await eventually(
      async () => (await agent.localStatus()).queue.depth,
      (d) => d >= restarted.queue.depth + 100,
      'more events queued after the restart',
    );
    await poster.stop();
    expect(poster.refused.get(0) ?? 0).toBeGreaterThan(0); // posts while the agent was dead: not acknowledged, not in the log

    // 4. the gateway returns: the backlog goes out oldest first
    await gateway.start();
    const acknowledged = poster.acknowledged;
    const found = await eventually(
      () => eventsIn(influxd),
      (f) => missing(f, acknowledged) === 0,
      'every acknowledged event in InfluxDB',
      60_000,
    );
    for (const event of acknowledged) {
      expect(found.get(event.key), event.key).toEqual([event.ts]);
    }
    // nothing twice, acknowledged or not (a post whose answer was lost in the kill may arrive, once)
    expect([...found.values()].every((times) => times.length === 1)).toBe(true);
    expect(found.size - acknowledged.length).toBeLessThanOrEqual(poster.refused.get(0) ?? 0);
    await eventually(
      async () => (await agent.localStatus()).queue.depth,
      (d) => d === 0,
      'an empty agent queue',
    );

    // the agent's status reached InfluxDB through the gateway, with the backlog it had on reconnect
    const statuses = await influxd.query('proof', `SELECT "queue_depth" FROM agent WHERE "agent"='edge-1'`);
    expect(Math.max(...(statuses[0]?.values ?? []).map((row) => Number(row[1])))).toBeGreaterThan(300);
    const ledger = await eventually(
      () => gateway.ledger(),
      (l) => l.totals.states.held === 0 && influxSink(l).lag.records === 0,
      'a settled gateway ledger',
    );
    expect(ledger.balanced).toBe(true);
    expect(ledger.totals.rejectedBy).toEqual({});
  });
});
