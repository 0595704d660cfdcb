/** Options of a simulation, their defaults in one object, and their validation. */
import { z } from 'zod';

import { DEMO_STORE, StoreSchema, type StoreConfig } from '../config/index.js';
import { DEFAULT_TOPIC_PREFIX } from '../protocol/index.js';
import { SimulationOptionsError } from './errors.js';
import {
  checkSourceFaults,
  DEFAULT_DELIVERY_OPTIONS,
  DeliveryOptionsSchema,
  SourceFaultsSchema,
  type DeliveryOptions,
  type SourceFault,
} from './delivery-options.js';
import { ConsentOptionsSchema, DEFAULT_CONSENT_OPTIONS, type ConsentOptions } from './consent-options.js';
import { DEFAULT_RADIO_OPTIONS, RadioOptionsSchema, type RadioOptions } from './radio-options.js';
import { scenarioProblems, SOURCE_CATEGORIES, type Scenario, type SourceCategory } from './scenario.js';

export type ArrivalProfile = 'flat' | 'daily';

export interface SimulationOptions {
  /** Seed of every random draw: the same seed (and `now`) gives byte-identical messages and truth. */
  seed: number;
  /** Simulated length of the window, ending now. */
  durationMs: number;
  /** Simulated seconds per real second; 0 publishes as fast as possible. */
  speed: number;
  /** Mean arrival rate (the daily profile's average over opening hours when `arrivalProfile` is `daily`). */
  visitorsPerHour: number;
  /** Share of visitors who carry the retailer's app (an iBeacon the BLE scanners see). */
  appShare: number;
  /** Scan interval of BLE and wifi sensors (one message per sensor per interval). */
  scanIntervalMs: number;
  /** Share of messages that come with a deliberately malformed companion (see `injection.ts`). */
  badRate: number;
  /** The store to simulate (parsed config); its floor plan comes from its `layout` (a grid when it has none). */
  store: StoreConfig;
  topicPrefix: string;
  /** Real start of the run, epoch ms; default Date.now(). */
  now?: number;
  /** `flat` (default) or `daily`: rate shaped by the store's local hour, closed 21:00-09:00. */
  arrivalProfile?: ArrivalProfile;
  /** Share of visitors whose phone probes for wifi (default 0.9). */
  phoneShare?: number;
  /** Mean time between a phone's bursts of wifi probe requests, ms (default 20 s; docs/simulator.md). */
  probeIntervalMs?: number;
  /** Share of phones with randomised MACs, whose pseudonym rotates (default 0.95). */
  randomizedMacShare?: number;
  /** Shortest rotation interval of a randomised MAC, ms; each phone's is uniform in [min, max] (default 3 min). */
  macRotationMinMs?: number;
  /** Longest rotation interval of a randomised MAC, ms (default 10 min). */
  macRotationMaxMs?: number;
  /** Long-run share of time an app user's phone advertises its iBeacon (default 0.6; 1: all the time). */
  appAdvertisingDutyCycle?: number;
  /** Mean length of one on/off advertising cycle, ms (default 4 min). */
  appAdvertisingPeriodMs?: number;
  /** Walking speed of visitors between spots, m/s (default 0.85). */
  walkingSpeedMps?: number;
  /** Share of arrivals that are groups of 2-4 walking together (default 0.3). */
  groupShare?: number;
  /** Mean size of a group, 2-4 (default 2.4). */
  meanGroupSize?: number;
  /** QoS of every message (default 1). */
  qos?: 0 | 1;
  /** Chance that a people counter misses a group member passing right behind another (default 0.15; docs/simulator.md). */
  counterGroupMiss?: number;
  /** The radio model's parameters (radio-options.ts, docs/simulator.md); missing ones take their defaults. */
  radio?: Partial<RadioOptions>;
  /** Timed events played into the run (scenario.ts, docs/simulator.md); none by default. */
  scenario?: Scenario;
  /** Which sensors publish (default: the scenario's `only`, else all). */
  only?: SourceCategory[];
  /** Staff on the floor through the opening hours (default 3; docs/simulator.md, "Staff, left-behind phones and the street"). */
  staff?: number;
  /** Devices left behind (a forgotten phone, a staff tablet charging), Poisson per hour (default 0.1). */
  strayDevicesPerHour?: number;
  /** Share of the people passing the shop front who come in (default 0.15): passers-by walk past at visitorsPerHour × (1 − c)/c. */
  captureRate?: number;
  /** Neighbouring shops' fixed beacons beyond the side walls and across the street (default 3). */
  neighbourBeacons?: number;
  /** The delivery model's parameters: clocks, loss, duplicates, latency, outages (delivery-options.ts, docs/simulator.md); missing ones take their defaults. */
  delivery?: Partial<DeliveryOptions>;
  /** Explicit faults of sources (offline with or without replay, clock skew), times from the window's start (default none). */
  sourceFaults?: SourceFault[];
  /** Who grants and withdraws which consents (consent-options.ts, docs/simulator.md); missing ones take their defaults. */
  consent?: Partial<ConsentOptions>;
}

