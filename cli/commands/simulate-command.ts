/** `storeloop simulate`: publishes a seeded store simulation to a gateway and writes its ground truth. */
import { loadConfig } from '../../config/index.js';
import {
  DEFAULT_DELIVERY_OPTIONS,
  DEFAULT_RADIO_OPTIONS,
  DEFAULT_SIMULATION_OPTIONS,
  DELIVERY_FLAGS,
  parseDuration,
  RADIO_FLAGS,
  runSimulation,
  type ArrivalProfile,
  type DeliveryOptions,
  type GroundTruth,
  type RadioOptions,
} from '../../simulators/index.js';

export interface SimulateCommandOptions extends RadioFlagOptions, DeliveryFlagOptions {
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
  /** `flat` (default) or `daily`: arrivals shaped by the store's local hour (`stores[].timezone`). */
  arrivalProfile?: string;
  qos: string;
  truth?: string;
  progress: boolean;
}

/** `path-loss-exponent` → `pathLossExponent`, as commander names an option. */
type CamelCase<S extends string> = S extends `${infer Head}-${infer Tail}` ? `${Head}${Capitalize<CamelCase<Tail>>}` : S;

/** The radio flags (`--pocket-share` → `pocketShare`, …), text as given; a missing one takes its default. */
export type RadioFlagOptions = { [F in (typeof RADIO_FLAGS)[number]['flag'] as CamelCase<F>]?: string };

/** The delivery flags (`--loss-rate` → `lossRate`, …), text as given; a missing one takes its default. */
export type DeliveryFlagOptions = { [F in (typeof DELIVERY_FLAGS)[number]['flag'] as CamelCase<F>]?: string };

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
    randomizedMacShare: optionalNumber('randomized-mac-share', options.randomizedMacShare, 0, 1, DEFAULT_SIMULATION_OPTIONS.randomizedMacShare),
    ...macRotation(options),
    appAdvertisingDutyCycle: optionalNumber('app-advertising-duty', options.appAdvertisingDuty, 0, 1, DEFAULT_SIMULATION_OPTIONS.appAdvertisingDutyCycle),
    appAdvertisingPeriodMs: minutes('app-advertising-period', options.appAdvertisingPeriod, 1 / 6, 60, DEFAULT_SIMULATION_OPTIONS.appAdvertisingPeriodMs),
    counterGroupMiss: optionalNumber('counter-group-miss', options.counterGroupMiss, 0, 1, DEFAULT_SIMULATION_OPTIONS.counterGroupMiss),
    radio: radioOptions(options),
    delivery: deliveryOptions(options),
  };
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

/** The radio model's parameters from their flags, each checked against its range. */
function radioOptions(options: SimulateCommandOptions): RadioOptions {
  const radio: RadioOptions = { ...DEFAULT_RADIO_OPTIONS };
  for (const { flag, key, min, max } of RADIO_FLAGS) {
    const text = options[camel(flag)];
    if (text !== undefined) radio[key] = number(flag, text, min, max);
  }
  return radio;
}

/** The delivery model's parameters from their flags, each checked against its range. */
function deliveryOptions(options: SimulateCommandOptions): DeliveryOptions {
  const delivery: DeliveryOptions = { ...DEFAULT_DELIVERY_OPTIONS };
  for (const { flag, key, min, max } of DELIVERY_FLAGS) {
    const text = options[camel(flag)];
    if (text !== undefined) delivery[key] = number(flag, text, min, max);
  }
  return delivery;
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
      log: (line: string) => process.stderr.write(`${line}\n`),
      signal: controller.signal,
    });
    process.stderr.write(`published ${truth.publishedMessages} messages${options.truth ? `; ground truth in ${options.truth}` : ''}\n`);
    return truth;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
