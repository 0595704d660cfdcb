/**
 * Received signal strength: log-distance path loss with log-normal shadowing,
 * rssi = tx − 10·n·log10(max(d, 0.5 m)) + N(0, σ), rounded and clamped to the contract's range.
 */
import type { Rng } from './prng.js';

export interface RadioModel {
  /** RSSI at 1 m, dBm. */
  txAt1mDbm: number;
  /** Path-loss exponent (2 in free space, 2-3 in a shop). */
  pathLossExponent: number;
  /** Standard deviation of the shadowing, dB. */
  shadowingSigmaDb: number;
  /** Weakest signal a receiver reports, dBm. */
  sensitivityDbm: number;
  /** Chance that an audible transmitter is caught within one scan interval. */
  detectionProbability: number;
}

/** BLE advertisers (iBeacon in the retailer's app, fixed Eddystone beacons) heard by BLE scanners. */
export const BLE_RADIO: RadioModel = { txAt1mDbm: -59, pathLossExponent: 2.2, shadowingSigmaDb: 4, sensitivityDbm: -95, detectionProbability: 0.92 };
/** Wifi probe requests from phones heard by wifi sensors (phones transmit louder than beacons). */
export const WIFI_RADIO: RadioModel = { txAt1mDbm: -45, pathLossExponent: 2.5, shadowingSigmaDb: 5, sensitivityDbm: -95, detectionProbability: 0.95 };

/** The contract's RSSI range (protocol/messages.ts). */
export const RSSI_MIN_DBM = -127;
export const RSSI_MAX_DBM = 20;
const MIN_DISTANCE_M = 0.5;

/**
 * One RSSI sample at `distanceM`, integer dBm within the contract's range. `gainDb` is the receiver's
 * own offset (a scanner calibrated to read 3 dB under the model at 1 m has −3).
 */
export function sampleRssi(model: RadioModel, distanceM: number, rng: Rng, gainDb = 0): number {
  const mean = model.txAt1mDbm + gainDb - 10 * model.pathLossExponent * Math.log10(Math.max(distanceM, MIN_DISTANCE_M));
  const rssi = Math.round(mean + rng.normal(0, model.shadowingSigmaDb));
  return Math.min(RSSI_MAX_DBM, Math.max(RSSI_MIN_DBM, rssi));
}

/** The RSSI a receiver reports in one scan interval, or undefined when it heard nothing. */
export function hear(model: RadioModel, distanceM: number, rng: Rng, gainDb = 0): number | undefined {
  if (!rng.chance(model.detectionProbability)) return undefined;
  const rssi = sampleRssi(model, distanceM, rng, gainDb);
  return rssi >= model.sensitivityDbm ? rssi : undefined;
}
