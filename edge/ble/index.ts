/** BLE source of the edge agent: beacons and devices from BlueZ (node-ble over D-Bus) into `ble` sightings and TLM telemetry. */
export { BleSource, type BleCounters, type BleSourceHealth, type TlmSkipReason } from './bluez-source.js';
export { BLE_SOURCE_DEFAULTS, type BleSourceOptions } from './ble-options.js';
export type { BlePolicy, Pseudonymise } from './beacon-policy.js';
export { BleError, type BleErrorCode } from './ble-errors.js';