/** Options with every optional field filled in and checked (a run without a scenario has none, and `only` stays absent for all sensors). */
export type ResolvedSimulationOptions = Required<Omit<SimulationOptions, 'radio' | 'delivery' | 'consent' | 'scenario' | 'only'>> & {
  radio: RadioOptions;
  delivery: DeliveryOptions;
  consent: ConsentOptions;
  scenario?: Scenario;
  only?: SourceCategory[];
};

/**
 * Longest window: a run's messages are made as they are published (simulation-stream.ts), but its
 * people and what they do are planned up front, and its truth holds every visit.
 */
export const MAX_DURATION_MS = 31 * 24 * 3_600_000;

export const DEFAULT_SIMULATION_OPTIONS = Object.freeze({
  seed: 1,
  durationMs: 3_600_000,
  speed: 0,
  visitorsPerHour: 120,
  appShare: 0.3,
  scanIntervalMs: 5000,
  badRate: 0,
  store: StoreSchema.parse(DEMO_STORE),
  topicPrefix: DEFAULT_TOPIC_PREFIX,
  arrivalProfile: 'flat',
  phoneShare: 0.9,
  probeIntervalMs: 20_000,
  randomizedMacShare: 0.95,
  macRotationMinMs: 3 * 60_000,
  macRotationMaxMs: 10 * 60_000,
  appAdvertisingDutyCycle: 0.6,
  appAdvertisingPeriodMs: 4 * 60_000,
  walkingSpeedMps: 0.85,
  groupShare: 0.3,
  meanGroupSize: 2.4,
  qos: 1,
  counterGroupMiss: 0.15,
  radio: DEFAULT_RADIO_OPTIONS,
  staff: 3,
  strayDevicesPerHour: 0.1,
  captureRate: 0.15,
  neighbourBeacons: 3,
  delivery: DEFAULT_DELIVERY_OPTIONS,
  sourceFaults: [],
  consent: DEFAULT_CONSENT_OPTIONS,
} satisfies Omit<ResolvedSimulationOptions, 'now'>);

const share = z.number().min(0).max(1);
const NumericOptionsSchema = z.object({
  seed: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
  durationMs: z.number().int().min(1000).max(MAX_DURATION_MS),
  speed: z
    .number()
    .min(0)
    .max(1e6)
    // below 1 the window cannot end now without stamping events in the future
    .refine((s) => s === 0 || s >= 1, 'expected 0 (as fast as possible) or at least 1 (real time)'),
  visitorsPerHour: z.number().min(0).max(10_000),
  appShare: share,
  scanIntervalMs: z.number().int().min(1000).max(300_000),
  badRate: z.number().min(0).max(1),
  topicPrefix: z.string().regex(/^[A-Za-z0-9_-]+(\/[A-Za-z0-9_-]+)*$/, 'expected topic levels of A-Z a-z 0-9 _ - separated by /'),
  now: z.number().int().min(0),
  arrivalProfile: z.enum(['flat', 'daily']),
  phoneShare: share,
  probeIntervalMs: z.number().int().min(1000).max(600_000),
  randomizedMacShare: share,
  macRotationMinMs: z
    .number()
    .int()
    .min(10_000)
    .max(24 * 3_600_000),
  macRotationMaxMs: z
    .number()
    .int()
    .min(10_000)
    .max(24 * 3_600_000),
  appAdvertisingDutyCycle: share,
  appAdvertisingPeriodMs: z.number().int().min(10_000).max(3_600_000),
  walkingSpeedMps: z.number().min(0.1).max(3),
  groupShare: share,
  meanGroupSize: z.number().min(2).max(4),
  qos: z.union([z.literal(0), z.literal(1)]),
  counterGroupMiss: share,
  radio: RadioOptionsSchema,
  only: z.array(z.enum(SOURCE_CATEGORIES)).min(1).optional(),
  staff: z.number().int().min(0).max(50),
  strayDevicesPerHour: z.number().min(0).max(100),
  // 0 would mean infinitely many passers-by; 1: nobody walks past without coming in
  captureRate: z.number().min(0.01).max(1),
  neighbourBeacons: z.number().int().min(0).max(20),
  delivery: DeliveryOptionsSchema,
  sourceFaults: SourceFaultsSchema,
  consent: ConsentOptionsSchema,
});

