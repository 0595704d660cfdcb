/**
 * The edge agent's BLE source: BlueZ over D-Bus through node-ble. Every interval it polls the adapter
 * and every Device1 object (polling is the one path, in production as under dbusmock, whose
 * introspection does not declare PropertiesChanged), tracks which devices still change, smooths
 * their RSSI, applies the retailer's policy and emits one `ble` payload, plus `device` telemetry
 * for configured Eddystone-TLM beacons. Addresses stay in memory: never logged, never emitted.
 */
import { DeviceMessageSchema, MAX_ITEMS_PER_MESSAGE, type BleSighting } from '../../protocol/index.js';
import { RateLimitedLog } from '../../lib/rate-limited-log.js';
import type { Logger } from '../../lib/logger.js';
import type { EdgeSource, SourceHealth, SourcePayload } from '../types.js';
import type { EddystoneTlmFrame, FrameErrorCode, FrameResult, IdentityFrame } from './beacon-parser.js';
import { beaconIdOf, createAllowlist, decideSighting } from './beacon-policy.js';
import { BleError, errorName, loggableError, sanitiseError } from './ble-errors.js';
import { resolveBleOptions, type BleSourceOptions, type ResolvedBleOptions } from './ble-options.js';
import { readDeviceProperties } from './bluez-values.js';
import { BluezSession } from './bluez-session.js';
import { DeviceTracker } from './device-tracker.js';
import { environmentFromTlm } from './tlm-telemetry.js';

export type { BleSourceOptions } from './ble-options.js';

export type TlmSkipReason = 'unconfigured' | 'unattributed' | 'rate-limited' | 'no-readings' | 'out-of-range';

/** Running totals, for the agent's status and /metrics. */
export interface BleCounters {
  polls: number;
  pollFailures: number;
  blePayloads: number;
  sightings: number;
  devicePayloads: number;
  /** Advertising payloads that claim a beacon format and break it, by error code (each distinct payload once). */
  invalidFrames: Partial<Record<FrameErrorCode, number>>;
  /** Device-intervals left out by policy `others: 'drop'`. */
  othersDropped: number;
  /** Device-intervals sent as `dev:<pseudonym>`. */
  pseudonymised: number;
  pseudonymFailures: number;
  tlmSkipped: Partial<Record<TlmSkipReason, number>>;
  deviceReadErrors: number;
  emitErrors: number;
  sessionsOpened: number;
  /** Times the adapter was found unpowered or not discovering and set up again. */
  adapterRecoveries: number;
}

export interface BleSourceHealth extends SourceHealth {
  adapter?: string;
  adapterPowered: boolean;
  discovering: boolean;
  /** Device1 objects under the adapter at the last poll. */
  devicesOnBus: number;
  /** Devices that changed within departedAfterMs at the last poll. */
  devicesPresent: number;
  counters: BleCounters;
}

const WARN_INTERVAL_MS = 60_000;

export class BleSource implements EdgeSource {
  readonly name: string;
  private readonly options: ResolvedBleOptions;
  private readonly log: Logger;
  private readonly warnings: RateLimitedLog;
  private readonly isAllowed: (frame: IdentityFrame) => boolean;
  private readonly tracker: DeviceTracker;
  private readonly counters: BleCounters = {
    polls: 0,
    pollFailures: 0,
    blePayloads: 0,
    sightings: 0,
    devicePayloads: 0,
    invalidFrames: {},
    othersDropped: 0,
    pseudonymised: 0,
    pseudonymFailures: 0,
    tlmSkipped: {},
    deviceReadErrors: 0,
    emitErrors: 0,
    sessionsOpened: 0,
    adapterRecoveries: 0,
  };
  private readonly lastTelemetryAt = new Map<string, number>();
  private pendingTelemetry: SourcePayload[] = [];
  private emit: ((message: SourcePayload) => void) | undefined;
  private session: BluezSession | undefined;
  private reconnectAt = 0;
  private running = false;
  private timer: NodeJS.Timeout | undefined;
  private nextTickAt = 0;
  private inFlight: Promise<void> | undefined;
  private state: SourceHealth['state'] = 'down';
  private detail = 'not started';
  private lastItemAt: number | undefined;
  private adapterPowered = false;
  private discovering = false;
  private devicesOnBus = 0;
  private devicesPresent = 0;

