/**
 * `npm run bench`: runs every scenario in bench/scenarios.ts (or those named by --scenarios) one after
 * the other on loopback, prints one table plus the ratios of bench/scenarios.ts's comparisons, and
 * fails (exit 1) when any check failed. Every process it starts is stopped at the end, on error and
 * on Ctrl-C.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';

import { Command, InvalidArgumentError, Option } from 'commander';

import { ensureProgram } from '../cli/ensure-influxd.js';
import { parseDuration } from '../cli/parse-duration.js';
import { createProgressReporter } from './progress.js';
import { ProcessGroup } from './processes.js';
import { computeRatios, presentComparisons, renderReport, type MachineFacts } from './report.js';
import type { BenchOptions, Scenario, ScenarioResult } from './scenario.js';
import { COMPARISONS, SCENARIOS, scenarioDir } from './scenarios.js';
import { commandVersion } from './servers.js';

/** Warm-up when not given: a fifth of the duration, at most 3 s. */
const MAX_DEFAULT_WARMUP_MS = 3_000;

interface CliOptions {
  publishers: number;
  duration: number;
  warmup?: number;
  sightings: number;
  inflight: number;
  scenarios?: string[];
  /** The earlier name of --scenarios. */
  only?: string[];
  json?: string;
  keep: boolean;
}

function intOption(min: number, max: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min || n > max) throw new InvalidArgumentError(`expected an integer ${min}–${max}`);
    return n;
  };
}

function durationOption(value: string): number {
  try {
    return parseDuration(value);
  } catch (err) {
    throw new InvalidArgumentError((err as Error).message);
  }
}

function parseCli(argv: string[]): CliOptions {
  const ids = SCENARIOS.map((s) => s.id);
  const program = new Command()
    .name('npm run bench --')
    .description('Load storeloop and a reference broker (mosquitto) on loopback and report throughput, latency, CPU and memory.')
    .option('--publishers <n>', 'publisher processes', intOption(1, 64), 4)
    .option('--duration <d>', 'length of each scenario, e.g. 20s', durationOption, 20_000)
    .option('--warmup <d>', 'start of each scenario left out of the figures (default: duration/5, at most 3s)', durationOption)
    .option('--sightings <k>', 'sightings per message (points per message)', intOption(1, 1000), 5)
    .option('--inflight <w>', 'unacknowledged QoS 1 publishes per publisher', intOption(1, 65_000), 64)
    .option('--scenarios <ids>', `comma-separated scenarios to run (they run in this order: ${ids.join(', ')})`, idList)
    .addOption(new Option('--only <ids>', 'same as --scenarios').argParser(idList).hideHelp())
    .option('--json <file>', 'also write the results as JSON to this file')
    .option('--keep', 'keep the work directory (configs, logs, InfluxDB data) even when all went well', false)
    .showHelpAfterError();
  program.parse(argv);
  const opts = program.opts<CliOptions>();
  const selected = opts.scenarios ?? opts.only;
  const unknown = (selected ?? []).filter((id) => !ids.includes(id));
  if (unknown.length > 0) program.error(`unknown scenario(s) ${unknown.join(', ')}; known: ${ids.join(', ')}`);
  return { ...opts, ...(selected ? { scenarios: selected } : {}) };
}

function idList(value: string): string[] {
  return value.split(',').map((id) => id.trim()).filter((id) => id !== '');
}

function benchOptions(cli: CliOptions): BenchOptions {
  const warmupMs = cli.warmup ?? Math.min(MAX_DEFAULT_WARMUP_MS, Math.round(cli.duration / 5));
  if (warmupMs >= cli.duration) throw new Error(`--warmup (${warmupMs} ms) must be shorter than --duration (${cli.duration} ms)`);
  return { publishers: cli.publishers, durationMs: cli.duration, warmupMs, sightings: cli.sightings, inflight: cli.inflight };
}

function log(line: string): void {
  process.stderr.write(`${line}\n`);
}

/** Finds (or installs, as root on Debian) every program the scenarios need. */
function ensurePrograms(scenarios: Scenario[]): Record<string, string> {
  const programs: Record<string, string> = {};
  for (const { program, debianPackage } of scenarios.flatMap((s) => s.requires)) {
    programs[program] ??= ensureProgram(program, debianPackage, log);
  }
  return programs;
}

function machineFacts(): MachineFacts {
  return {
    nproc: os.availableParallelism(),
    cpuModel: os.cpus()[0]?.model.trim() ?? 'unknown CPU',
    memoryGiB: os.totalmem() / 1024 ** 3,
    kernel: os.release(),
    node: process.version,
    influxd: commandVersion('influxd', ['version']),
    mosquitto: commandVersion('mosquitto', ['-h']),
  };
}

/** Stops everything on the first Ctrl-C or SIGTERM; a second one exits at once. */
function stopOnSignals(group: ProcessGroup, runDir: string): void {
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) process.exit(130);
    stopping = true;
    log(`\n${signal}: stopping ${group.running().join(', ') || 'nothing'}…`);
    void group.stopAll().finally(() => {
      log(`work directory kept: ${runDir}`);
      process.exit(130);
    });
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
}

async function main(): Promise<number> {
  const cli = parseCli(process.argv);
  const options = benchOptions(cli);
  const scenarios = SCENARIOS.filter((s) => cli.scenarios === undefined || cli.scenarios.includes(s.id));
  const group = new ProcessGroup();
  const runDir = await mkdtemp(join(os.tmpdir(), 'storeloop-bench-'));
  stopOnSignals(group, runDir);
  const results: ScenarioResult[] = [];
  const failures: Array<{ id: string; error: string }> = [];
  try {
    const programs = ensurePrograms(scenarios);
    const progress = createProgressReporter();
    for (const scenario of scenarios) {
      log(`▶ ${scenario.title}`);
      try {
        results.push(await scenario.run({ options, group, workDir: await scenarioDir(runDir, scenario), programs, progress, log }));
      } catch (err) {
        failures.push({ id: scenario.id, error: err instanceof Error ? err.message : String(err) });
        log(`  ${scenario.id} failed: ${err instanceof Error ? err.message : String(err)}`);
      }
      await group.stopAll(); // nothing of one scenario may run into the next
    }
    const machine = machineFacts();
    process.stdout.write(`${renderReport({ results, failures, options, machine, comparisons: COMPARISONS })}\n`);
    if (cli.json !== undefined) await writeJson(cli.json, { options, machine, results, failures });
  } finally {
    await group.stopAll();
    group.dispose();
  }
  const failed = failures.length > 0 || results.some((r) => r.checks.some((c) => !c.ok));
  if (failed || cli.keep) log(`work directory (configs, logs, InfluxDB data): ${runDir}`);
  else await rm(runDir, { recursive: true, force: true });
  if (failed) log('\nBENCH FAILED: see the FAIL lines above.');
  return failed ? 1 : 0;
}

async function writeJson(file: string, data: { options: BenchOptions; machine: MachineFacts; results: ScenarioResult[]; failures: Array<{ id: string; error: string }> }): Promise<void> {
  const ratios = presentComparisons(COMPARISONS, data.results).map((p) => computeRatios(p.comparison, p.subject, p.baseline));
  await writeFile(file, `${JSON.stringify({ ...data, ratios }, null, 2)}\n`);
  log(`results written to ${file}`);
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    log(`bench: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    process.exit(1);
  },
);
