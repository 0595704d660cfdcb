/**
 * Builds the sources the config enables (construction only: each constructor checks its own block
 * and throws naming the key; start() is the runner's job). Each source gets the agent's
 * pseudonymiser, so a raw address is hashed before it is emitted, queued or logged.
 *
 * Config blocks go to the constructors as they are (minus `enabled`): `sources.ble` → BleSource
 * (edge/ble), `sources.meraki` → MerakiReceiver (edge/wifi; `apSensors` maps AP MAC, serial or
 * network id to a wifi sensor id), `sources.probes` → ProbeCapture (edge/wifi, tshark/dumpcap).
 */
import { z } from 'zod';

import { EntityIdSchema, formatZodError } from '../../protocol/index.js';
import type { Logger } from '../../gateway/logger.js';
import { BleSource, type BleSourceOptions } from '../ble/index.js';
import { createPseudonymiser, type Pseudonymiser } from '../pseudonymise/index.js';
import type { EdgeSource } from '../types.js';
import { MerakiReceiver, ProbeCapture, apSensorMap, type MerakiReceiverOptions, type ProbeCaptureOptions } from '../wifi/index.js';
import type { EdgeConfig } from './config-schema.js';
import { EdgeConfigError } from './errors.js';
import type { ReconfigurableSourceName } from './remote-config.js';

/** AP MAC, serial or network id → wifi sensor id. */
const ApSensorsSchema = z.record(z.string().min(1).max(64), EntityIdSchema).optional();

export interface ConfiguredSource {
  /** The config block it came from: remote config for that block goes to this source. */
  block: ReconfigurableSourceName;
  source: EdgeSource;
}

export interface SourceDeps {
  log: Logger;
  /** Null when the config has no `pseudonymise` block (then no radio source is enabled: the schema checks it). */
  pseudonymiser: Pseudonymiser | null;
  now?: () => number;
}

/**
 * A source whose settings can change without a restart (remote config). `checkReconfigure` validates
 * the merged block (file block overlaid with the remote one) and changes nothing; `reconfigure`
 * applies a block that passed the check.
 */
export interface ReconfigurableSource extends EdgeSource {
  checkReconfigure(block: Record<string, unknown>): string | undefined;
  reconfigure(block: Record<string, unknown>): void;
}

export function isReconfigurable(source: EdgeSource): source is ReconfigurableSource {
  const candidate = source as Partial<ReconfigurableSource>;
  return typeof candidate.checkReconfigure === 'function' && typeof candidate.reconfigure === 'function';
}

/** The source's own block without the agent's `enabled` switch. */
function blockOf(config: EdgeConfig, name: ReconfigurableSourceName): Record<string, unknown> | undefined {
  const block = config.sources[name];
  if (block === undefined || block.enabled === false) return undefined;
  const { enabled: _enabled, ...rest } = block;
  return rest;
}

function build<T>(name: ReconfigurableSourceName, make: () => T): T {
  try {
    return make();
  } catch (err) {
    const problem = `sources.${name}: ${(err as Error).message}`;
    throw new EdgeConfigError(`edge config is invalid:\n  ${problem}`, [problem], { cause: err });
  }
}

function requirePseudonymiser(deps: SourceDeps, name: string): Pseudonymiser {
  if (deps.pseudonymiser === null) {
    const problem = `pseudonymise: required when sources.${name} is enabled`;
    throw new EdgeConfigError(`edge config is invalid:\n  ${problem}`, [problem]);
  }
  return deps.pseudonymiser;
}

/** The pseudonymiser of the config's `pseudonymise` block, or null without one; throws EdgeConfigError on unsafe options. */
export function createConfiguredPseudonymiser(config: EdgeConfig): Pseudonymiser | null {
  const p = config.pseudonymise;
  if (p === undefined || p.secret === undefined) return null;
  try {
    return createPseudonymiser({ mode: p.mode, secret: p.secret, rotationMinutes: p.rotationMinutes, timezone: p.timezone });
  } catch (err) {
    // the message names the option, never the secret (edge/pseudonymise)
    const problem = `pseudonymise: ${(err as Error).message}`;
    throw new EdgeConfigError(`edge config is invalid:\n  ${problem}`, [problem], { cause: err });
  }
}

/** Constructs the enabled sources; throws EdgeConfigError naming `sources.<name>` when a block is invalid. */
export function createSources(config: EdgeConfig, deps: SourceDeps): ConfiguredSource[] {
  const sources: ConfiguredSource[] = [];
  const ble = blockOf(config, 'ble');
  if (ble !== undefined) {
    const pseudonymiser = requirePseudonymiser(deps, 'ble');
    const options = {
      ...(ble as Omit<BleSourceOptions, 'pseudonymise' | 'log' | 'now'>),
      pseudonymise: (address: string) => pseudonymiser.pseudonymise('ble-address', address),
      log: deps.log,
      ...(deps.now ? { now: deps.now } : {}),
    };
    sources.push({ block: 'ble', source: build('ble', () => new BleSource(options)) });
  }
  const meraki = blockOf(config, 'meraki');
  if (meraki !== undefined) {
    const pseudonymiser = requirePseudonymiser(deps, 'meraki');
    const { apSensors, ...settings } = meraki;
    const sensors = ApSensorsSchema.safeParse(apSensors);
    if (!sensors.success) {
      const problem = formatZodError(sensors.error, 'sources.meraki.apSensors');
      throw new EdgeConfigError(`edge config is invalid:\n  ${problem}`, [problem]);
    }
    const options = {
      ...(settings as Omit<MerakiReceiverOptions, 'pseudonymiser' | 'log' | 'now' | 'sensorForAp'>),
      ...(sensors.data === undefined ? {} : { sensorForAp: apSensorMap(sensors.data) }),
      pseudonymiser,
      log: deps.log,
      ...(deps.now ? { now: deps.now } : {}),
    };
    sources.push({ block: 'meraki', source: build('meraki', () => new MerakiReceiver(options)) });
  }
  const probes = blockOf(config, 'probes');
  if (probes !== undefined) {
    const pseudonymiser = requirePseudonymiser(deps, 'probes');
    const options = {
      ...(probes as Omit<ProbeCaptureOptions, 'pseudonymiser' | 'log' | 'now'>),
      pseudonymiser,
      log: deps.log,
      ...(deps.now ? { now: deps.now } : {}),
    };
    sources.push({ block: 'probes', source: build('probes', () => new ProbeCapture(options)) });
  }
  return sources;
}