  /** Stores and checks the options; nothing touches D-Bus before `start()`. */
  constructor(options: BleSourceOptions) {
    this.options = resolveBleOptions(options);
    this.name = `ble:${this.options.sourceId}`;
    this.log = this.options.log.child({ module: 'ble', source: this.options.sourceId });
    this.warnings = new RateLimitedLog(this.log, WARN_INTERVAL_MS);
    this.isAllowed = createAllowlist(this.options.policy.allowUuids);
    this.tracker = new DeviceTracker({ smoothingWindowMs: this.options.smoothingWindowMs, departedAfterMs: this.options.departedAfterMs });
  }

  /** Connects, powers the adapter, starts LE discovery with duplicates, then polls every interval. Throws when BlueZ or the adapter cannot be reached. */
  async start(emit: (message: SourcePayload) => void): Promise<void> {
    if (this.running) throw new BleError('SL_ERR_BLE_CONFIG', `${this.name} is already started`);
    this.emit = emit;
    try {
      this.session = await this.openSession();
    } catch (err) {
      this.setState('down', `cannot start: ${sanitiseError(err).message}`);
      throw err;
    }
    this.running = true;
    this.log.info({ adapter: this.session.adapterName, intervalMs: this.options.intervalMs, others: this.options.policy.others }, 'ble source started');
    this.nextTickAt = Date.now() + this.options.intervalMs;
    this.schedule();
  }

  /** Stops polling, ends this client's discovery session and closes the D-Bus connection. */
  async stop(): Promise<void> {
    this.running = false;
    clearTimeout(this.timer);
    await this.inFlight;
    const session = this.session;
    this.session = undefined;
    if (session) {
      await session.stopDiscovery().catch((err: unknown) => this.log.warn({ err: loggableError(err) }, 'could not stop discovery'));
      session.close();
      this.log.info({ adapter: session.adapterName }, 'ble source stopped');
    }
    this.discovering = false;
    this.setState('down', 'stopped');
  }

  health(): BleSourceHealth {
    return {
      name: this.name,
      state: this.state,
      detail: this.detail,
      ...(this.lastItemAt === undefined ? {} : { lastItemAt: this.lastItemAt }),
      ...(this.session ? { adapter: this.session.adapterName } : {}),
      adapterPowered: this.adapterPowered,
      discovering: this.discovering,
      devicesOnBus: this.devicesOnBus,
      devicesPresent: this.devicesPresent,
      counters: structuredClone(this.counters),
    };
  }

  private schedule(): void {
    if (!this.running) return;
    const now = Date.now();
    // fixed rate; after a stall (e.g. a slow bus) start again from now instead of bursting
    if (this.nextTickAt < now - this.options.intervalMs) this.nextTickAt = now;
    this.timer = setTimeout(
      () => {
        this.nextTickAt += this.options.intervalMs;
        this.inFlight = this.tick()
          .catch((err: unknown) => this.log.error({ err: loggableError(err) }, 'ble poll failed unexpectedly'))
          .finally(() => {
            this.inFlight = undefined;
            this.schedule();
          });
      },
      Math.max(0, this.nextTickAt - now),
    );
  }

  /** One interval: poll, then emit the batch stamped with the interval's end. */
  private async tick(): Promise<void> {
    const ts = this.options.now();
    const session = await this.usableSession();
    if (!session) return;
    try {
      await this.keepAdapterReady(session);
      const addresses = await session.listDevices();
      this.forgetRemoved(session, addresses);
      await this.pollDevices(session, addresses, ts);
      this.counters.polls += 1;
    } catch (err) {
      this.dropSession(session, err);
      return;
    }
    this.publish(ts);
  }

