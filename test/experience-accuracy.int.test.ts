/**
 * The experience engine's accuracy harness (issue #12), end to end: a two-hour seeded simulation
 * published over MQTT to the gateway as shipped (its own process), the gateway killed with SIGKILL
 * in the middle and started again, every measurement through the event log into a real influxd,
 * then `storeloop evaluate` reads the engine's measurements back and compares them with the
 * simulator's truth, beside the raw-signal baselines.
 *
 * The fused footfall (the figure the metrics API shows analysts) is checked against the issue's ±5 %
 * with a margin for the run's one or two whole clock hours (the window ends when the test runs).
 *
 * Dwell is checked against the target (MdAPE ≤ 15 %) with the margin a two-hour run needs:
 * the engine's three-hour runs spread by 2.2 pp at one standard deviation from seed to seed (12.8 %
 * on average over seeds 301-320, 8.9-16.6 %), a two-hour run's by about 2.7 pp (an estimate: two
 * thirds of the visits, √1.5 times the spread), so 20 %. Zone accuracy is checked at what the engine
 * reaches with a margin, not at the 90 %, which is out of reach with this sensor set
 * (docs/analytics.md, "What misses the targets, and why"). A zone share near 85 % over a run's ~50
 * compared app visits varies by about ±6 pp from run to run (visits, not minutes, are the
 * independent units).
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

import { afterAll, describe, expect, it } from 'vitest';

import { DEMO_STORE, parseConfig } from '../config/index.js';
import { DEFAULT_SIMULATION_OPTIONS, runSimulation } from '../simulators/index.js';
import { metricValue } from './helpers/gateway.js';
import { GatewayProcess, type GatewayLedger } from './helpers/gateway-process.js';
import { eventually } from './helpers/lifecycle.js';
import { RestartableInfluxd } from './helpers/restartable-influxd.js';
import { testBuild } from './helpers/test-build.js';

/**
 * The demo store without its opening hours: the run ends now, whatever the hour, and the simulator's
 * flat arrival profile has visitors while the store is closed, whom the engine's staff rule
 * (gateway/experience/staff-days.ts) would take for staff.
 */
const { openingHours: _hours, ...ALWAYS_OPEN } = DEMO_STORE;
const store = parseConfig({ stores: [ALWAYS_OPEN] }).stores[0]!;
const cleanups: Array<() => Promise<unknown>> = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

type Figures = Record<string, number | null>;

