/**
 * A tester's scenario played through the real gateway: the shipped `influx-outage` scenario stops a
 * real influxd in the middle of a seeded run and starts it again. The gateway keeps acknowledging into
 * its event log while InfluxDB is down (its InfluxDB sink reports itself failing), and once the
 * database is back the sink catches up: InfluxDB ends with exactly the points of the ground truth.
 */
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { DEMO_STORE, parseConfig } from '../config/index.js';
import { DEFAULT_SIMULATION_OPTIONS, loadScenario, runSimulation } from '../simulators/index.js';
import { metricValue, sinksCaughtUp, startTestGateway, type TestGateway } from './helpers/gateway.js';
import { eventually } from './helpers/lifecycle.js';
import { RestartableInfluxd } from './helpers/restartable-influxd.js';

const store = parseConfig({ stores: [DEMO_STORE] }).stores[0]!;

describe('scenario: InfluxDB outage through the gateway', () => {
  let influxd: RestartableInfluxd;
  let gw: TestGateway;
  beforeAll(async () => {
    influxd = await RestartableInfluxd.create();
    gw = await startTestGateway({ influxUrl: influxd.url });
  });
  afterAll(async () => {
    await gw?.stop();
    await influxd?.destroy();
  });

  it('loses nothing: the InfluxDB sink fails during the outage and catches up after it', async () => {
    const scenario = loadScenario(join(import.meta.dirname, '..', 'scenarios', 'influx-outage.yaml'));
    const phases: string[] = [];
    let acceptedWhileDown = 0;
    const truth = await runSimulation({
      ...DEFAULT_SIMULATION_OPTIONS,
      store,
      topicPrefix: 'storeloop',
      seed: 11,
      durationMs: 10 * 60_000,
      speed: 0,
      visitorsPerHour: 90,
      scenario,
      url: gw.mqttUrl,
      progress: false,
      influxOutage: async (_event, phase) => {
        phases.push(phase);
        if (phase === 'stop') {
          await influxd.stop();
          acceptedWhileDown = await metricValue(gw.httpUrl, 'storeloop_messages_accepted_total');
          return;
        }
        // before the database comes back: the gateway went on acknowledging, and its sink saw the outage
        await eventually(
          () => metricValue(gw.httpUrl, 'storeloop_sink_up', { sink: 'influx' }),
          (up) => up === 0,
          'the InfluxDB sink to report itself failing',
        );
        acceptedWhileDown = (await metricValue(gw.httpUrl, 'storeloop_messages_accepted_total')) - acceptedWhileDown;
        await influxd.start();
      },
    });
    expect(phases).toEqual(['stop', 'start']);
    expect(truth.scenario?.events).toEqual([{ type: 'influx_outage', from: truth.windowStart + 2 * 60_000, to: truth.windowStart + 7 * 60_000 }]);
    expect(acceptedWhileDown).toBeGreaterThan(50);

    await sinksCaughtUp(gw.httpUrl, 60_000);
    // resent copies (same mid) are dropped by the gateway's dedup: every other message is accepted
    expect(await metricValue(gw.httpUrl, 'storeloop_messages_accepted_total')).toBe(
      truth.publishedMessages - truth.published.duplicates - truth.expectedRejections.messages,
    );
    const count = async (measurement: string, field: string) =>
      Number((await influxd.query(gw.database, `SELECT count("${field}") FROM "${measurement}"`))[0]?.values[0]?.[1] ?? 0);
    expect(await count('sighting', 'rssi')).toBe(truth.published.points.sighting);
    expect(await count('interaction', 'count')).toBe(truth.published.points.interaction);
  });
});
