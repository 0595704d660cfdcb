/**
 * End to end: a seeded simulator run through the gateway leaves in InfluxDB exactly the points its
 * ground truth says it published, over TCP and over WebSocket, with the default delivery effects (lost
 * messages never counted, resent copies dropped by the mid dedup) and with heavier ones: an uplink
 * outage replayed late, a clock skewed past the gateway's maxFutureSeconds. The truth comes from the
 * simulator's own model, not from gateway code.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { DEMO_STORE, parseConfig } from '../config/index.js';
import { DEFAULT_SIMULATION_OPTIONS, runSimulation, type SimulationOptions } from '../simulators/index.js';
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

/** Heavier delivery effects than the defaults: every kind of fault at least once. */
const FAULTY: Partial<SimulationOptions> = {
  delivery: { ...DEFAULT_SIMULATION_OPTIONS.delivery, lossRate: 0.02, duplicateRate: 0.05, stallShare: 0.02 },
  sourceFaults: [
    { kind: 'offline', sourceIds: ['edge-1'], from: 300_000, to: 420_000, replay: true },
    { kind: 'offline', sourceIds: ['wifi-back'], from: 500_000, to: 560_000, replay: false },
    // 20 min ahead ten minutes into a 20 min window: 10 min ahead of the gateway's clock when it goes out
    { kind: 'clock_skew', sourceIds: ['ble-men'], from: 600_000, to: 660_000, offsetMs: 1_200_000 },
  ],
};

describe.each([
  { transport: 'TCP', url: (gw: TestGateway) => gw.mqttUrl, seed: 7, faults: {} },
  { transport: 'WebSocket', url: (gw: TestGateway) => gw.wsUrl, seed: 8, faults: {} },
  { transport: 'TCP, with faults', url: (gw: TestGateway) => gw.mqttUrl, seed: 9, faults: FAULTY },
])('simulator → gateway → InfluxDB over $transport', ({ url, seed, faults }) => {
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
      ...faults,
    });
    expect(truth.publishedMessages).toBeGreaterThan(100);
    if (faults === FAULTY) {
      expect(truth.published.duplicates).toBeGreaterThan(0);
      expect(truth.delivery.replayed).toBeGreaterThan(0);
      expect(truth.expectedRejections.byReason.ts_in_future).toBeGreaterThan(0);
    }
    // a QoS 1 PUBACK means the message is in the event log; the InfluxDB sink then writes it
    await sinksCaughtUp(gw.httpUrl);
    expect(await pointsIn(gw, 'sighting', 'rssi')).toBe(truth.published.points.sighting);
    expect(await pointsIn(gw, 'interaction', 'count')).toBe(truth.published.points.interaction);
    expect(await pointsIn(gw, 'consent_choice', 'count')).toBe(truth.published.points.consent_choice);
    const telemetry = await influxd.query(gw.database, 'SELECT * FROM telemetry');
    expect(telemetry[0]?.values.length ?? 0).toBe(truth.published.points.telemetry);
    const agents = await influxd.query(gw.database, 'SELECT * FROM agent');
    expect(agents[0]?.values.length ?? 0).toBe(truth.published.points.agent);

    expect(await metricValue(gw.httpUrl, 'storeloop_messages_rejected_total')).toBe(truth.expectedRejections.messages);
    // a resent copy (same mid) is dropped by the gateway's dedup: it makes no second point
    expect(await metricValue(gw.httpUrl, 'storeloop_messages_accepted_total')).toBe(
      truth.publishedMessages - truth.published.duplicates - truth.expectedRejections.messages,
    );
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