const OPTION_KEYS = [
  'seed',
  'durationMs',
  'speed',
  'visitorsPerHour',
  'appShare',
  'scanIntervalMs',
  'badRate',
  'store',
  'topicPrefix',
  'now',
  'arrivalProfile',
  'phoneShare',
  'probeIntervalMs',
  'randomizedMacShare',
  'macRotationMinMs',
  'macRotationMaxMs',
  'appAdvertisingDutyCycle',
  'appAdvertisingPeriodMs',
  'walkingSpeedMps',
  'groupShare',
  'meanGroupSize',
  'qos',
  'counterGroupMiss',
  'radio',
  'scenario',
  'only',
  'staff',
  'strayDevicesPerHour',
  'captureRate',
  'neighbourBeacons',
  'delivery',
  'sourceFaults',
  'consent',
] as const satisfies ReadonlyArray<keyof SimulationOptions>;

/** Fills in the optional fields and checks every value; throws SimulationOptionsError naming each bad key. */
export function resolveSimulationOptions(opts: SimulationOptions): ResolvedSimulationOptions {
  // only the simulation's own keys: callers pass run options (url, log, signal) in the same object
  const given = Object.fromEntries(OPTION_KEYS.filter((k) => opts[k] !== undefined).map((k) => [k, opts[k]])) as Partial<SimulationOptions>;
  const radio = { ...DEFAULT_RADIO_OPTIONS, ...given.radio };
  const delivery = { ...DEFAULT_DELIVERY_OPTIONS, ...given.delivery };
  const consent = { ...DEFAULT_CONSENT_OPTIONS, ...given.consent };
  const merged = { ...DEFAULT_SIMULATION_OPTIONS, ...given, radio, delivery, consent, now: opts.now ?? Date.now() };
  const parsed = NumericOptionsSchema.safeParse(merged);
  const problems = parsed.success
    ? []
    : parsed.error.issues.map((issue) => `${issue.path.map(String).join('.')}: ${issue.message}, got ${JSON.stringify(valueAt(merged, issue.path))}`);
  if (merged.macRotationMinMs > merged.macRotationMaxMs)
    problems.push(`macRotationMinMs: expected at most macRotationMaxMs (${merged.macRotationMaxMs}), got ${merged.macRotationMinMs}`);
  const store = StoreSchema.safeParse(merged.store);
  if (!store.success) problems.push(...store.error.issues.map((issue) => `store.${issue.path.map(String).join('.')}: ${issue.message}`));
  else if (parsed.success) problems.push(...checkSourceFaults(merged.sourceFaults, store.data, merged.durationMs));
  if (store.success && merged.scenario) problems.push(...scenarioProblems(merged.scenario, store.data, merged.durationMs));
  if (problems.length > 0 || !store.success) throw new SimulationOptionsError(`invalid simulation options:\n  ${problems.join('\n  ')}`, problems);
  // --only wins over the scenario's selection
  const only = merged.only ?? merged.scenario?.only;
  return { ...merged, store: store.data, ...(only !== undefined ? { only } : {}) };
}

function valueAt(root: object, path: readonly PropertyKey[]): unknown {
  let node: unknown = root;
  for (const key of path) node = typeof node === 'object' && node !== null ? (node as Record<PropertyKey, unknown>)[key] : undefined;
  return node;
}