describe('experience engine accuracy through the real gateway and InfluxDB', () => {
  it('makes visits, zone stays, exposures and occupancy of a two-hour run, across a kill -9, far better than the baselines', async () => {
    const influxd = await RestartableInfluxd.create();
    cleanups.push(() => influxd.destroy());
    const gateway = await GatewayProcess.create(testBuild(), influxd.url, { stores: [ALWAYS_OPEN] });
    cleanups.push(() => gateway.destroy());
    await gateway.start();
    const dir = await mkdtemp(join(tmpdir(), 'storeloop-accuracy-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const truthFile = join(dir, 'truth.json');

    const run = runSimulation({
      ...DEFAULT_SIMULATION_OPTIONS,
      store,
      topicPrefix: 'storeloop',
      seed: 5,
      durationMs: 2 * 3_600_000,
      speed: 0,
      now: Date.now(),
      url: gateway.mqttUrl,
      qos: 1,
      progress: false,
      truthFile,
    });
    // the crash lands once the engine has made visits final: its state and the log must carry the rest
    await eventually(
      () => metricValue(gateway.httpUrl, 'storeloop_experience_events_total', { type: 'visit' }),
      (n) => n >= 5,
      'the engine to make five visits final',
      120_000,
    );
    await gateway.kill9();
    await gateway.start();
    const truth = await run;
    const ledger = await eventually(
      () => gateway.ledger(),
      (l: GatewayLedger) => l.sinks.every((s) => s.lag.records === 0),
      'every sink to catch up',
      120_000,
    );
    expect(ledger.sinks.map((s) => s.name)).toEqual(['influx', 'consent', 'experience']);

    // recomputed after the crash, none written twice: each visit id once in InfluxDB
    const [visitIds] = await influxd.query('proof', `SELECT "visit_id" FROM "visit" WHERE "store" = '${store.id}'`);
    const ids = (visitIds?.values ?? []).map((row) => row[1]);
    expect(ids.length).toBeGreaterThan(20);
    expect(new Set(ids).size).toBe(ids.length);

    // wifi visits: each once across the crash, no pseudonym stored, and their count against the visitors
    // with a probing phone who entered and left 25 min before the end (±25 %: one two-hour seed; the
    // bench's three-hour seeds are within −6 to +9 %, docs/analytics.md#wifi-footfall)
    const [wifiRows] = await influxd.query('proof', `SELECT * FROM "wifi_visit" WHERE "store" = '${store.id}'`);
    const columns = wifiRows?.columns ?? [];
    expect(columns).not.toContain('visitor');
    const wifiIds = (wifiRows?.values ?? []).map((row) => row[columns.indexOf('visit_id')]);
    expect(new Set(wifiIds).size).toBe(wifiIds.length);
    const cut = truth.windowEnd - 25 * 60_000;
    const wifiMade = (wifiRows?.values ?? []).filter((row) => {
      const end = Number(row[columns.indexOf('end_ms')]);
      const start = end - Number(row[columns.indexOf('duration_s')]) * 1000;
      return start >= truth.windowStart && end <= cut;
    }).length;
    const phones = truth.visits.filter((v) => v.phone && v.enteredAt >= truth.windowStart && v.leftAt !== null && v.leftAt <= cut).length;
    process.stdout.write(`wifi visits, seed ${truth.seed}: ${wifiMade} against ${phones} visitors with a phone\n`);
    expect(Math.abs(wifiMade - phones)).toBeLessThanOrEqual(0.25 * phones);

    const env = { ...process.env, STORELOOP_INFLUX_URL: influxd.url, STORELOOP_INFLUX_DATABASE: 'proof' };
    const { stdout } = await promisify(execFile)(process.execPath, [testBuild().bin, 'evaluate', '--truth', truthFile, '--json'], { env, encoding: 'utf8' });
    const report = JSON.parse(stdout) as Figures & { engine: Figures; footfall: Figures };
    process.stdout.write(
      `experience accuracy, seed ${truth.seed}: ${JSON.stringify({ engine: report.engine, footfall: report.footfall, baseline: report })}\n`,
    );
    // the fused footfall the API shows, over the window's one or two whole clock hours (the window
    // ends when the test runs): the issue's ±5 % with the margin one hour of about 120 people needs
    // (its misses vary by about ±2.3 % at one standard deviation, the audit's ratio by ±1.6 %)
    expect(Math.abs(report.footfall['fused_footfall_error_pct'] as number)).toBeLessThanOrEqual(8);
    expect(report.footfall['fused_footfall_range_hit_pct']).not.toBeNull();
    // engagement of everyone, estimated from the app carriers the engine tracks: the 5 pp with
    // the margin one or two hours of about 60 exposures per hour need (a share near 25 % varies by
    // about ±4 pp at one standard deviation at that count)
    expect(report.footfall['engine_engagement_people_error_pp']).toBeLessThanOrEqual(10);
    const engine = report.engine;
    expect(engine['engine_zone_accuracy_pct']).toBeGreaterThanOrEqual(70);
    expect(engine['engine_zone_accuracy_pct']).toBeGreaterThanOrEqual((report['zone_accuracy_pct'] as number) + 10);
    expect(engine['engine_dwell_mdape_pct']).toBeLessThanOrEqual(20);
    expect(engine['engine_dwell_mdape_pct']).toBeLessThan(report['dwell_mdape_pct'] as number);
    expect(Math.abs(engine['engine_visits_error_pct'] as number)).toBeLessThanOrEqual(20);
    expect(engine['engine_engagement_error_pp']).toBeLessThanOrEqual(15);
    expect(engine['engine_occupancy_mae']).toBeLessThan(1);
    expect(engine['engine_capture_rate_error_pp']).not.toBeNull();
  }, 180_000); // a hang guard: two simulated hours, a kill -9 and a restart outlasted 60 s beside other work (1 December)
});
