/**
 * Failures of the BLE source. Messages, contexts and causes never carry a device address: D-Bus
 * errors are re-made from their name and a masked message (object paths spell addresses as dev_XX_XX_…).
 */
import { StoreloopError } from '../../lib/errors.js';
import { maskMacAddresses } from '../../protocol/index.js';

export type BleErrorCode =
  /** An option is malformed. */
  | 'SL_ERR_BLE_CONFIG'
  /** The configured adapter (or any adapter) is not on org.bluez. */
  | 'SL_ERR_BLE_ADAPTER_NOT_FOUND'
  /** BlueZ or the bus refused or failed a call (power, filter, discovery, listing). */
  | 'SL_ERR_BLE_DBUS'
  /** node-ble's internals are not what this module was written against. */
  | 'SL_ERR_BLE_NODE_BLE';

export class BleError extends StoreloopError {
  constructor(code: BleErrorCode, message: string, options: { context?: Record<string, unknown>; cause?: unknown } = {}) {
    super(code, message, options.context, options.cause === undefined ? undefined : { cause: sanitiseError(options.cause) });
  }
}

const DBUS_DEVICE_PATH = /dev(?:_[0-9a-f]{2}){6}/gi;

/** Masks MAC addresses in any spelling BlueZ uses: `AA:BB:…` and object path segments `dev_AA_BB_…`. */
export function maskAddresses(text: string): string {
  return maskMacAddresses(text).replace(DBUS_DEVICE_PATH, 'dev_xx_xx_xx_xx_xx_xx');
}

/** The D-Bus error name (dbus-next's DBusError.type) or the JS error name. */
export function errorName(err: unknown): string {
  if (typeof err === 'object' && err !== null) {
    const type = (err as { type?: unknown }).type;
    if (typeof type === 'string') return type;
    if (err instanceof Error) return err.name;
  }
  return typeof err;
}

/** A copy of an error that is safe to log: its name, and its message with addresses masked; no stack of the original. */
export function sanitiseError(err: unknown): Error {
  const message = maskAddresses(err instanceof Error ? err.message : String(err)).slice(0, 300);
  const safe = new Error(message);
  safe.name = errorName(err);
  safe.stack = `${safe.name}: ${message}`;
  return safe;
}

/** A BleError as it is (its message and context are built here, its cause already sanitised); anything else sanitised. */
export function loggableError(err: unknown): Error {
  return err instanceof BleError ? err : sanitiseError(err);
}
