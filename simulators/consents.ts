/**
 * Consents (docs/simulator.md, "Consents and the CRM"): a known customer (an app user with a CRM id)
 * who uses a kiosk or the smart mirror, or scans a QR code with the app, may open the consent screen at one of those uses
 * and grant purposes, each drawn on its own (`crm`, `personalisation`, `analytics`); one who granted
 * `crm` may withdraw it at a later kiosk, mirror or QR use of the same visit; the others never consent. A
 * choice is made while the touchpoint is theirs, so it never falls into another visitor's use: half
 * the time on opening it (between the use's first and second action), else just after its last action
 * (within the touchpoint's busy tail and before they step out of the zone); a use of one action has
 * only the latter. It goes out as a `consent_granted` / `consent_withdrawn` touchpoint message naming
 * the customer.
 *
 * Every draw comes from createRng(seed, 'consent', visitor index), and the same draws are made
 * whatever the shares, so the visits, interactions and every other message of a seed stay exactly as
 * they were, and a share changes who consents, not when.
 */
import type { ConsentPurpose } from '../protocol/index.js';
import type { ConsentOptions } from './consent-options.js';
import { RANK_NORMAL, type DraftMessage } from './messages.js';
import { createRng } from './prng.js';
import { USE_TAIL_MS, type Interaction, type TouchpointType } from './touchpoints.js';
import type { PathSegment, Visitor } from './visitors.js';

/** The touchpoints a consent is given at: the screens (kiosk, smart mirror) and the app (opened by a QR code); not the feedback terminal's buttons. */
export const CONSENT_TOUCHPOINT_TYPES: readonly TouchpointType[] = ['kiosk', 'mirror', 'qr'];
/** The privacy notice version the consent screen shows (the messages' `notice`). */
export const CONSENT_NOTICE = 'privacy-2026-11';
/** Share of choices made on opening the touchpoint rather than on leaving it (assumed; docs/simulator.md). */
export const CHOICE_ON_OPENING_SHARE = 0.5;
/** The order a customer answers the purposes in (and their messages go out, at one instant). */
const PURPOSE_ORDER: readonly ConsentPurpose[] = ['crm', 'personalisation', 'analytics'];

/** One consent change as the model made it (true time; the message's stamp follows from its touchpoint's clock). */
export interface ConsentChange {
  customer: string;
  /** Internal id of the visit (never on the wire). */
  visit: string;
  purpose: ConsentPurpose;
  state: 'granted' | 'withdrawn';
  /** When, epoch ms (true time). */
  ts: number;
  touchpoint: string;
  notice: string;
}

export interface ConsentParams {
  seed: number;
  touchpoints: ReadonlyArray<{ id: string; type: TouchpointType }>;
  visitors: readonly Visitor[];
  /** Every interaction of the window (touchpoints.ts): the uses consents are made at. */
  interactions: readonly Interaction[];
  options: ConsentOptions;
  /** When touchpoints are out of order (a scenario): a choice that would fall then is not made. */
  outOfOrder?: ReadonlyArray<{ touchpoint: string; from: number; to: number }>;
}

/** One use of a touchpoint: a visitor's actions there during one stay in its zone. */
interface Use {
  touchpoint: string;
  type: TouchpointType;
  seg: PathSegment;
  /** The instants of its actions, ascending. */
  actions: number[];
}

/** Every consent change of the window, ascending by time (a customer's purposes in PURPOSE_ORDER at one instant). */
export function planConsents(params: ConsentParams): ConsentChange[] {
  const typeOf = new Map(params.touchpoints.map((t) => [t.id, t.type]));
  const usesByVisit = consentUses(params.visitors, params.interactions, typeOf);
  const out: ConsentChange[] = [];
  for (const visitor of params.visitors) {
    const uses = usesByVisit.get(visitor.id);
    if (visitor.customer === undefined || uses === undefined) continue;
    const rng = createRng(params.seed, 'consent', visitor.index);
    // the same draws whatever the shares: which use, each purpose, the instant; then the withdrawal's
    const at = rng.int(0, uses.length - 1);
    const answers = PURPOSE_ORDER.map((purpose) => ({ purpose, u: rng.next() }));
    const grantWhen = [rng.next(), rng.next()] as const;
    const withdrawU = rng.next();
    const withdrawPick = rng.next();
    const withdrawWhen = [rng.next(), rng.next()] as const;
    const base = { customer: visitor.customer, visit: visitor.id, notice: CONSENT_NOTICE };
    const grantUse = uses[at] as Use;
    const grantTs = choiceTs(grantUse, grantWhen);
    if (isOutOfOrder(params.outOfOrder, grantUse.touchpoint, grantTs)) continue;
    const granted = answers.filter(({ purpose, u }) => u < shareOf(params.options, purpose)).map(({ purpose }) => purpose);
    for (const purpose of granted) out.push({ ...base, purpose, state: 'granted', ts: grantTs, touchpoint: grantUse.touchpoint });
    const later = uses.slice(at + 1);
    if (!granted.includes('crm') || later.length === 0 || withdrawU >= params.options.withdrawShare) continue;
    const withdrawUse = later[Math.min(later.length - 1, Math.floor(withdrawPick * later.length))] as Use;
    const withdrawTs = choiceTs(withdrawUse, withdrawWhen);
    if (!isOutOfOrder(params.outOfOrder, withdrawUse.touchpoint, withdrawTs))
      out.push({ ...base, purpose: 'crm', state: 'withdrawn', ts: withdrawTs, touchpoint: withdrawUse.touchpoint });
  }
  // stable: one customer's purposes keep their order at their shared instant
  return out.sort((a, b) => a.ts - b.ts);
}

