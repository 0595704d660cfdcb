/**
 * The radio model's parameters in one object, their defaults and their checks. Each default and the
 * measurement it comes from is in docs/simulator.md; each is a flag of `storeloop simulate`. They stay
 * inside the simulator: nothing that consumes the signals needs them.
 */
import { z } from 'zod';

export interface RadioOptions {
  /** Log-distance path-loss exponent n (2 in free space). */
  pathLossExponent: number;
  /** Standard deviation of the shadowing, dB. */
  shadowingSigmaDb: number;
  /** Distance over which the shadowing of a link decorrelates to 1/e as the phone moves, m (Gudmundson). */
  shadowingDecorrelationM: number;
  /** Time over which the shadowing of a still link decorrelates to 1/e (people and things moving around), s. */
  shadowingDecorrelationS: number;
  /** Standard deviation of a phone's transmit power around the nominal, dB (drawn once per phone). */
  txSpreadDb: number;
  /** Share of the time a phone spends in a pocket or bag rather than in the hand (drawn per zone stay). */
  pocketShare: number;
  /** Loss of a phone in a pocket or bag (the carrier's body and the fabric), dB. */
  pocketLossDb: number;
  /** Loss of a phone in the hand (the carrier's body shields part of the directions), dB. */
  handLossDb: number;
  /** Loss per zone wall on the line between phone and scanner, dB. */
  wallLossDb: number;
  /** Chance that a strong transmitter is caught within one scan interval. */
  detectionMax: number;
  /** RSSI at which the chance of being caught is half of `detectionMax`, dBm. */
  detectionMidpointDbm: number;
  /** Loss of the shop front (the outer wall the doors are in, mostly glass) between a transmitter outside and a scanner inside, dB. */
  shopFrontLossDb: number;
  /** Loss of any other outer wall (a party wall to the neighbours, the back wall), dB. */
  outerWallLossDb: number;
  /** Width w of the detection curve's fall, dB: from midpoint − 3·w to midpoint + 3·w the chance rises from about 5 % to 95 % of `detectionMax`. */
  detectionSlopeDb: number;
}

export const DEFAULT_RADIO_OPTIONS: Readonly<RadioOptions> = Object.freeze({
  pathLossExponent: 2.0,
  shadowingSigmaDb: 5,
  shadowingDecorrelationM: 2,
  shadowingDecorrelationS: 30,
  txSpreadDb: 3,
  pocketShare: 0.6,
  pocketLossDb: 10,
  handLossDb: 3,
  wallLossDb: 3,
  detectionMax: 0.92,
  detectionMidpointDbm: -90,
  detectionSlopeDb: 2,
  shopFrontLossDb: 2,
  outerWallLossDb: 10,
});

const share = z.number().min(0).max(1);
const lossDb = z.number().min(0).max(60);

export const RadioOptionsSchema = z
  .object({
    pathLossExponent: z.number().min(1).max(6),
    shadowingSigmaDb: z.number().min(0).max(20),
    shadowingDecorrelationM: z.number().positive().max(1000),
    shadowingDecorrelationS: z.number().positive().max(86_400),
    txSpreadDb: z.number().min(0).max(20),
    pocketShare: share,
    pocketLossDb: lossDb,
    handLossDb: lossDb,
    wallLossDb: lossDb,
    detectionMax: share,
    detectionMidpointDbm: z.number().min(-127).max(20),
    detectionSlopeDb: z.number().positive().max(30),
    shopFrontLossDb: lossDb,
    outerWallLossDb: lossDb,
  })
  .strict();

/** Flag of `storeloop simulate` → option, with the range the flag accepts (the schema's). */
export const RADIO_FLAGS = [
  { flag: 'path-loss-exponent', key: 'pathLossExponent', min: 1, max: 6, help: 'log-distance path-loss exponent n' },
  { flag: 'shadowing-sigma', key: 'shadowingSigmaDb', min: 0, max: 20, help: 'standard deviation of the shadowing, dB' },
  { flag: 'shadowing-decorrelation-m', key: 'shadowingDecorrelationM', min: 0.01, max: 1000, help: 'shadowing decorrelation distance as a phone moves, m' },
  { flag: 'shadowing-decorrelation-s', key: 'shadowingDecorrelationS', min: 0.01, max: 86_400, help: 'shadowing decorrelation time of a still phone, s' },
  { flag: 'tx-spread', key: 'txSpreadDb', min: 0, max: 20, help: "standard deviation of a phone's transmit power, dB" },
  { flag: 'pocket-share', key: 'pocketShare', min: 0, max: 1, help: 'share of zone stays with the phone in a pocket or bag (0-1)' },
  { flag: 'pocket-loss', key: 'pocketLossDb', min: 0, max: 60, help: 'loss of a phone in a pocket or bag, dB' },
  { flag: 'hand-loss', key: 'handLossDb', min: 0, max: 60, help: 'loss of a phone in the hand, dB' },
  { flag: 'wall-loss', key: 'wallLossDb', min: 0, max: 60, help: 'loss per zone wall between phone and scanner, dB' },
  { flag: 'detection-max', key: 'detectionMax', min: 0, max: 1, help: 'chance a strong signal is caught in one scan interval (0-1)' },
  { flag: 'detection-midpoint', key: 'detectionMidpointDbm', min: -127, max: 20, help: 'RSSI caught half as often as a strong one, dBm' },
  { flag: 'shop-front-loss', key: 'shopFrontLossDb', min: 0, max: 60, help: 'loss of the glass shop front between the street and a scanner inside, dB' },
  { flag: 'outer-wall-loss', key: 'outerWallLossDb', min: 0, max: 60, help: 'loss of the other outer walls (party walls to the neighbours), dB' },
  { flag: 'detection-slope', key: 'detectionSlopeDb', min: 0.01, max: 30, help: 'width of the fall of the detection curve, dB' },
] as const satisfies ReadonlyArray<{ flag: string; key: keyof RadioOptions; min: number; max: number; help: string }>;
