/**
 * Touchpoint use: visitors standing in a touchpoint's zone sometimes use it (kiosk `view`/`tap`,
 * mirror `try_on`, QR `scan`, feedback terminal `feedback` 1-5). App users' interactions carry their
 * app pseudonym and the beacon id their phone advertises (linking the interaction to the sightings of
 * that id), and the CRM id when a known customer identifies themselves. Anyone else's stay anonymous.
 *
 * One user at a time: a touchpoint is busy from a use's first action until USE_TAIL_MS after its last.
 * Someone who wants it while it is busy waits up to WAIT_MAX_MS for it (their actions move later by the
 * wait; those that would fall after they step out of the zone are dropped) or gives up.
 */
import type { StoreConfig } from '../config/index.js';
import { RANK_NORMAL, type DraftMessage } from './messages.js';
import { createRng, type Rng } from './prng.js';
import type { PathSegment, Visitor } from './visitors.js';

export type TouchpointType = StoreConfig['touchpoints'][number]['type'];

/** One interaction as the model made it (the ground truth of touchpoint messages). */
export interface Interaction {
  touchpoint: string;
  action: string;
  ts: number;
  /** Internal id of the visit (never on the wire). */
  visit: string;
  /** App pseudonym sent on the wire, for app users. */
  visitor?: string;
  /** Beacon id the app user's phone advertises (the `ble` sightings' id), sent on the wire. */
  beacon?: string;
  customer?: string;
  value?: number;
  label?: string;
}

const KIOSK_PAGES = ['lookbook', 'new_in', 'size_guide', 'store_map', 'offers', 'click_and_collect'];
/** Chance of using a touchpoint during a stay in its zone: [app user, anyone else]. */
const USE_CHANCE: Readonly<Record<TouchpointType, readonly [number, number]>> = {
  kiosk: [0.35, 0.2],
  mirror: [0.6, 0.5],
  qr: [0.3, 0.06],
  feedback: [0.3, 0.18],
};
/** Chance that a known customer identifies themselves at a touchpoint. */
const IDENTIFY_CHANCE = 0.5;
const FEEDBACK_SCORES = [1, 2, 3, 4, 5];
const FEEDBACK_WEIGHTS = [0.05, 0.07, 0.15, 0.35, 0.38];
/** Longest a visitor waits for a touchpoint in use before giving up (assumed; docs/simulator.md). */
export const WAIT_MAX_MS = 30_000;
/** How long a touchpoint stays in use after a use's last action (assumed; docs/simulator.md). */
export const USE_TAIL_MS: Readonly<Record<TouchpointType, number>> = { kiosk: 10_000, mirror: 30_000, qr: 3_000, feedback: 3_000 };

export interface InteractionParams {
  seed: number;
  store: StoreConfig;
  visitors: readonly Visitor[];
  /** SKUs a mirror suggests (try-on labels). */
  clothingSkus: readonly string[];
  /** When touchpoints are out of order (a scenario): a use that would begin then does not happen. */
  outOfOrder?: ReadonlyArray<{ touchpoint: string; from: number; to: number }>;
}

/** A use someone wants to make: its actions as if the touchpoint were free, inside one zone stay. */
export interface WantedUse {
  visitorIndex: number;
  seg: PathSegment;
  interactions: Interaction[];
}

/** Every interaction of the window, ascending by time; at most one user at a time per touchpoint. */
export function planInteractions(params: InteractionParams): Interaction[] {
  const out: Interaction[] = [];
  for (const tp of params.store.touchpoints) {
    const broken = (params.outOfOrder ?? []).filter((w) => w.touchpoint === tp.id);
    const wanted: WantedUse[] = [];
    for (const visitor of params.visitors) {
      visitor.path.forEach((seg, segIndex) => {
        if (seg.zone !== tp.zone) return;
        const rng = createRng(params.seed, 'touchpoint', tp.id, visitor.index, segIndex);
        const [appChance, otherChance] = USE_CHANCE[tp.type];
        if (!rng.chance(visitor.app ? appChance : otherChance)) return;
        const who = identity(visitor, rng);
        const interactions = session(tp.type, seg, rng, params.clothingSkus).map((action) => ({ touchpoint: tp.id, visit: visitor.id, ...who, ...action }));
        const first = interactions[0];
        // someone who finds it out of order walks on: no use, no message
        if (first && broken.some((w) => first.ts >= w.from && first.ts < w.to)) return;
        if (interactions.length > 0) wanted.push({ visitorIndex: visitor.index, seg, interactions });
      });
    }
    // nor does anything reach it while it is out of order (a use begun before it broke, or pushed into it by a wait)
    out.push(...oneAtATime(wanted, USE_TAIL_MS[tp.type]).filter((i) => !broken.some((w) => i.ts >= w.from && i.ts < w.to)));
  }
  return out.sort((a, b) => a.ts - b.ts || a.touchpoint.localeCompare(b.touchpoint));
}

