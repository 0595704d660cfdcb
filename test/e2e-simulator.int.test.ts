/**
 * End to end: a seeded simulator run through the gateway leaves in InfluxDB exactly the points its
 * ground truth says it published — no loss, no duplicates — over TCP and over WebSocket. The truth
 * comes from the simulator's own model, not from gateway code.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { DEMO_STORE, parseConfig } from '../config/index.js';
import { DEFAULT_SIMULATION_OPTIONS, runSimulation } from '../simulators/index.js';
import { metricValue, sinksCaughtUp, startTestGateway, type TestGateway } from './helpers/gateway.js';
import { startInfluxd, type TestInfluxd } from './helpers/influxd.js';

let influxd: TestInfluxd;
beforeAll(async () => {
  influxd = await startInfluxd();
});
afterAll(async () => {
  await influxd?.stop();
});

const store = parseConfig({ stores: [DEMO_STORE] }).stores[0]!;

async function pointsIn(gw: TestGateway, measurement: string, field: string): Promise<number> {
  const series = await influxd.query(gw.database, `SELECT count("${field}") FROM "${measurement}"`);
  return Number(series[0]?.values[0]?.[1] ?? 0);
}

describe.each([
  { transport: 'TCP', url: (gw: TestGateway) => gw.mqttUrl, seed: 7 },
  { transport: 'WebSocket', url: (gw: TestGateway) => gw.wsUrl, seed: 8 },
])('simulator → gateway → InfluxDB over $transport', ({ url, seed }) => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway({ influxUrl: influxd.url });
  });
  afterAll(async () => {
    await gw?.stop();
  });

  it('stores exactly the points of the ground truth, each once', async () => {
    const truth = await runSimulation({
      ...DEFAULT_SIMULATION_OPTIONS,
      store,
      topicPrefix: 'storeloop',
      seed,
      durationMs: 20 * 60_000,
      speed: 0,
      visitorsPerHour: 90,
      url: url(gw),
      qos: 1,
      progress: false,
    });
    expect(truth.publishedMessages).toBeGreaterThan(100);
    // a QoS 1 PUBACK means the message is in the event log; the InfluxDB sink then writes it
    await sinksCaughtUp(gw.httpUrl);
    expect(await pointsIn(gw, 'sighting', 'rssi')).toBe(truth.published.points.sighting);
    expect(await pointsIn(gw, 'interaction', 'count')).toBe(truth.published.points.interaction);
    const telemetry = await influxd.query(gw.database, 'SELECT * FROM telemetry');
    expect(telemetry[0]?.values.length ?? 0).toBe(truth.published.points.telemetry);
    const agents = await influxd.query(gw.database, 'SELECT * FROM agent');
    expect(agents[0]?.values.length ?? 0).toBe(truth.published.points.agent);

    expect(await metricValue(gw.httpUrl, 'storeloop_messages_rejected_total')).toBe(0);
    // a resent copy (same mid) is dropped by the gateway's dedup: it makes no second point
    expect(await metricValue(gw.httpUrl, 'storeloop_messages_accepted_total')).toBe(truth.publishedMessages - truth.published.duplicates);
    expect(await metricValue(gw.httpUrl, 'storeloop_messages_duplicate_total')).toBe(truth.published.duplicates);
    for (const [kind, n] of Object.entries(truth.published.messages)) {
      expect(await metricValue(gw.httpUrl, 'storeloop_messages_accepted_total', { kind }), kind).toBe(n);
    }

    // footfall as the analyst queries it over the window (the counters' own stamps) equals the truth's
    const window = `time >= ${truth.windowStart}ms AND time <= ${truth.windowEnd}ms`;
    const footfall = await influxd.query(gw.database, `SELECT sum("in") FROM telemetry WHERE "event"='people_count' AND ${window}`);
    expect(Number(footfall[0]?.values[0]?.[1] ?? 0)).toBe(truth.footfall.reduce((sum, f) => sum + f.in, 0));
  });
});
