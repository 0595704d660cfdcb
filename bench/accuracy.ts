/**
 * `npm run accuracy`: the evaluation's figures over several seeds. One throwaway influxd and one
 * gateway (in this process, as the demo runs it); for each seed a simulation is published as fast as
 * possible into its own database, then `storeloop evaluate`'s figures are computed from what InfluxDB
 * holds against the run's truth. Prints a table of each seed with the mean, min and max, and the
 * whole result as JSON with `--json FILE`. The figures docs/simulator.md reports come from here.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { Command } from 'commander';

import { parseConfig } from '../config/index.js';
import { evaluate, evaluationJson, type Evaluation } from '../evaluation/evaluate.js';
import { readSignals } from '../evaluation/signals.js';
import { Gateway } from '../gateway/gateway.js';
import { InfluxQuery } from '../gateway/influx/influx-query.js';
import { createLogger } from '../lib/logger.js';
import { DEFAULT_SIMULATION_OPTIONS, loadScenario, parseDuration, runSimulation } from '../simulators/index.js';
import { ensureInfluxd } from '../devtools/ensure-program.js';
import { freePort } from '../devtools/free-port.js';
import { startLocalInfluxd } from '../devtools/local-influxd.js';
import { formatTable, parseEnd, parseSeeds } from './accuracy-table.js';

interface AccuracyOptions {
  seeds: string;
  duration: string;
  visitorsPerHour: string;
  scenario?: string;
  json?: string;
  end?: string;
}

const say = (line: string) => process.stderr.write(`${line}\n`);

async function main(options: AccuracyOptions): Promise<void> {
  ensureInfluxd(say);
  const seeds = parseSeeds(options.seeds);
  const durationMs = parseDuration(options.duration);
  const scenario = options.scenario !== undefined ? loadScenario(options.scenario) : undefined;
  // the last window ends here (default now): the same --end gives the same windows, so the same figures
  const lastEnd = parseEnd(options.end);
  const oldestStart = lastEnd - seeds.length * (durationMs + 60_000);
  const dataDir = await mkdtemp(join(tmpdir(), 'storeloop-accuracy-'));
  const stateDir = await mkdtemp(join(tmpdir(), 'storeloop-accuracy-state-'));
  const influxd = await startLocalInfluxd({ dataDir });
  let gateway: Gateway | undefined;
  try {
    const config = parseConfig(
      {
        mqtt: { host: '127.0.0.1', port: await freePort(), wsPort: null },
        http: { host: '127.0.0.1', port: await freePort() },
        influx: { url: influxd.url, api: 'v1', database: 'accuracy' },
        state: { dir: stateDir },
        log: { level: 'warn' },
        // an --end in the past: the oldest window's messages must not be refused as ts_too_old
        ingest: { maxPastSeconds: Math.max(604_800, Math.ceil((Date.now() - oldestStart) / 1000) + 3_600) },
      },
      {},
      'accuracy',
      { demoStoreByDefault: true },
    );
    gateway = new Gateway(config, { log: createLogger(config.log.level) });
    await gateway.start();
    const store = config.stores[0];
    if (!store) throw new Error('the config has no store');
    const made = gateway.mqttIdentities.issue({ name: 'accuracy-simulator', role: 'publisher', stores: [store.id] });
    const login = { username: made.identity.name, password: made.secret ?? '' };
    const results: Evaluation[] = [];
    // one database for every seed: the windows lie back to back in the past so none reads another's points
    for (const [i, seed] of seeds.entries()) {
      say(`accuracy: seed ${seed} (${i + 1}/${seeds.length}), ${options.duration} at ${options.visitorsPerHour} visitors/h…`);
      const truth = await runSimulation({
        ...DEFAULT_SIMULATION_OPTIONS,
        store,
        topicPrefix: config.mqtt.topicPrefix,
        seed,
        durationMs,
        speed: 0,
        now: lastEnd - (seeds.length - 1 - i) * (durationMs + 60_000),
        visitorsPerHour: Number(options.visitorsPerHour),
        ...(scenario ? { scenario } : {}),
        url: `mqtt://127.0.0.1:${gateway.mqttPort}`,
        login,
        progress: process.stderr.isTTY,
      });
      await caughtUp(gateway);
      const signals = await readSignals(new InfluxQuery(config.influx), truth.storeId, truth.windowStart, truth.windowEnd);
      results.push(evaluate(truth, signals));
    }
    process.stdout.write(
      formatTable(results, { durationMs, visitorsPerHour: Number(options.visitorsPerHour), scenario: scenario?.name, timezone: store.timezone }),
    );
    if (options.json) await writeFile(options.json, `${JSON.stringify(results.map(evaluationJson), null, 2)}\n`);
  } finally {
    await gateway?.stop();
    await influxd.stop();
    await rm(dataDir, { recursive: true, force: true });
    await rm(stateDir, { recursive: true, force: true });
  }
}

/** Waits until every sink has settled what the event log holds. */
async function caughtUp(gateway: Gateway): Promise<void> {
  const until = Date.now() + 120_000;
  while (gateway.sinks.status().some((s) => s.lag.records > 0)) {
    if (Date.now() > until) throw new Error('the sinks did not catch up within 2 minutes');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

const program = new Command('accuracy')
  .description("the evaluation's figures (storeloop evaluate) over several seeds, through a throwaway influxd and an in-process gateway")
  .option('--seeds <list>', 'seeds: a range 1-5 or a list 1,4,9', '1-5')
  .option('--duration <d>', 'simulated time per seed', '1h')
  .option('--visitors-per-hour <n>', 'arrival rate of visitors', '120')
  .option('--scenario <file>', 'play this scenario in every run (docs/simulator.md#scenarios)')
  .option('--end <time>', 'the last window ends at this ISO 8601 time (default: now); the same --end gives the same figures')
  .option('--json <file>', "write every seed's evaluation as JSON")
  .action(async (opts: AccuracyOptions) => main(opts));

program.parseAsync().catch((err: unknown) => {
  say(`accuracy: ${(err as Error).message}`);
  process.exitCode = 1;
});
