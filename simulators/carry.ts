/**
 * How a visitor's phone radiates: its own transmit power offset (drawn once per phone) and whether it
 * is in the hand or in a pocket or bag (drawn per zone stay). Each comes from its own seeded stream, so
 * changing a share does not shift any other draw of the run.
 */
import { createRng } from './prng.js';
import type { RadioOptions } from './radio-options.js';

/** The phone's transmit power minus the nominal, dB (N(0, txSpreadDb)). */
export function phoneTxOffsetDb(seed: number, visitorIndex: number, radio: RadioOptions): number {
  return createRng(seed, 'phone-tx', visitorIndex).normal(0, radio.txSpreadDb);
}

/** Whether the phone is in a pocket or bag during the visitor's `segIndex`-th zone stay. */
export function inPocket(seed: number, visitorIndex: number, segIndex: number, radio: RadioOptions): boolean {
  return createRng(seed, 'phone-carry', visitorIndex, segIndex).chance(radio.pocketShare);
}

/** The body or pocket loss of the phone during that zone stay, dB. */
export function carryLossDb(seed: number, visitorIndex: number, segIndex: number, radio: RadioOptions): number {
  return inPocket(seed, visitorIndex, segIndex, radio) ? radio.pocketLossDb : radio.handLossDb;
}
