/**
 * What a tracked device becomes on the wire: the contract id of an allowlisted beacon, `dev:<pseudonym>`
 * for anything else when the policy pseudonymises, or nothing when it drops. Pure; the raw address
 * goes only into `pseudonymise`.
 */
import { BleSightingSchema, DEVICE_ID, containsMacAddress, type BleSighting } from '../../protocol/index.js';
import type { IdentityFrame } from './beacon-parser.js';
import { BleError } from './ble-errors.js';

export interface BlePolicy {
  /**
   * Beacons always kept: iBeacon proximity UUIDs, Eddystone namespaces (20 hex) and AltBeacon ids
   * (40 hex, or their first 16 bytes as a UUID). Case and dashes do not matter.
   */
  allowUuids: readonly string[];
  /** Every other device: dropped, or sent as `dev:<pseudonym>`. */
  others: 'drop' | 'pseudonymise';
}

/** Keyed hash of a device address from edge/pseudonymise: 16-64 characters of A-Z a-z 0-9 _ -. */
export type Pseudonymise = (address: string) => string;

/**
 * Eddystone announces power at 0 m, iBeacon and AltBeacon at 1 m; the contract's `tx` is compared with
 * RSSI at 1 m downstream, so 0 m values lose the 41 dB the Eddystone spec gives for the first metre
 * (eddystone-uid/README.md: "add 41 dBm" to the power measured at 1 m).
 */
export const LOSS_AT_1M_DB = 41;
const TX_MIN = -127;
const TX_MAX = 20;

/**
 * Which way a device went. `pseudonym-failed`: pseudonymise threw (only the error's name is kept: its
 * message might quote the address) or returned something that is not a pseudonym.
 */
export type SightingOutcome =
  | { kind: 'beacon'; sighting: BleSighting }
  | { kind: 'pseudonymised'; sighting: BleSighting }
  | { kind: 'dropped' }
  | { kind: 'pseudonym-failed'; reason: 'threw' | 'invalid'; errorName?: string };

export interface DeviceForPolicy {
  address?: string;
  identity?: IdentityFrame;
  /** Smoothed RSSI, dBm. */
  rssi: number;
  /** BlueZ `TxPower` (advertised TX Power Level at the antenna), dBm. */
  txPower?: number;
}

/** Compiles the allowlist into a predicate; throws `SL_ERR_BLE_CONFIG` naming a malformed entry. */
export function createAllowlist(entries: readonly string[]): (frame: IdentityFrame) => boolean {
  const keys = new Set<string>();
  entries.forEach((entry, index) => {
    const key = entry.toLowerCase().replace(/-/g, '');
    if (!/^(?:[0-9a-f]{20}|[0-9a-f]{32}|[0-9a-f]{40})$/.test(key)) {
      throw new BleError('SL_ERR_BLE_CONFIG', `policy.allowUuids[${index}]: expected a UUID, a 20-hex Eddystone namespace or a 40-hex AltBeacon id`, {
        context: { index },
      });
    }
    keys.add(key);
  });
  return (frame) => {
    switch (frame.format) {
      case 'ibeacon':
        return keys.has(frame.uuid.replace(/-/g, ''));
      case 'eddystone-uid':
        return keys.has(frame.namespaceId);
      case 'altbeacon':
        return keys.has(frame.beaconId) || keys.has(frame.beaconId.slice(0, 32));
    }
  };
}

/** The contract id of a beacon: `ibeacon:<uuid>:<major>:<minor>`, `eddystone:<ns>:<instance>`, `altbeacon:<id>`. */
export function beaconIdOf(frame: IdentityFrame): string {
  switch (frame.format) {
    case 'ibeacon':
      return `ibeacon:${frame.uuid}:${frame.major}:${frame.minor}`;
    case 'eddystone-uid':
      return `eddystone:${frame.namespaceId}:${frame.instanceId}`;
    case 'altbeacon':
      return `altbeacon:${frame.beaconId}`;
  }
}

/** The calibrated power at 1 m the beacon announces, when it fits the contract's range. */
export function txAt1mOf(frame: IdentityFrame): number | undefined {
  const tx = frame.format === 'ibeacon' ? frame.measuredPower : frame.format === 'altbeacon' ? frame.referenceRssi : frame.txPower - LOSS_AT_1M_DB;
  return inTxRange(tx);
}

/** Applies the policy to one device. */
export function decideSighting(
  device: DeviceForPolicy,
  policy: { isAllowed: (frame: IdentityFrame) => boolean; others: BlePolicy['others']; pseudonymise: Pseudonymise },
): SightingOutcome {
  if (device.identity && policy.isAllowed(device.identity)) {
    const tx = txAt1mOf(device.identity);
    const sighting = { id: beaconIdOf(device.identity), rssi: device.rssi, ...(tx === undefined ? {} : { tx }) };
    // an allowlisted frame always gives a valid id; checked anyway so nothing off-contract is queued
    return BleSightingSchema.safeParse(sighting).success ? { kind: 'beacon', sighting } : { kind: 'dropped' };
  }
  if (policy.others === 'drop' || device.address === undefined) return { kind: 'dropped' };
  let pseudonym: unknown;
  try {
    pseudonym = policy.pseudonymise(device.address);
  } catch (err) {
    return { kind: 'pseudonym-failed', reason: 'threw', errorName: err instanceof Error ? err.name : typeof err };
  }
  const id = `dev:${String(pseudonym)}`;
  if (typeof pseudonym !== 'string' || !DEVICE_ID.test(id) || containsMacAddress(id)) return { kind: 'pseudonym-failed', reason: 'invalid' };
  const tx = device.txPower === undefined ? undefined : inTxRange(device.txPower - LOSS_AT_1M_DB);
  const sighting = { id, rssi: device.rssi, ...(tx === undefined ? {} : { tx }) };
  return BleSightingSchema.safeParse(sighting).success ? { kind: 'pseudonymised', sighting } : { kind: 'pseudonym-failed', reason: 'invalid' };
}

function inTxRange(tx: number): number | undefined {
  return Number.isInteger(tx) && tx >= TX_MIN && tx <= TX_MAX ? tx : undefined;
}
