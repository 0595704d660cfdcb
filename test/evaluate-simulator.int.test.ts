/**
 * `storeloop evaluate` end to end: a short seeded simulation through a real gateway into a real
 * influxd, then the built CLI reads the run's raw signals back and prints every figure of the
 * baselines against the run's ground truth; the same seed and start give a byte-identical truth.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { DEMO_STORE, parseConfig } from '../config/index.js';
import { DEFINITIONS } from '../evaluation/evaluate.js';
import { ENGAGEMENT_DEFINITIONS } from '../evaluation/engagement-figures.js';
import { FOOTFALL_DEFINITIONS } from '../evaluation/footfall-figures.js';
import { WIFI_DEFINITIONS } from '../evaluation/wifi-figures.js';
import { buildSimulation, DEFAULT_SIMULATION_OPTIONS, runSimulation } from '../simulators/index.js';
import { sinksCaughtUp, startTestGateway, type TestGateway } from './helpers/gateway.js';
import { startInfluxd, type TestInfluxd } from './helpers/influxd.js';
import { testBuild } from './helpers/test-build.js';

const BIN = testBuild().bin;
const store = parseConfig({ stores: [DEMO_STORE] }).stores[0]!;

let influxd: TestInfluxd;
let gw: TestGateway;
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'storeloop-evaluate-'));
  influxd = await startInfluxd();
  gw = await startTestGateway({ influxUrl: influxd.url });
});
afterAll(async () => {
  await gw?.stop();
  await influxd?.stop();
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

async function evaluateCli(args: string[]): Promise<string> {
  // the demo config (the demo store), its InfluxDB reached through the env overrides as the gateway's would be
  const env = { ...process.env, STORELOOP_INFLUX_URL: influxd.url, STORELOOP_INFLUX_DATABASE: gw.database };
  const { stdout } = await promisify(execFile)(process.execPath, [BIN, 'evaluate', ...args], { env, encoding: 'utf8' });
  return stdout;
}

describe('storeloop evaluate on a simulator run', () => {
  it('prints every figure of the baselines, as text and as JSON', async () => {
    const truthFile = join(dir, 'truth.json');
    const options = {
      ...DEFAULT_SIMULATION_OPTIONS,
      store,
      topicPrefix: 'storeloop',
      seed: 7,
      durationMs: 30 * 60_000,
      speed: 0,
      visitorsPerHour: 120,
      now: Date.now(),
    };
    const truth = await runSimulation({ ...options, url: gw.mqttUrl, qos: 1, progress: false, truthFile });
    expect(truth.visits.filter((v) => v.app).length).toBeGreaterThan(3);
    // the same seed and start: byte-identical truth, built without publishing
    expect(`${JSON.stringify(buildSimulation(options).truth, null, 2)}\n`).toBe(await readFile(truthFile, 'utf8'));
    await sinksCaughtUp(gw.httpUrl);

    const text = await evaluateCli(['--truth', truthFile]);
    process.stdout.write(text);
    for (const definition of Object.values(DEFINITIONS)) expect(text).toContain(definition);
    // the people figures as the metrics API answers them (n/a with its reason when the half hour holds no whole clock hour)
    expect(text).toContain("people as analysts read them: the metrics API's engagement of everyone, fused footfall, occupancy of people and wifi footfall");
    for (const definition of [...Object.values(FOOTFALL_DEFINITIONS), ...Object.values(ENGAGEMENT_DEFINITIONS), ...Object.values(WIFI_DEFINITIONS)]) {
      expect(text).toContain(definition);
    }
    for (const label of [
      'footfall error: ',
      'zone accuracy, app carriers: ',
      'dwell error (median absolute): ',
      'engagement error: ',
      'capture rate error: ',
    ]) {
      expect(text).toMatch(new RegExp(`${label.replace(/[()]/g, '\\$&')}-?\\d+\\.\\d (%|pp)`));
    }
    // the truth side is read from the truth file: its minutes, its non-passing stays and its exposures
    const minutesOf = (vs: typeof truth.visits) => vs.reduce((sum, v) => sum + v.minutes.zones.filter((z) => z !== null).length, 0);
    expect(text).toContain(`of ${minutesOf(truth.visits.filter((v) => v.app))} visitor-minutes right`);
    expect(text).toContain(`of ${minutesOf(truth.visits)} visitor-minutes right`);
    const pairs = new Set(truth.exposures.map((e) => `${e.touchpoint} ${e.visitor}`));
    const engaged = new Set(truth.exposures.filter((e) => e.interacted).map((e) => `${e.touchpoint} ${e.visitor}`));
    expect(text).toContain(`truth ${((engaged.size / pairs.size) * 100).toFixed(1)} % (${engaged.size}/${pairs.size})`);

    const json = JSON.parse(await evaluateCli(['--truth', truthFile, '--json'])) as Record<string, unknown>;
    expect(json['seed']).toBe(7);
    for (const key of ['footfall_error_pct', 'zone_accuracy_pct', 'zone_accuracy_all_pct', 'dwell_mdape_pct', 'engagement_error_pp', 'capture_rate_error_pp']) {
      expect(typeof json[key], key).toBe('number');
    }
    // the counter under-counts groups and counts staff: its error is exactly what the truth says it reported
    // against the customers who truly entered, the staff passages included in what it reported
    const door = truth.footfall.filter((f) => f.zone === null || truth.floorPlan.entrances.includes(f.zone));
    const reported = door.reduce((sum, f) => sum + f.in, 0);
    const entered = door.reduce((sum, f) => sum + f.trueIn, 0);
    const staffIn = door.reduce((sum, f) => sum + f.staffIn, 0);
    expect(entered).toBe(truth.visits.filter((v) => v.enteredAt <= truth.windowEnd).length);
    expect(reported - staffIn).toBeLessThanOrEqual(entered); // customers: only ever missed, never invented
    expect(json['footfall_error_pct']).toBeCloseTo(((reported - entered) / entered) * 100, 1);
    // the capture rate: the truth's own, and the baseline's error a share in pp
    expect(truth.captureRate?.entered).toBe(truth.visits.filter((v) => v.enteredAt > truth.windowStart && v.enteredAt <= truth.windowEnd).length);
    expect(truth.captureRate?.passersBy).toBe(truth.passersBy?.length);
    expect(json['capture_rate_error_pp']).toBeGreaterThanOrEqual(0);
    expect(json['capture_rate_error_pp']).toBeLessThanOrEqual(100);
    // the strongest scanner places app carriers better than nothing, far from perfect
    expect(json['zone_accuracy_pct']).toBeGreaterThan(10);
    expect(json['zone_accuracy_pct']).toBeLessThan(100);
  });
});