function shareOf(options: ConsentOptions, purpose: ConsentPurpose): number {
  switch (purpose) {
    case 'crm':
      return options.crmShare;
    case 'personalisation':
      return options.personalisationShare;
    case 'analytics':
      return options.analyticsShare;
  }
}

/** Each known customer's uses of consent touchpoints, in time order (a use: their actions at one touchpoint during one stay in its zone). */
function consentUses(visitors: readonly Visitor[], interactions: readonly Interaction[], typeOf: ReadonlyMap<string, TouchpointType>): Map<string, Use[]> {
  const byId = new Map(visitors.map((v) => [v.id, v]));
  const out = new Map<string, Use[]>();
  const keyed = new Map<string, Use>();
  for (const i of interactions) {
    const type = typeOf.get(i.touchpoint);
    const visitor = byId.get(i.visit);
    if (type === undefined || !CONSENT_TOUCHPOINT_TYPES.includes(type) || visitor?.customer === undefined) continue;
    const seg = visitor.path.find((s) => s.from <= i.ts && i.ts < s.to);
    if (seg === undefined) continue;
    const key = `${i.visit}|${i.touchpoint}|${seg.from}`;
    const use = keyed.get(key);
    if (use !== undefined) {
      use.actions.push(i.ts);
      continue;
    }
    const fresh: Use = { touchpoint: i.touchpoint, type, seg, actions: [i.ts] };
    keyed.set(key, fresh);
    const list = out.get(i.visit) ?? [];
    list.push(fresh);
    out.set(i.visit, list);
  }
  for (const list of out.values()) {
    for (const use of list) use.actions.sort((a, b) => a - b);
    list.sort((a, b) => (a.actions[0] as number) - (b.actions[0] as number) || a.touchpoint.localeCompare(b.touchpoint));
  }
  return out;
}

/**
 * When the choice is made, from two uniform draws: on opening (30-80 % of the way from the first action to
 * the second), or on leaving (30-80 % into what is left of the busy tail after the last action and of
 * the stay): their turn either way, and in the zone.
 */
function choiceTs(use: Use, [when, offset]: readonly [number, number]): number {
  const [first, second] = use.actions as [number, number | undefined];
  if (when < CHOICE_ON_OPENING_SHARE && second !== undefined) return first + Math.floor((second - first) * (0.3 + 0.5 * offset));
  const last = use.actions[use.actions.length - 1] as number;
  const room = Math.min(USE_TAIL_MS[use.type], use.seg.to - last);
  return last + Math.floor(room * (0.3 + 0.5 * offset));
}

function isOutOfOrder(windows: ConsentParams['outOfOrder'], touchpoint: string, ts: number): boolean {
  return (windows ?? []).some((w) => w.touchpoint === touchpoint && ts >= w.from && ts < w.to);
}

/** The touchpoint message of each consent change: the customer, the purpose and the notice; no beacon, so it is no use of the touchpoint for the engine. */
export function consentMessages(changes: readonly ConsentChange[]): DraftMessage[] {
  return changes.map(({ touchpoint, ts, state, customer, purpose, notice }) => ({
    kind: 'touchpoint',
    sourceId: touchpoint,
    ts,
    rank: RANK_NORMAL,
    retain: false,
    payload: { ts, action: state === 'granted' ? 'consent_granted' : 'consent_withdrawn', customer, purpose, notice },
  }));
}
