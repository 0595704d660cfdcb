/**
 * A gateway as shipped (in process) fed by a seeded simulation of the demo store over a fixed window,
 * into a real influxd, until the experience engine's events of the window are in InfluxDB: every
 * sensor reports once more past the window, so every visit of it becomes final. For the tests that
 * read what an analyst reads (the dashboards, the Grafana queries).
 */
import type { MqttClient } from 'mqtt';

import { DEMO_STORE, parseConfig, type StoreConfig } from '../../config/index.js';
import { buildTopic } from '../../protocol/index.js';
import { DEFAULT_SIMULATION_OPTIONS, runSimulation } from '../../simulators/index.js';
import { connectClient, metricValue, publishAcked, sinksCaughtUp, startTestGateway, type TestGateway } from './gateway.js';
import type { TestInfluxd } from './influxd.js';
import { eventually } from './lifecycle.js';

const MIN = 60_000;

export const DEMO = parseConfig({ stores: [DEMO_STORE] }).stores[0]!;

/** The measurements the experience engine writes. */
export const DERIVED_MEASUREMENTS = ['visit', 'zone_stay', 'exposure', 'passer_by', 'occupancy', 'wifi_visit'];

export interface SimulatedStore {
  gw: TestGateway;
  /** The simulated window, epoch ms. */
  startMs: number;
  endMs: number;
  /** The sensors' last reports, past the window. */
  tailMs: number;
}

/**
 * `endMs`: the window's end, a fixed instant so every run publishes the same messages (the gateway
 * accepts event times that old); `config`: more of the gateway's config (stores besides the demo store…).
 */
export async function startSimulatedStore(
  influxd: TestInfluxd,
  options: { seed: number; endMs: number; durationMs: number; config?: Record<string, unknown> },
): Promise<SimulatedStore> {
  const { endMs, durationMs } = options;
  // past the 15 minutes unheard and the next 5-minute boundary, with a sensor clock's few minutes ahead
  const tailMs = endMs + 25 * MIN;
  const raw = options.config ?? {};
  const gw = await startTestGateway({
    influxUrl: influxd.url,
    config: { ...raw, ingest: { maxPastSeconds: 20 * 365 * 86_400, ...((raw.ingest as object | undefined) ?? {}) } },
  });
  try {
    await runSimulation({
      ...DEFAULT_SIMULATION_OPTIONS,
      store: DEMO,
      topicPrefix: 'storeloop',
      seed: options.seed,
      durationMs,
      speed: 0,
      now: endMs,
      url: gw.mqttUrl,
      qos: 1,
      progress: false,
    });
    await reportPastTheWindow(gw, DEMO, tailMs);
    await eventually(
      () => metricValue(gw.httpUrl, 'storeloop_experience_watermark_seconds'),
      (s) => s >= tailMs / 1000,
      'the engine to pass the tail',
      60_000,
    );
    await sinksCaughtUp(gw.httpUrl, 60_000);
    await eventually(
      () => pointCounts(influxd, gw, DEMO.id, DERIVED_MEASUREMENTS),
      (counts) => counts.every((n) => n > 0),
      `the engine's ${DERIVED_MEASUREMENTS.join(', ')} points in InfluxDB`,
      30_000,
    );
  } catch (err) {
    await gw.stop();
    throw err;
  }
  return { gw, startMs: endMs - durationMs, endMs, tailMs };
}

/** One empty report of every sensor stamped `atMs`, as an edge keeps sending after the window. */
async function reportPastTheWindow(gateway: TestGateway, store: StoreConfig, atMs: number): Promise<void> {
  const client: MqttClient = await connectClient(gateway.mqttUrl);
  try {
    for (const s of store.sensors) {
      const mid = `${s.id}-tail`;
      const payload = s.type === 'ble' ? { v: 1, mid, ts: atMs, sightings: [] } : { v: 1, mid, ts: atMs, observations: [] };
      await publishAcked(client, buildTopic('storeloop', { storeId: store.id, kind: s.type, sourceId: s.id }), payload);
    }
  } finally {
    await client.endAsync();
  }
}

export async function pointCounts(influxd: TestInfluxd, gw: TestGateway, storeId: string, measurements: string[]): Promise<number[]> {
  return Promise.all(
    measurements.map(async (m) => {
      const [series] = await influxd.query(gw.database, `SELECT COUNT("params") FROM "${m}" WHERE "store" = '${storeId}'`);
      return Number(series?.values[0]?.[1] ?? 0);
    }),
  );
}
