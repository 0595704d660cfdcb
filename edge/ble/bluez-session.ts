/**
 * The only module that talks to BlueZ: node-ble on the system bus (dbus-next honours
 * DBUS_SYSTEM_BUS_ADDRESS). node-ble 1.13 has no `Powered` setter and its `startDiscovery()` pins the
 * filter to `{Transport: 'le'}`, so those calls go through node-ble's own BusHelper of the adapter
 * (its dbus-next connection) with node-ble's own variant builder, rather than a fork.
 * Device addresses pass through here as node-ble's device names and are handed on, never logged.
 */
import { createRequire } from 'node:module';

import { createBluetooth } from 'node-ble';
import type NodeBle from 'node-ble';

import { BleError, errorName, maskAddresses } from './ble-errors.js';

/** What node-ble's `BusHelper` offers (src/BusHelper.js); checked at run time, since node-ble does not export it. */
interface BusHelper {
  props(): Promise<Record<string, unknown>>;
  set(propName: string, value: unknown): Promise<void>;
  callMethod(methodName: string, ...args: unknown[]): Promise<unknown>;
  removeListeners(): void;
}

type TypedValue = (type: 'string' | 'boolean', value: string | boolean) => unknown;

export interface AdapterState {
  powered: boolean;
  discovering: boolean;
}

/** BlueZ answers StartDiscovery with this when this client already has a discovery session. */
const IN_PROGRESS = 'org.bluez.Error.InProgress';

export class BluezSession {
  private readonly devices = new Map<string, { device: NodeBle.Device; helper: BusHelper }>();
  private broken: Error | undefined;

  private constructor(
    readonly adapterName: string,
    private readonly adapterHelper: BusHelper,
    private readonly adapter: NodeBle.Adapter,
    private readonly destroy: () => void,
    private readonly typed: TypedValue,
    private readonly timeoutMs: number,
  ) {}

  /**
   * Connects to the system bus and picks the adapter (`name`, or BlueZ's first). dbus-next calls have
   * no timeout of their own (a hung bluetoothd would hang them forever): every call here gets `timeoutMs`.
   */
  static async open(name: string | undefined, options: { timeoutMs: number; onBusError: (err: Error) => void }): Promise<BluezSession> {
    const { timeoutMs, onBusError } = options;
    const typed = loadTypedValue();
    const { bluetooth, destroy } = createBluetooth();
    // dbus-next emits 'error' on its MessageBus for socket failures; without a listener that kills the process
    const bus = (bluetooth as unknown as { dbus?: unknown }).dbus;
    let session: BluezSession | undefined;
    const busError = (err: unknown) => {
      const safe = new BleError('SL_ERR_BLE_DBUS', 'the D-Bus connection failed', { cause: err });
      if (session) session.broken = safe;
      onBusError(safe);
    };
    if (!isEmitter(bus)) {
      destroy();
      throw new BleError('SL_ERR_BLE_NODE_BLE', "node-ble's Bluetooth object has no dbus-next connection (dbus); was node-ble upgraded past 1.13?");
    }
    bus.on('error', busError);
    try {
      const adapterNames = await withTimeout(bluetooth.adapters(), timeoutMs, 'list adapters');
      const adapterName = name ?? adapterNames[0];
      if (adapterName === undefined || !adapterNames.includes(adapterName)) {
        throw new BleError('SL_ERR_BLE_ADAPTER_NOT_FOUND', name === undefined ? 'no Bluetooth adapter on org.bluez' : `adapter '${name}' is not on org.bluez`, {
          context: { adapter: name ?? null, available: adapterNames },
        });
      }
      const adapter = await withTimeout(bluetooth.getAdapter(adapterName), timeoutMs, 'open the adapter');
      session = new BluezSession(adapterName, helperOf(adapter, 'Adapter'), adapter, destroy, typed, timeoutMs);
      return session;
    } catch (err) {
      destroy();
      if (err instanceof BleError) throw err;
      throw new BleError('SL_ERR_BLE_DBUS', `could not reach BlueZ on the system bus: ${maskAddresses(errorName(err))}`, { cause: err });
    }
  }

  /** Set when the bus connection reported an error: the session must be replaced. */
  get failure(): Error | undefined {
    return this.broken;
  }

  async readAdapterState(): Promise<AdapterState> {
    const props = await this.call('read adapter properties', () => this.adapterHelper.props());
    return { powered: props.Powered === true, discovering: props.Discovering === true };
  }

