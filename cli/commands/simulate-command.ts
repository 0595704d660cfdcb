/** `storeloop simulate`: publishes a seeded store simulation to a gateway and writes its ground truth. */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

import { loadConfig } from '../../config/index.js';
import {
  CONSENT_FLAGS,
  DEFAULT_CONSENT_OPTIONS,
  DEFAULT_DELIVERY_OPTIONS,
  DEFAULT_RADIO_OPTIONS,
  DEFAULT_SIMULATION_OPTIONS,
  loadScenario,
  DELIVERY_FLAGS,
  parseDuration,
  parseOnly,
  RADIO_FLAGS,
  runSimulation,
  type ArrivalProfile,
  type ConsentOptions,
  type DeliveryOptions,
  type GroundTruth,
  type InfluxOutageControl,
  type RadioOptions,
  type Scenario,
} from '../../simulators/index.js';

export interface SimulateCommandOptions extends RadioFlagOptions, DeliveryFlagOptions, ConsentFlagOptions {
  url: string;
  /** MQTT user name; the password comes from STORELOOP_MQTT_PASSWORD (never the command line, which `ps` shows). */
  username?: string;
  config?: string;
  store?: string;
  seed: string;
  speed: string;
  duration: string;
  visitorsPerHour: string;
  appShare: string;
  badRate: string;
  /** Walking speed, m/s (default DEFAULT_SIMULATION_OPTIONS.walkingSpeedMps). */
  walkingSpeed?: string;
  /** Share of arrivals that are groups (default DEFAULT_SIMULATION_OPTIONS.groupShare). */
  groupShare?: string;
  /** Mean group size, 2-4 (default DEFAULT_SIMULATION_OPTIONS.meanGroupSize). */
  groupSize?: string;
  /** Scan interval of BLE and wifi sensors, seconds. */
  scanInterval?: string;
  /** Share of visitors whose phone probes for wifi (default DEFAULT_SIMULATION_OPTIONS.phoneShare). */
  phoneShare?: string;
  /** Mean time between a phone's probe bursts, seconds. */
  probeInterval?: string;
  /** Share of phones whose wifi MAC is randomised (default DEFAULT_SIMULATION_OPTIONS.randomizedMacShare). */
  randomizedMacShare?: string;
  /** Shortest and longest rotation interval of a randomised MAC, minutes. */
  macRotationMin?: string;
  macRotationMax?: string;
  /** Share of time an app user's phone advertises its beacon (0-1). */
  appAdvertisingDuty?: string;
  /** Mean on/off advertising cycle, minutes. */
  appAdvertisingPeriod?: string;
  /** Chance the people counter misses a group member (default DEFAULT_SIMULATION_OPTIONS.counterGroupMiss). */
  counterGroupMiss?: string;
  /** Staff on the floor (default DEFAULT_SIMULATION_OPTIONS.staff). */
  staff?: string;
  /** Devices left behind per hour (default DEFAULT_SIMULATION_OPTIONS.strayDevicesPerHour). */
  strayDeviceRate?: string;
  /** Share of people passing the shop front who come in (default DEFAULT_SIMULATION_OPTIONS.captureRate). */
  captureRate?: string;
  /** Neighbouring shops' beacons (default DEFAULT_SIMULATION_OPTIONS.neighbourBeacons). */
  neighbourBeacons?: string;
  /** `flat` (default) or `daily`: arrivals shaped by the store's local hour (`stores[].timezone`). */
  arrivalProfile?: string;
  qos: string;
  truth?: string;
  /** A YAML scenario file (docs/simulator.md#scenarios). */
  scenario?: string;
  /** `ble,touchpoint`: which sensors publish. */
  only?: string;
  progress: boolean;
}

/** `path-loss-exponent` → `pathLossExponent`, as commander names an option. */
type CamelCase<S extends string> = S extends `${infer Head}-${infer Tail}` ? `${Head}${Capitalize<CamelCase<Tail>>}` : S;

/** The radio flags (`--pocket-share` → `pocketShare`, …), text as given; a missing one takes its default. */
export type RadioFlagOptions = { [F in (typeof RADIO_FLAGS)[number]['flag'] as CamelCase<F>]?: string };

/** The delivery flags (`--loss-rate` → `lossRate`, …), text as given; a missing one takes its default. */
export type DeliveryFlagOptions = { [F in (typeof DELIVERY_FLAGS)[number]['flag'] as CamelCase<F>]?: string };

/** The consent flags (`--consent-crm-share` → `consentCrmShare`, …), text as given; a missing one takes its default. */
export type ConsentFlagOptions = { [F in (typeof CONSENT_FLAGS)[number]['flag'] as CamelCase<F>]?: string };

/** A radio, delivery or consent flag's name. */
type FlagName = (typeof RADIO_FLAGS)[number]['flag'] | (typeof DELIVERY_FLAGS)[number]['flag'] | (typeof CONSENT_FLAGS)[number]['flag'];

