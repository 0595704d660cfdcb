/**
 * Zone anchors: evidence of where a device was at an instant from something other than its radio, for
 * now touchpoint interactions. A touchpoint message that carries the visitor's beacon id (its
 * `beacon` field, the id the scanners report) says that this beacon's carrier was at the touchpoint,
 * in its configured zone, when the touchpoint stamped it: a use is made standing at a kiosk, a mirror,
 * a QR code or a feedback terminal. In a step the app was silent this is the only evidence there is.
 */
import type { StoreConfig } from '../../config/index.js';
import { stepOf, type StepClock } from './observations.js';

/** The device (beacon id) was in `zone` at `ts` (the source's clock), by the word of `source`. */
export interface ZoneAnchor {
  ts: number;
  /** The beacon id, as in the sightings. */
  device: string;
  zone: string;
  /** The source that stamped `ts` (a touchpoint id); its clock may be off like any sensor's. */
  source: string;
}

/** A touchpoint interaction as the gateway stores it (an `interaction` point): the message's `ts`, the touchpoint, the beacon id when it carried one. */
export interface InteractionInput {
  ts: number;
  touchpoint: string;
  beacon?: string;
}

/** Anchors of the interactions that name a beacon id, at their touchpoint's configured zone; interactions of unknown touchpoints are left out. */
export function touchpointAnchors(store: Pick<StoreConfig, 'touchpoints'>, interactions: Iterable<InteractionInput>): ZoneAnchor[] {
  const zoneOf = new Map(store.touchpoints.map((t) => [t.id, t.zone]));
  const out: ZoneAnchor[] = [];
  for (const i of interactions) {
    const zone = zoneOf.get(i.touchpoint);
    if (zone === undefined || i.beacon === undefined) continue;
    out.push({ ts: i.ts, device: i.beacon, zone, source: i.touchpoint });
  }
  return out;
}

/** Device → step → the zone indices anchored in it (sorted, distinct). Anchors of unknown zones are ignored; `offsets` are the sources' clock offsets (absent: 0). */
export function anchorSteps(
  anchors: Iterable<ZoneAnchor>,
  zones: readonly string[],
  clock: StepClock,
  offsets: ReadonlyMap<string, number> = new Map(),
): Map<string, Map<number, number[]>> {
  const index = new Map(zones.map((z, i) => [z, i]));
  const out = new Map<string, Map<number, number[]>>();
  for (const a of anchors) {
    const zone = index.get(a.zone);
    if (zone === undefined) continue;
    const step = stepOf({ ...clock, offsets }, a.source, a.ts);
    const steps = out.get(a.device) ?? new Map<number, number[]>();
    out.set(a.device, steps);
    const list = steps.get(step) ?? [];
    if (!list.includes(zone)) list.push(zone);
    list.sort((x, y) => x - y);
    steps.set(step, list);
  }
  return out;
}

/**
 * The log-likelihood per zone of a step with anchors in `anchored`: 0 in an anchored zone,
 * `missLog` (a large negative log-likelihood: the chance the anchor is wrong) in every other.
 */
export function anchorLogLikelihoods(anchored: readonly number[], zoneCount: number, missLog: number): Float64Array {
  const out = new Float64Array(zoneCount).fill(missLog);
  for (const z of anchored) out[z] = 0;
  return out;
}
