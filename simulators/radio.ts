/**
 * Received signal strength of one phone–scanner link in one scan interval (docs/simulator.md):
 * rssi = tx + g + o − 10·n·log10(max(d, 0.5 m)) − walls·w − carry + s, with tx the technology's
 * power at 1 m, g the scanner's calibration gain, o the phone's own transmit offset, w the loss per
 * zone wall on the line of sight, carry the body/pocket loss and s the correlated shadowing
 * (shadowing.ts). Whether the scanner catches the transmitter at all falls with the RSSI along a
 * logistic curve. Rounded and clamped to the contract's range.
 */
import type { Rng } from './prng.js';
import type { RadioOptions } from './radio-options.js';

/** What a technology transmits and what its receivers can hear. */
export interface Technology {
  /** RSSI at 1 m from a nominal transmitter on a nominal scanner, dBm. */
  txAt1mDbm: number;
  /** Weakest signal a receiver reports, dBm. */
  sensitivityDbm: number;
}

/** BLE advertisers (iBeacon in the retailer's app, fixed Eddystone beacons): iBeacon's customary −59 dBm at 1 m. */
export const BLE: Technology = { txAt1mDbm: -59, sensitivityDbm: -95 };
/** Wifi probe requests from phones heard by wifi sensors (phones transmit louder than beacons). */
export const WIFI: Technology = { txAt1mDbm: -45, sensitivityDbm: -95 };

/** The contract's RSSI range (protocol/messages.ts). */
export const RSSI_MIN_DBM = -127;
export const RSSI_MAX_DBM = 20;
const MIN_DISTANCE_M = 0.5;

/** Everything about one link in one interval but the random draws. */
export interface Link {
  distanceM: number;
  /** The scanner's calibration gain (its `rssiAt1m` minus its type's default), dB. */
  gainDb?: number;
  /** The transmitter's offset from the nominal power (a phone's own radio), dB. */
  txOffsetDb?: number;
  /** Zone walls on the line between transmitter and scanner (walls.ts). */
  walls?: number;
  /** Body or pocket loss of the carrier (carry.ts), dB. */
  carryLossDb?: number;
  /** Correlated shadowing of this link now (shadowing.ts), dB. */
  shadowingDb?: number;
  /** The store's outer wall between a transmitter outside and the scanner (street.ts), dB. */
  outerLossDb?: number;
}

/** Mean RSSI of the link without shadowing, dBm (not rounded). */
export function meanRssi(tech: Technology, radio: RadioOptions, link: Link): number {
  const pathLoss = 10 * radio.pathLossExponent * Math.log10(Math.max(link.distanceM, MIN_DISTANCE_M));
  return (
    tech.txAt1mDbm +
    (link.gainDb ?? 0) +
    (link.txOffsetDb ?? 0) -
    pathLoss -
    (link.walls ?? 0) * radio.wallLossDb -
    (link.carryLossDb ?? 0) -
    (link.outerLossDb ?? 0)
  );
}

/** The RSSI the scanner measures, integer dBm within the contract's range. */
export function linkRssi(tech: Technology, radio: RadioOptions, link: Link): number {
  const rssi = Math.round(meanRssi(tech, radio, link) + (link.shadowingDb ?? 0));
  return Math.min(RSSI_MAX_DBM, Math.max(RSSI_MIN_DBM, rssi));
}

/**
 * Chance that a transmitter received at `rssiDbm` is caught within one scan interval: a logistic
 * curve, `detectionMax` for strong signals, half of it at `detectionMidpointDbm`, its width `detectionSlopeDb`.
 */
export function detectionProbability(radio: RadioOptions, rssiDbm: number): number {
  return radio.detectionMax / (1 + Math.exp((radio.detectionMidpointDbm - rssiDbm) / radio.detectionSlopeDb));
}

/**
 * The RSSI the scanner reports in one interval, or undefined when it caught nothing. Draws exactly one
 * number from `rng` whatever the outcome, so a link's draws never shift another's.
 */
export function hear(tech: Technology, radio: RadioOptions, link: Link, rng: Rng): number | undefined {
  const rssi = linkRssi(tech, radio, link);
  const caught = rng.chance(detectionProbability(radio, rssi));
  return caught && rssi >= tech.sensitivityDbm ? rssi : undefined;
}