function number(name: string, text: string, min: number, max: number): number {
  const value = Number(text);
  if (!Number.isFinite(value) || value < min || value > max) throw new Error(`--${name}: expected a number from ${min} to ${max}, got '${text}'`);
  return value;
}

function optionalNumber(name: string, text: string | undefined, min: number, max: number, fallback: number): number {
  return text === undefined ? fallback : number(name, text, min, max);
}

function arrivalProfile(text: string | undefined): ArrivalProfile {
  if (text === undefined) return DEFAULT_SIMULATION_OPTIONS.arrivalProfile;
  if (text === 'flat' || text === 'daily') return text;
  throw new Error(`--arrival-profile: expected flat or daily, got '${text}'`);
}

/** The simulation the command's options describe (no I/O but reading the config file). */
export function simulationOptionsFrom(options: SimulateCommandOptions) {
  const config = loadConfig(options.config);
  const store = options.store ? config.stores.find((s) => s.id === options.store) : config.stores[0];
  if (!store) throw new Error(`--store: no store '${options.store ?? ''}' in the config (stores: ${config.stores.map((s) => s.id).join(', ')})`);
  return {
    ...DEFAULT_SIMULATION_OPTIONS,
    store,
    topicPrefix: config.mqtt.topicPrefix,
    seed: number('seed', options.seed, 0, 2 ** 32 - 1),
    speed: number('speed', options.speed, 0, 1e6),
    durationMs: parseDuration(options.duration),
    visitorsPerHour: number('visitors-per-hour', options.visitorsPerHour, 0, 10_000),
    appShare: number('app-share', options.appShare, 0, 1),
    badRate: number('bad-rate', options.badRate, 0, 0.5),
    arrivalProfile: arrivalProfile(options.arrivalProfile),
    walkingSpeedMps: optionalNumber('walking-speed', options.walkingSpeed, 0.1, 3, DEFAULT_SIMULATION_OPTIONS.walkingSpeedMps),
    groupShare: optionalNumber('group-share', options.groupShare, 0, 1, DEFAULT_SIMULATION_OPTIONS.groupShare),
    meanGroupSize: optionalNumber('group-size', options.groupSize, 2, 4, DEFAULT_SIMULATION_OPTIONS.meanGroupSize),
    scanIntervalMs: seconds('scan-interval', options.scanInterval, 1, 300, DEFAULT_SIMULATION_OPTIONS.scanIntervalMs),
    phoneShare: optionalNumber('phone-share', options.phoneShare, 0, 1, DEFAULT_SIMULATION_OPTIONS.phoneShare),
    probeIntervalMs:
      options.probeInterval === undefined
        ? DEFAULT_SIMULATION_OPTIONS.probeIntervalMs
        : Math.round(number('probe-interval', options.probeInterval, 1, 600) * 1000),
    randomizedMacShare: optionalNumber('randomized-mac-share', options.randomizedMacShare, 0, 1, DEFAULT_SIMULATION_OPTIONS.randomizedMacShare),
    ...macRotation(options),
    appAdvertisingDutyCycle: optionalNumber('app-advertising-duty', options.appAdvertisingDuty, 0, 1, DEFAULT_SIMULATION_OPTIONS.appAdvertisingDutyCycle),
    appAdvertisingPeriodMs: minutes('app-advertising-period', options.appAdvertisingPeriod, 1 / 6, 60, DEFAULT_SIMULATION_OPTIONS.appAdvertisingPeriodMs),
    counterGroupMiss: optionalNumber('counter-group-miss', options.counterGroupMiss, 0, 1, DEFAULT_SIMULATION_OPTIONS.counterGroupMiss),
    radio: flagged<RadioOptions>(DEFAULT_RADIO_OPTIONS, RADIO_FLAGS, options),
    ...(options.scenario !== undefined ? { scenario: loadScenario(options.scenario) } : {}),
    ...(options.only !== undefined ? { only: parseOnly(options.only) } : {}),
    ...people(options),
    delivery: flagged<DeliveryOptions>(DEFAULT_DELIVERY_OPTIONS, DELIVERY_FLAGS, options),
    consent: flagged<ConsentOptions>(DEFAULT_CONSENT_OPTIONS, CONSENT_FLAGS, options),
  };
}

const run = promisify(execFile);
/** Longest a scenario's stop or start command may take. */
const OUTAGE_COMMAND_TIMEOUT_MS = 120_000;

/**
 * Plays the scenario's InfluxDB outages with each event's own `stop` and `start` shell commands (the
 * simulator cannot reach a database it did not start); undefined when the scenario has none.
 */
export function commandOutageControl(scenario: Scenario | undefined, log: (line: string) => void): InfluxOutageControl | undefined {
  const outages = (scenario?.events ?? []).filter((e) => e.type === 'influx_outage');
  if (outages.length === 0) return undefined;
  const missing = outages.filter((e) => e.stop === undefined || e.start === undefined);
  if (missing.length > 0)
    throw new Error(
      `--scenario: an influx_outage event needs \`stop\` and \`start\` shell commands under storeloop simulate (e.g. stop: systemctl stop influxdb); storeloop demo plays it on its own InfluxDB`,
    );
  return async (event, phase) => {
    const command = (phase === 'stop' ? event.stop : event.start) as string;
    log(`scenario: ${phase} InfluxDB: ${command}`);
    try {
      await run('/bin/sh', ['-c', command], { timeout: OUTAGE_COMMAND_TIMEOUT_MS });
    } catch (err) {
      const e = err as Error & { stderr?: string };
      throw new Error(`scenario: the InfluxDB ${phase} command failed: ${command}: ${(e.stderr ?? '').trim() || e.message}`, { cause: err });
    }
  };
}