/** Serves the wanted uses of one touchpoint in the order people step up: a busy touchpoint makes them wait (up to WAIT_MAX_MS) or give up. */
export function oneAtATime(wanted: readonly WantedUse[], tailMs: number): Interaction[] {
  const out: Interaction[] = [];
  let freeAt = -Infinity;
  const byStart = [...wanted].sort((a, b) => firstTs(a) - firstTs(b) || a.visitorIndex - b.visitorIndex);
  for (const use of byStart) {
    const wait = Math.max(0, freeAt - firstTs(use));
    if (wait > WAIT_MAX_MS) continue;
    const done = use.interactions.map((i) => ({ ...i, ts: i.ts + wait })).filter((i) => i.ts < use.seg.to);
    if (done.length === 0) continue;
    out.push(...done);
    freeAt = (done[done.length - 1] as Interaction).ts + tailMs;
  }
  return out;
}

function firstTs(use: WantedUse): number {
  return (use.interactions[0] as Interaction).ts;
}

function identity(visitor: Visitor, rng: Rng): Pick<Interaction, 'visitor' | 'beacon' | 'customer'> {
  const identifies = visitor.customer !== undefined && rng.chance(IDENTIFY_CHANCE);
  return {
    ...(visitor.appPseudonym !== undefined ? { visitor: visitor.appPseudonym } : {}),
    ...(visitor.beaconId !== undefined ? { beacon: visitor.beaconId } : {}),
    ...(identifies ? { customer: visitor.customer } : {}),
  };
}

type Action = Pick<Interaction, 'action' | 'ts' | 'value' | 'label'>;

/** The actions of one use, all inside the stay (before the visitor steps out). */
function session(type: TouchpointType, seg: PathSegment, rng: Rng, skus: readonly string[]): Action[] {
  const actions: Action[] = [];
  const add = (action: Action) => {
    if (action.ts < seg.to) actions.push(action);
  };
  const at = (offsetS: number) => seg.from + Math.round(offsetS * 1000);
  switch (type) {
    case 'kiosk': {
      let t = at(rng.uniform(3, 30));
      add({ action: 'view', ts: t, label: rng.pick(KIOSK_PAGES) });
      for (let taps = rng.poisson(2); taps > 0; taps -= 1) {
        t += Math.round(rng.uniform(4, 15) * 1000);
        add({ action: 'tap', ts: t, label: rng.pick(KIOSK_PAGES) });
      }
      break;
    }
    case 'mirror': {
      let t = at(rng.uniform(20, 60));
      for (let tries = 1 + rng.poisson(1); tries > 0; tries -= 1) {
        add({ action: 'try_on', ts: t, label: rng.pick(skus) });
        t += Math.round(rng.uniform(40, 120) * 1000);
      }
      break;
    }
    case 'qr':
      add({ action: 'scan', ts: at(rng.uniform(2, Math.max(2.5, (seg.to - seg.from) / 1000 - 1))), label: 'product_page' });
      break;
    case 'feedback':
      add({ action: 'feedback', ts: seg.to - Math.round(rng.uniform(2, 10) * 1000), value: rng.weighted(FEEDBACK_SCORES, FEEDBACK_WEIGHTS) });
      break;
  }
  return actions.filter((a) => a.ts >= seg.from);
}

/** The touchpoint message of each interaction. */
export function interactionMessages(interactions: readonly Interaction[]): DraftMessage[] {
  return interactions.map(({ touchpoint, ts, action, visitor, beacon, customer, value, label }) => ({
    kind: 'touchpoint',
    sourceId: touchpoint,
    ts,
    rank: RANK_NORMAL,
    retain: false,
    payload: {
      ts,
      action,
      ...(visitor !== undefined ? { visitor } : {}),
      ...(beacon !== undefined ? { beacon } : {}),
      ...(customer !== undefined ? { customer } : {}),
      ...(value !== undefined ? { value } : {}),
      ...(label !== undefined ? { label } : {}),
    },
  }));
}