  private async openSession(): Promise<BluezSession> {
    const session = await BluezSession.open(this.options.adapter, {
      timeoutMs: this.options.callTimeoutMs,
      onBusError: (err) => this.warnings.warn('bus', { err }, 'D-Bus connection error'),
    });
    try {
      await this.keepAdapterReady(session, true);
    } catch (err) {
      session.close();
      throw err;
    }
    this.counters.sessionsOpened += 1;
    return session;
  }

  /** The current session, or a new one once `reconnectAfterMs` has passed since the last failure. */
  private async usableSession(): Promise<BluezSession | undefined> {
    if (this.session?.failure) this.dropSession(this.session, this.session.failure);
    if (this.session) return this.session;
    if (Date.now() < this.reconnectAt) return undefined;
    try {
      this.session = await this.openSession();
      this.log.info({ adapter: this.session.adapterName }, 'reconnected to BlueZ');
      return this.session;
    } catch (err) {
      this.reconnectAt = Date.now() + this.options.reconnectAfterMs;
      this.counters.pollFailures += 1;
      this.setState('down', `BlueZ unreachable: ${sanitiseError(err).message}`);
      this.warnings.warn('reconnect', { err: loggableError(err) }, 'cannot reach BlueZ; will retry');
      return undefined;
    }
  }

  private dropSession(session: BluezSession, err: unknown): void {
    if (this.session === session) this.session = undefined;
    session.close();
    this.reconnectAt = Date.now() + this.options.reconnectAfterMs;
    this.counters.pollFailures += 1;
    this.adapterPowered = false;
    this.discovering = false;
    this.setState('down', `BlueZ failed: ${sanitiseError(err).message}`);
    this.warnings.warn('poll', { err: loggableError(err) }, 'ble poll failed; reconnecting');
  }

  /** Powers the adapter and (re)starts LE discovery when BlueZ says it is off or not discovering. */
  private async keepAdapterReady(session: BluezSession, fresh = false): Promise<void> {
    let state = await session.readAdapterState();
    if (!state.powered || !state.discovering || fresh) {
      if (!fresh) this.counters.adapterRecoveries += 1;
      if (!state.powered) await session.powerOn();
      // a new session always sets its own filter: another client's discovery does not carry ours
      await session.startLeDiscovery();
      state = await session.readAdapterState();
    }
    this.adapterPowered = state.powered;
    this.discovering = state.discovering;
    if (state.powered && state.discovering) this.setState('ok', `adapter ${session.adapterName}: powered, discovering`);
    else
      this.setState(
        'degraded',
        `adapter ${session.adapterName}: ${state.powered ? 'powered' : 'not powered'}, ${state.discovering ? 'discovering' : 'not discovering'}`,
      );
  }

  private forgetRemoved(session: BluezSession, addresses: readonly string[]): void {
    const onBus = new Set(addresses);
    for (const key of this.tracker.keys()) if (!onBus.has(key)) this.tracker.forget(key);
    for (const address of session.heldDevices()) if (!onBus.has(address)) session.dropDevice(address);
    this.devicesOnBus = onBus.size;
  }

  private async pollDevices(session: BluezSession, addresses: readonly string[], ts: number): Promise<void> {
    const results = await Promise.allSettled(addresses.map((address) => session.readDevice(address)));
    results.forEach((result, i) => {
      const address = addresses[i] as string; // same length as results
      if (result.status === 'rejected') {
        // usually a device BlueZ removed between the listing and the read; dropped, listed again next poll
        session.dropDevice(address);
        this.counters.deviceReadErrors += 1;
        this.warnings.warn(`read:${errorName(result.reason)}`, { dbusError: errorName(result.reason) }, 'could not read a device');
        return;
      }
      const observation = this.tracker.observe(address, readDeviceProperties(result.value), ts);
      this.onNewFrames(address, observation.newFrames, ts);
    });
  }

  private onNewFrames(key: string, frames: readonly FrameResult[], ts: number): void {
    for (const result of frames) {
      if (!result.ok) {
        this.counters.invalidFrames[result.error.code] = (this.counters.invalidFrames[result.error.code] ?? 0) + 1;
        this.log.debug({ code: result.error.code, detail: result.error.detail }, 'invalid beacon frame');
      } else if (result.frame.format === 'eddystone-tlm') {
        this.onTelemetry(key, result.frame, ts);
      }
    }
  }