/** Staff, devices left behind, the capture rate and the neighbours' beacons from their flags. */
function people(options: SimulateCommandOptions) {
  const d = DEFAULT_SIMULATION_OPTIONS;
  return {
    staff: whole('staff', optionalNumber('staff', options.staff, 0, 50, d.staff)),
    strayDevicesPerHour: optionalNumber('stray-device-rate', options.strayDeviceRate, 0, 100, d.strayDevicesPerHour),
    captureRate: optionalNumber('capture-rate', options.captureRate, 0.01, 1, d.captureRate),
    neighbourBeacons: whole('neighbour-beacons', optionalNumber('neighbour-beacons', options.neighbourBeacons, 0, 20, d.neighbourBeacons)),
  };
}

function whole(name: string, value: number): number {
  if (!Number.isInteger(value)) throw new Error(`--${name}: expected a whole number, got ${value}`);
  return value;
}

/** A flag in seconds as whole milliseconds. */
function seconds(name: string, text: string | undefined, min: number, max: number, fallbackMs: number): number {
  return text === undefined ? fallbackMs : Math.round(number(name, text, min, max) * 1000);
}

/** A flag in minutes as whole milliseconds. */
function minutes(name: string, text: string | undefined, min: number, max: number, fallbackMs: number): number {
  return text === undefined ? fallbackMs : Math.round(number(name, text, min, max) * 60_000);
}

/** The rotation bounds of a randomised MAC from --mac-rotation-min/--mac-rotation-max (minutes), min ≤ max. */
function macRotation(options: SimulateCommandOptions): { macRotationMinMs: number; macRotationMaxMs: number } {
  const macRotationMinMs = minutes('mac-rotation-min', options.macRotationMin, 1 / 6, 24 * 60, DEFAULT_SIMULATION_OPTIONS.macRotationMinMs);
  const macRotationMaxMs = minutes('mac-rotation-max', options.macRotationMax, 1 / 6, 24 * 60, DEFAULT_SIMULATION_OPTIONS.macRotationMaxMs);
  if (macRotationMinMs > macRotationMaxMs)
    throw new Error(`--mac-rotation-min: expected at most --mac-rotation-max (${macRotationMaxMs / 60_000} min), got ${macRotationMinMs / 60_000} min`);
  return { macRotationMinMs, macRotationMaxMs };
}

/** `path-loss-exponent` → `pathLossExponent`: commander's name for a flag. */
function camel<F extends string>(flag: F): CamelCase<F> {
  return flag.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase()) as CamelCase<F>;
}

/** A model's parameters (radio, delivery, consent) from their flags, each checked against its range; a missing one keeps its default. */
function flagged<O extends { [K in keyof O]: number }>(
  defaults: O,
  flags: ReadonlyArray<{ flag: FlagName; key: keyof O; min: number; max: number }>,
  options: SimulateCommandOptions,
): O {
  const out: O = { ...defaults };
  for (const { flag, key, min, max } of flags) {
    const text = options[camel(flag)];
    if (text !== undefined) out[key] = number(flag, text, min, max) as O[keyof O];
  }
  return out;
}

/** The login of `--username` with its password from the environment. */
export function loginFrom(username: string | undefined, env: NodeJS.ProcessEnv): { username: string; password: string } | undefined {
  const name = username ?? env.STORELOOP_MQTT_USERNAME;
  if (name === undefined || name === '') return undefined;
  const password = env.STORELOOP_MQTT_PASSWORD;
  if (password === undefined || password === '') throw new Error(`--username ${name}: set its password in STORELOOP_MQTT_PASSWORD`);
  return { username: name, password };
}

export async function runSimulateCommand(options: SimulateCommandOptions): Promise<GroundTruth> {
  const simOptions = simulationOptionsFrom(options);
  const log = (line: string) => process.stderr.write(`${line}\n`);
  const influxOutage = commandOutageControl(simOptions.scenario, log);
  const controller = new AbortController();
  const onSignal = () => controller.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const truth = await runSimulation({
      ...simOptions,
      url: options.url,
      login: loginFrom(options.username, process.env),
      qos: options.qos === '0' ? 0 : 1,
      progress: options.progress,
      ...(options.truth ? { truthFile: options.truth } : {}),
      ...(influxOutage ? { influxOutage } : {}),
      log,
      signal: controller.signal,
    });
    process.stderr.write(`published ${truth.publishedMessages} messages${options.truth ? `; ground truth in ${options.truth}` : ''}\n`);
    return truth;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
