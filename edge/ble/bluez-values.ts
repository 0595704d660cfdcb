/**
 * Turns org.bluez.Device1 property values (unknown: D-Bus variants as dbus-next returns them, or the
 * JSON shapes of the test vectors) into typed readings. Pure; anything malformed is left out.
 */
import type { Advertisement } from './beacon-parser.js';

/** What one poll of a Device1 object says. `address` is raw: it never leaves this module's callers' memory. */
export interface DeviceReading {
  address?: string;
  addressType?: string;
  /** dBm; absent when BlueZ has no current reading (it clears RSSI when discovery stops). */
  rssi?: number;
  /** Advertised TX Power Level, dBm (Core Spec Supplement A 1.5). */
  txPower?: number;
  advertisement: Advertisement;
}

/** The RSSI range the wire contract accepts (protocol/messages.ts). */
const RSSI_MIN = -127;
const RSSI_MAX = 20;

/** Reads a Device1 property dict (GetAll result, variants unwrapped or not). */
export function readDeviceProperties(props: unknown): DeviceReading {
  const record = isRecord(props) ? props : {};
  const rssi = asInteger(record.RSSI);
  const txPower = asInteger(record.TxPower);
  const address = unwrapVariant(record.Address);
  const addressType = unwrapVariant(record.AddressType);
  return {
    ...(typeof address === 'string' ? { address } : {}),
    ...(typeof addressType === 'string' ? { addressType } : {}),
    ...(rssi !== undefined && rssi >= RSSI_MIN && rssi <= RSSI_MAX ? { rssi } : {}),
    ...(txPower !== undefined && txPower >= -128 && txPower <= 127 ? { txPower } : {}),
    advertisement: toAdvertisement(record.ManufacturerData, record.ServiceData),
  };
}

/**
 * `ManufacturerData` (a{qv}: uint16 company id → ay) and `ServiceData` (a{sv}: UUID string → ay) as
 * maps. Keys may arrive as numbers, decimal strings (JSON, dbus-next objects) or in a Map.
 */
export function toAdvertisement(manufacturerData: unknown, serviceData: unknown): Advertisement {
  const md = new Map<number, Uint8Array>();
  for (const [key, value] of entriesOf(manufacturerData)) {
    const companyId = typeof key === 'number' ? key : /^\d{1,5}$/.test(key) ? Number(key) : NaN;
    const bytes = toBytes(value);
    if (Number.isInteger(companyId) && companyId >= 0 && companyId <= 0xffff && bytes) md.set(companyId, bytes);
  }
  const sd = new Map<string, Uint8Array>();
  for (const [key, value] of entriesOf(serviceData)) {
    const bytes = toBytes(value);
    if (typeof key === 'string' && bytes) sd.set(key.toLowerCase(), bytes);
  }
  return { manufacturerData: md, serviceData: sd };
}

/** A byte array from a Buffer, a Uint8Array, an array of 0-255 or a variant holding one. */
export function toBytes(value: unknown): Uint8Array | undefined {
  const v = unwrapVariant(value);
  if (v instanceof Uint8Array) return v;
  if (Array.isArray(v) && v.every((b) => Number.isInteger(b) && b >= 0 && b <= 255)) return Uint8Array.from(v as number[]);
  return undefined;
}

function entriesOf(value: unknown): Array<[string | number, unknown]> {
  const v = unwrapVariant(value);
  if (v instanceof Map) return [...v.entries()].filter((e): e is [string | number, unknown] => typeof e[0] === 'string' || typeof e[0] === 'number');
  if (isRecord(v) && !Array.isArray(v)) return Object.entries(v);
  return [];
}

/** dbus-next's Variant is `{ signature, value }`; node-ble unwraps only the outer level of GetAll. */
function unwrapVariant(value: unknown): unknown {
  let v = value;
  for (let depth = 0; depth < 4 && isRecord(v) && typeof v.signature === 'string' && 'value' in v; depth += 1) v = v.value;
  return v;
}

function asInteger(value: unknown): number | undefined {
  const v = unwrapVariant(value);
  return typeof v === 'number' && Number.isInteger(v) ? v : undefined;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}
