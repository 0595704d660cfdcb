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
import type { Logger } from '../../lib/logger.js';
import { BleSource, type BleSourceOptions } from '../ble/index.js';
import { createPseudonymiser, type Pseudonymiser } from '../pseudonymise/index.js';
import type { EdgeSource, SourceHealth, SourcePayload } from '../types.js';
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

/** Makes a source from its (merged) block; throws naming the bad option. */
type SourceFactory = (block: Record<string, unknown>) => EdgeSource;

/**
 * Remote config for a radio source: a changed block is checked by constructing a new source from it
 * (constructors validate and store only), and applied by stopping the running source and starting the
 * new one on the same emitter. The agent, its queue and its connection keep running meanwhile.
 */
export class RebuildableSource implements ReconfigurableSource {
  private current: EdgeSource;
  private emit: ((message: SourcePayload) => void) | undefined;
  private started = false;
  private switching: Promise<void> = Promise.resolve();

  constructor(
    private readonly make: SourceFactory,
    block: Record<string, unknown>,
    private readonly log: Logger,
  ) {
    this.current = make(block);
  }

  get name(): string {
    return this.current.name;
  }

  async start(emit: (message: SourcePayload) => void): Promise<void> {
    this.emit = emit;
    await this.current.start(emit);
    this.started = true;
  }

  async stop(): Promise<void> {
    this.started = false;
    await this.switching;
    await this.current.stop();
  }

  health(): SourceHealth {
    return this.current.health();
  }

  checkReconfigure(block: Record<string, unknown>): string | undefined {
    try {
      this.make(block);
      return undefined;
    } catch (err) {
      return (err as Error).message;
    }
  }

  reconfigure(block: Record<string, unknown>): void {
    const next = this.make(block);
    this.switching = this.switching
      .then(async () => {
        const previous = this.current;
        this.current = next;
        if (!this.started || this.emit === undefined) return;
        await previous.stop();
        await next.start(this.emit);
      })
      .catch((err: unknown) => {
        // the runner's health shows the source down; the next remote config or restart retries
        this.log.error({ source: next.name, code: (err as { code?: unknown }).code }, 'source did not restart with its new settings');
      });
  }

  /** Resolves once the last reconfigure has taken effect (tests, shutdown). */
  settled(): Promise<void> {
    return this.switching;
  }
}

/** Constructs the enabled sources; throws EdgeConfigError naming `sources.<name>` when a block is invalid. */
export function createSources(config: EdgeConfig, deps: SourceDeps): ConfiguredSource[] {
  const sources: ConfiguredSource[] = [];
  const add = (name: ReconfigurableSourceName, make: SourceFactory) => {
    const block = blockOf(config, name);
    if (block === undefined) return;
    sources.push({ block: name, source: build(name, () => new RebuildableSource(make, block, deps.log)) });
  };
  const common = { log: deps.log, ...(deps.now ? { now: deps.now } : {}) };
  add('ble', (ble) => {
    const pseudonymiser = requirePseudonymiser(deps, 'ble');
    return new BleSource({
      ...(ble as Omit<BleSourceOptions, 'pseudonymise' | 'log' | 'now'>),
      pseudonymise: (address: string) => pseudonymiser.pseudonymise('ble-address', address),
      ...common,
    });
  });
  add('meraki', (meraki) => {
    const pseudonymiser = requirePseudonymiser(deps, 'meraki');
    const { apSensors, ...settings } = meraki;
    const sensors = ApSensorsSchema.safeParse(apSensors);
    if (!sensors.success) throw new Error(formatZodError(sensors.error, 'apSensors'));
    return new MerakiReceiver({
      ...(settings as Omit<MerakiReceiverOptions, 'pseudonymiser' | 'log' | 'now' | 'sensorForAp'>),
      ...(sensors.data === undefined ? {} : { sensorForAp: apSensorMap(sensors.data) }),
      pseudonymiser,
      ...common,
    });
  });
  add('probes', (probes) => {
    const pseudonymiser = requirePseudonymiser(deps, 'probes');
    return new ProbeCapture({ ...(probes as Omit<ProbeCaptureOptions, 'pseudonymiser' | 'log' | 'now'>), pseudonymiser, ...common });
  });
  return sources;
}
