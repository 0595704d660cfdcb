/**
 * Touchpoint use: visitors standing in a touchpoint's zone sometimes use it (kiosk `view`/`tap`,
 * mirror `try_on`, QR `scan`, feedback terminal `feedback` 1-5). App users' interactions carry their
 * app pseudonym and the beacon id their phone advertises (linking the interaction to the sightings of
 * that id), and the CRM id when a known customer identifies themselves. Anyone else's stay anonymous.
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

export interface InteractionParams {
  seed: number;
  store: StoreConfig;
  visitors: readonly Visitor[];
  /** SKUs a mirror suggests (try-on labels). */
  clothingSkus: readonly string[];
}

/** Every interaction of the window, ascending by time. */
export function planInteractions(params: InteractionParams): Interaction[] {
  const out: Interaction[] = [];
  for (const visitor of params.visitors) {
    visitor.path.forEach((seg, segIndex) => {
      for (const tp of params.store.touchpoints.filter((t) => t.zone === seg.zone)) {
        const rng = createRng(params.seed, 'touchpoint', tp.id, visitor.index, segIndex);
        const [appChance, otherChance] = USE_CHANCE[tp.type];
        if (!rng.chance(visitor.app ? appChance : otherChance)) continue;
        const who = identity(visitor, rng);
        for (const action of session(tp.type, seg, rng, params.clothingSkus)) out.push({ touchpoint: tp.id, visit: visitor.id, ...who, ...action });
      }
    });
  }
  return out.sort((a, b) => a.ts - b.ts);
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
