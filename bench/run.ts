/**
 * `npm run bench`: runs every scenario in bench/scenarios.ts (or those named by --scenarios) one after
 * the other on loopback, prints a table per kind of scenario with the ratios of bench/scenarios.ts's
 * comparisons and the targets of bench/targets.ts, and fails (exit 1) when any check failed. Every process it starts is stopped at the end, on error and
 * on Ctrl-C.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';

import { ensureProgram } from '../devtools/ensure-program.js';
import { parseBenchCli } from './cli-options.js';
import { createProgressReporter } from './progress.js';
import { ProcessGroup } from './processes.js';
import { computeRatios, presentComparisons, renderReport, type MachineFacts } from './report.js';
import type { BenchOptions, Scenario, ScenarioResult } from './scenario.js';
import { COMPARISONS, SCENARIOS, scenarioDir } from './scenarios.js';
import { commandVersion } from './servers.js';
import { evaluateTargets, type TargetOutcome } from './targets.js';

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
  const cli = parseBenchCli(process.argv);
  const { options } = cli;
  const scenarios = SCENARIOS.filter((s) => cli.scenarioIds.includes(s.id));
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
        results.push(await scenario.run({ options, group, workDir: await scenarioDir(runDir, scenario), programs, progress, earlier: [...results], log }));
      } catch (err) {
        failures.push({ id: scenario.id, error: err instanceof Error ? err.message : String(err) });
        log(`  ${scenario.id} failed: ${err instanceof Error ? err.message : String(err)}`);
      }
      await group.stopAll(); // nothing of one scenario may run into the next
    }
    const machine = machineFacts();
    const targets = evaluateTargets(results);
    process.stdout.write(`${renderReport({ results, failures, options, machine, comparisons: COMPARISONS, targets })}\n`);
    if (cli.json !== undefined) await writeJson(cli.json, { options, machine, results, failures, targets });
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

async function writeJson(
  file: string,
  data: { options: BenchOptions; machine: MachineFacts; results: ScenarioResult[]; failures: Array<{ id: string; error: string }>; targets: TargetOutcome[] },
): Promise<void> {
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
