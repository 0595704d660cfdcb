/**
 * `npm run bench -- …`: the command line, its defaults and its help. Turns argv into the options
 * every scenario gets and the scenarios to run, or exits with the reason (commander's error).
 */
import { Command, InvalidArgumentError, Option } from 'commander';

import { parseDuration } from '../lib/duration.js';
import { OPEN_LOOP_SHARE_OF_REFERENCE, RATE_REFERENCE_SCENARIO } from './open-loop.js';
import type { BenchOptions } from './scenario.js';
import { expandScenarioNames, SCENARIO_GROUPS, SCENARIOS } from './scenarios.js';

/** The default load of every closed-loop scenario (issue #8): 4 publishers × 64 in flight × K = 5. */
export const DEFAULT_PUBLISHERS = 4;
export const DEFAULT_INFLIGHT = 64;
export const DEFAULT_SIGHTINGS = 5;
/** 15 s per load scenario keeps the whole default run (idle pair included) under ~5 minutes on 2 cores. */
export const DEFAULT_DURATION_MS = 15_000;
export const DEFAULT_IDLE_DEVICES = 10_000;
export const DEFAULT_IDLE_KEEPALIVE_S = 30;
/** Warm-up when not given: a fifth of the duration, at most 3 s. */
const MAX_DEFAULT_WARMUP_MS = 3_000;
/** Loopback has ~28 000 ephemeral ports (32768–60999); the idle pair needs one per device, plus TIME_WAIT from the one before. */
const MAX_IDLE_DEVICES = 25_000;

export interface BenchCli {
  options: BenchOptions;
  /** Scenario ids in run order. */
  scenarioIds: string[];
  json: string | undefined;
  keep: boolean;
}

interface RawOptions {
  publishers: number;
  duration: number;
  warmup?: number;
  sightings: number;
  inflight: number;
  rate?: number;
  devices: number;
  keepalive: number;
  scenarios?: string[];
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

function idList(value: string): string[] {
  return value
    .split(',')
    .map((id) => id.trim())
    .filter((id) => id !== '');
}

/** The lines after the options in --help: every scenario in run order and the group names. */
function scenarioHelp(): string {
  const width = Math.max(...SCENARIOS.map((s) => s.id.length), ...Object.keys(SCENARIO_GROUPS).map((g) => g.length));
  const lines = [
    '',
    'Scenarios (run in this order; all by default):',
    ...SCENARIOS.map((s) => `  ${s.id.padEnd(width)}  ${s.title.replace(new RegExp(`^${s.id}:? ?`), '')}`),
  ];
  lines.push(
    '',
    'Groups (also accepted by --scenarios):',
    ...Object.entries(SCENARIO_GROUPS).map(([name, ids]) => `  ${name.padEnd(width)}  ${ids.join(', ')}`),
  );
  lines.push(
    '',
    'Examples:',
    '  npm run bench',
    '  npm run bench -- --scenarios storeloop,mosquitto --duration 30s',
    '  npm run bench -- --scenarios open-loop --rate 8000',
    '  npm run bench -- --only influx-raw,idle --devices 5000 --keepalive 20',
  );
  return lines.join('\n');
}

function buildProgram(): Command {
  return new Command()
    .name('npm run bench --')
    .description(
      'Load storeloop and its references (mosquitto, InfluxDB written directly) on 127.0.0.1 and report each figure as a ratio against a reference measured in the same run.',
    )
    .option('--publishers <n>', 'publisher processes (closed- and open-loop scenarios)', intOption(1, 64), DEFAULT_PUBLISHERS)
    .option('--inflight <w>', 'closed-loop: unacknowledged QoS 1 publishes per publisher', intOption(1, 65_000), DEFAULT_INFLIGHT)
    .option('--sightings <k>', 'sightings (points) per message', intOption(1, 1000), DEFAULT_SIGHTINGS)
    .addOption(
      new Option('--duration <d>', 'length of each load scenario (closed-loop, open-loop, influx-raw)')
        .argParser(durationOption)
        .default(DEFAULT_DURATION_MS, `${DEFAULT_DURATION_MS / 1000}s`),
    )
    .option('--warmup <d>', 'start of each load scenario left out of the figures (default: duration/5, at most 3s)', durationOption)
    .option(
      '--rate <msg/s>',
      `open-loop: total messages/s over all publishers (default: ${OPEN_LOOP_SHARE_OF_REFERENCE} × the '${RATE_REFERENCE_SCENARIO}' scenario's measured rate)`,
      intOption(1, 1_000_000),
    )
    .option('--devices <n>', 'idle-devices: MQTT connections held open', intOption(1, MAX_IDLE_DEVICES), DEFAULT_IDLE_DEVICES)
    .option('--keepalive <s>', 'idle-devices: MQTT keepalive in seconds; connections are held one keepalive + 5 s', intOption(1, 600), DEFAULT_IDLE_KEEPALIVE_S)
    .option('--scenarios <ids>', 'comma-separated scenario ids or groups to run (listed below)', idList)
    .addOption(new Option('--only <ids>', 'same as --scenarios').argParser(idList))
    .option('--json <file>', 'also write the results as JSON to this file')
    .option('--keep', 'keep the work directory (configs, logs, InfluxDB data) even when all went well', false)
    .addHelpText('after', scenarioHelp())
    .showHelpAfterError('(npm run bench -- --help lists the options and the scenarios)');
}

/** Parses argv; on a bad value or an impossible selection commander prints the reason and exits. */
export function parseBenchCli(argv: string[]): BenchCli {
  const program = buildProgram();
  program.parse(argv);
  const raw = program.opts<RawOptions>();
  const names = raw.scenarios ?? raw.only;
  let scenarioIds = SCENARIOS.map((s) => s.id);
  if (names !== undefined) {
    const { ids, unknown } = expandScenarioNames(names);
    if (unknown.length > 0)
      program.error(
        `unknown scenario(s) ${unknown.join(', ')}; known: ${SCENARIOS.map((s) => s.id).join(', ')}; groups: ${Object.keys(SCENARIO_GROUPS).join(', ')}`,
      );
    scenarioIds = SCENARIOS.map((s) => s.id).filter((id) => ids.includes(id));
  }
  const openLoop = SCENARIOS.filter((s) => s.usesOpenLoopRate === true && scenarioIds.includes(s.id)).map((s) => s.id);
  if (openLoop.length > 0 && raw.rate === undefined && !scenarioIds.includes(RATE_REFERENCE_SCENARIO)) {
    program.error(
      `${openLoop.join(', ')} run at ${OPEN_LOOP_SHARE_OF_REFERENCE} × the '${RATE_REFERENCE_SCENARIO}' scenario's rate: add ${RATE_REFERENCE_SCENARIO} to --scenarios or give --rate`,
    );
  }
  const warmupMs = raw.warmup ?? Math.min(MAX_DEFAULT_WARMUP_MS, Math.round(raw.duration / 5));
  if (warmupMs >= raw.duration) program.error(`--warmup (${warmupMs} ms) must be shorter than --duration (${raw.duration} ms)`);
  return {
    options: {
      publishers: raw.publishers,
      durationMs: raw.duration,
      warmupMs,
      sightings: raw.sightings,
      inflight: raw.inflight,
      openLoopRate: raw.rate,
      idleDevices: raw.devices,
      idleKeepaliveSeconds: raw.keepalive,
    },
    scenarioIds,
    json: raw.json,
    keep: raw.keep,
  };
}