  /** org.freedesktop.DBus.Properties.Set(org.bluez.Adapter1, Powered, true). */
  async powerOn(): Promise<void> {
    await this.call('power the adapter on', () => this.adapterHelper.set('Powered', this.typed('boolean', true)));
  }

  /**
   * Adapter1.SetDiscoveryFilter({Transport: 'le', DuplicateData: true}) then StartDiscovery. With a
   * filter set, BlueZ reports every advertisement and drops its RSSI delta threshold (org.bluez.Adapter.rst).
   */
  async startLeDiscovery(): Promise<void> {
    const filter = { Transport: this.typed('string', 'le'), DuplicateData: this.typed('boolean', true) };
    await this.call('set the discovery filter', () => this.adapterHelper.callMethod('SetDiscoveryFilter', filter));
    try {
      await withTimeout(this.adapterHelper.callMethod('StartDiscovery'), this.timeoutMs, 'start discovery');
    } catch (err) {
      if (errorName(err) !== IN_PROGRESS) throw this.fail('start discovery', err);
    }
  }

  async stopDiscovery(): Promise<void> {
    await this.call('stop discovery', () => this.adapterHelper.callMethod('StopDiscovery'));
  }

  /** Addresses of the Device1 objects under the adapter (node-ble reads them from the object paths). */
  async listDevices(): Promise<string[]> {
    return this.call('list devices', () => this.adapter.devices());
  }

  /** All org.bluez.Device1 properties of one device (one GetAll). */
  async readDevice(address: string): Promise<Record<string, unknown>> {
    let entry = this.devices.get(address);
    if (!entry) {
      const device = await withTimeout(this.adapter.getDevice(address), this.timeoutMs, 'open a device');
      entry = { device, helper: helperOf(device, 'Device') };
      this.devices.set(address, entry);
    }
    return withTimeout(entry.helper.props(), this.timeoutMs, 'read a device');
  }

  /** Releases what node-ble holds for a device that left (its PropertiesChanged subscription). */
  dropDevice(address: string): void {
    this.devices.get(address)?.helper.removeListeners();
    this.devices.delete(address);
  }

  /** Device handles held, to drop the ones BlueZ removed. */
  heldDevices(): string[] {
    return [...this.devices.keys()];
  }

  close(): void {
    for (const address of this.heldDevices()) this.dropDevice(address);
    this.destroy();
  }

  private async call<T>(what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await withTimeout(fn(), this.timeoutMs, what);
    } catch (err) {
      throw this.fail(what, err);
    }
  }

  private fail(what: string, err: unknown): BleError {
    return new BleError('SL_ERR_BLE_DBUS', `could not ${what} on adapter '${this.adapterName}' (${errorName(err)})`, {
      context: { adapter: this.adapterName, dbusError: errorName(err) },
      cause: err,
    });
  }
}

/** Rejects with a `Timeout` error when `promise` has not settled within `ms`. */
async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const err = new Error(`no answer to '${what}' within ${ms} ms`);
      err.name = 'Timeout';
      reject(err);
    }, ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function helperOf(target: object, what: string): BusHelper {
  const helper = (target as { helper?: unknown }).helper;
  const methods = ['props', 'set', 'callMethod', 'removeListeners'];
  if (typeof helper === 'object' && helper !== null && methods.every((m) => typeof (helper as Record<string, unknown>)[m] === 'function')) {
    return helper as BusHelper;
  }
  throw new BleError('SL_ERR_BLE_NODE_BLE', `node-ble's ${what} has no BusHelper (helper.${methods.join('/')}); was node-ble upgraded past 1.13?`);
}

/** node-ble's own variant builder (src/buildTypedValue.js): its Variant class is the one its dbus-next marshals. */
function loadTypedValue(): TypedValue {
  const required: unknown = createRequire(import.meta.url)('node-ble/src/buildTypedValue.js');
  if (typeof required !== 'function')
    throw new BleError('SL_ERR_BLE_NODE_BLE', 'node-ble/src/buildTypedValue.js is not a function; was node-ble upgraded past 1.13?');
  return required as TypedValue;
}

function isEmitter(value: unknown): value is { on(event: 'error', listener: (err: unknown) => void): unknown } {
  return typeof value === 'object' && value !== null && typeof (value as { on?: unknown }).on === 'function';
}