  private onTelemetry(key: string, frame: EddystoneTlmFrame, ts: number): void {
    const identity = this.tracker.identityOf(key);
    if (!identity) return this.skipTelemetry('unattributed');
    const beaconId = beaconIdOf(identity);
    const deviceId = this.options.tlmDeviceIds[beaconId];
    if (deviceId === undefined) return this.skipTelemetry('unconfigured');
    const last = this.lastTelemetryAt.get(beaconId);
    if (last !== undefined && ts - last < this.options.tlmMinIntervalMs) return this.skipTelemetry('rate-limited');
    const telemetry = environmentFromTlm(frame);
    if (!telemetry.ok) return this.skipTelemetry(telemetry.reason);
    const payload = { ts, event: telemetry.event };
    if (!DeviceMessageSchema.safeParse(payload).success) return this.skipTelemetry('out-of-range');
    this.lastTelemetryAt.set(beaconId, ts);
    this.pendingTelemetry.push({ kind: 'device', sourceId: deviceId, payload });
  }

  private skipTelemetry(reason: TlmSkipReason): void {
    this.counters.tlmSkipped[reason] = (this.counters.tlmSkipped[reason] ?? 0) + 1;
  }

  /** Applies the policy to the present devices and emits the interval's payloads. */
  private publish(ts: number): void {
    const present = this.tracker.present(ts);
    this.devicesPresent = present.length;
    const byId = new Map<string, { sighting: BleSighting; lastUpdateAt: number }>();
    for (const device of present) {
      const outcome = decideSighting(device, { isAllowed: this.isAllowed, others: this.options.policy.others, pseudonymise: this.options.pseudonymise });
      if (outcome.kind === 'dropped') this.counters.othersDropped += 1;
      else if (outcome.kind === 'pseudonym-failed') {
        this.counters.pseudonymFailures += 1;
        this.warnings.warn(`pseudonym:${outcome.reason}`, { reason: outcome.reason, errorName: outcome.errorName }, 'pseudonymise failed; device left out');
      } else {
        if (outcome.kind === 'pseudonymised') this.counters.pseudonymised += 1;
        // one beacon seen under two addresses (it rotated its random address): the fresher one wins
        const held = byId.get(outcome.sighting.id);
        if (!held || device.lastUpdateAt > held.lastUpdateAt) byId.set(outcome.sighting.id, { sighting: outcome.sighting, lastUpdateAt: device.lastUpdateAt });
      }
    }
    const sightings = [...byId.values()].map((v) => v.sighting).sort((a, b) => a.id.localeCompare(b.id));
    for (let i = 0; i < sightings.length; i += MAX_ITEMS_PER_MESSAGE) {
      const chunk = sightings.slice(i, i + MAX_ITEMS_PER_MESSAGE);
      if (this.send({ kind: 'ble', sourceId: this.options.sourceId, payload: { ts, sightings: chunk } })) {
        this.counters.blePayloads += 1;
        this.counters.sightings += chunk.length;
      }
    }
    const telemetry = this.pendingTelemetry;
    this.pendingTelemetry = [];
    for (const message of telemetry) if (this.send(message)) this.counters.devicePayloads += 1;
    this.log.debug({ devicesOnBus: this.devicesOnBus, present: present.length, sightings: sightings.length, telemetry: telemetry.length }, 'ble interval');
  }

  private send(message: SourcePayload): boolean {
    try {
      this.emit?.(message);
      this.lastItemAt = this.options.now();
      return true;
    } catch (err) {
      this.counters.emitErrors += 1;
      this.warnings.warn('emit', { err: sanitiseError(err), kind: message.kind }, 'the agent refused a payload');
      return false;
    }
  }

  private setState(state: SourceHealth['state'], detail: string): void {
    this.state = state;
    this.detail = detail;
  }
}
