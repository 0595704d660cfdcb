/**
 * The truth of what should reach the CRM (docs/simulator.md, "Consents and the CRM"), from the messages
 * as they go on the wire, by the rules of docs/crm.md ("What is forwarded"): a touchpoint interaction or
 * feedback is a customer's when its message names the customer, or names a beacon that a message
 * naming both the customer and that beacon linked to them (for the link's validity, from that
 * message's stamp); it reaches the CRM when the customer had granted `crm` at the event's stamp.
 *
 * The gateway judges each event with the consents and links logged before it (its CRM sink waits for
 * the consent sink to record the log up to the event): the truth does the same, in the order the
 * gateway accepts the messages, with the stamps it receives. Two things it cannot know, said per event:
 * - `undetermined`: a consent change or link logged after the event but stamped before it (a clock
 *   behind, a late replay) counts only if the consent sink, which reads the log at its own pace, had
 *   recorded it when the CRM sink judged the event;
 * - `withdrawn` assumes each event is delivered before the customer's next change is logged (in real
 *   time delivery takes seconds, a customer's next choice minutes): a withdrawal logged before the
 *   delivery stops it (docs/crm.md), so a run published faster than that can lose more.
 * It also assumes the gateway's clock is past every stamp of the run when it delivers (the delivery
 * checks the consent "now" too), and leaves visits out: whether a `storeloop.visit` goes depends on
 * where the experience engine cuts the visits (below, `linkedFrom`).
 */
import type { ConsentPurpose } from '../protocol/index.js';
import type { ConsentChange } from './consents.js';
import { isConsentMessage, type SimMessage } from './messages.js';
import type { Interaction } from './touchpoints.js';
import type { Visitor } from './visitors.js';

/** The gateway's default `privacy.identityLinkDays`: how long a link made at a touchpoint lasts. */
export const IDENTITY_LINK_DAYS = 30;
const LINK_MS = IDENTITY_LINK_DAYS * 86_400_000;

/** Why an event of a customer does or does not reach the CRM. */
export const CRM_OUTCOMES = ['forwarded', 'lost', 'anonymous', 'no_consent', 'withdrawn', 'undetermined'] as const;
export type CrmOutcome = (typeof CRM_OUTCOMES)[number];

export interface CrmConsentTruth {
  purpose: ConsentPurpose;
  state: 'granted' | 'withdrawn';
  /** True time, epoch ms. */
  ts: number;
  /** What the touchpoint stamped (the time the gateway records). */
  stampedTs: number;
  touchpoint: string;
  /** Whether the gateway accepted the message (not lost, not rejected). */
  delivered: boolean;
}

export interface CrmEventTruth {
  /** The CRM event's type: `storeloop.interaction` or `storeloop.feedback`. */
  type: 'interaction' | 'feedback';
  touchpoint: string;
  action: string;
  /** True time, epoch ms. */
  ts: number;
  /** What the touchpoint stamped: the event's time for the gateway, the `at` the CRM receives. */
  stampedTs: number;
  /** The message named the customer (else only the beacon did). */
  named: boolean;
  outcome: CrmOutcome;
  value?: number;
  label?: string;
}

export interface CrmCustomerTruth {
  customer: string;
  /** Internal id of their visit. */
  visit: string;
  beacon?: string;
  /** Their consent choices in the window, ascending `ts`. */
  consents: CrmConsentTruth[];
  /**
   * The stamp of the first message the gateway accepted that named them with their beacon: the start of
   * the link (null: never linked). A `storeloop.visit` of the beacon can reach the CRM only when the
   * engine's visit starts at or after it with `crm` granted then; within one visit the link starts
   * after the true visit's start, so a visit the engine keeps whole never does.
   */
  linkedFrom: number | null;
  /** Every interaction and feedback of their visit, ascending `ts`, with its outcome. */
  events: CrmEventTruth[];
}

export interface CrmTruth {
  /** `privacy.identityLinkDays` the truth assumes (the gateway's default). */
  identityLinkDays: number;
  /** Known customers with a consent choice or an interaction, in visit order. */
  customers: CrmCustomerTruth[];
  /** Customers whose grant of `crm` the gateway accepted, and those of them whose withdrawal it accepted. */
  granted: number;
  withdrew: number;
  /** Events by outcome, over every customer. */
  outcomes: Record<CrmOutcome, number>;
}

/** A consent change or link the gateway logged, at its position in the log. */
interface Logged {
  pos: number;
  customer: string;
  /** The stamp (the time the gateway records). */
  at: number;
}
interface LoggedChange extends Logged {
  purpose: ConsentPurpose;
  state: 'granted' | 'withdrawn';
}
interface LoggedLink extends Logged {
  beacon: string;
}

export interface CrmTruthParams {
  /** Every message in publishing order (delivery.ts), consents among them. */
  messages: readonly SimMessage[];
  /** Ids of the sources a gateway configured with the store accepts. */
  knownSources: ReadonlySet<string>;
  visitors: readonly Visitor[];
  interactions: readonly Interaction[];
  consents: readonly ConsentChange[];
  /** What a source's clock reads at a true instant (sensor-clocks.ts). */
  stamp: (sourceId: string, trueMs: number) => number;
}

/** The touchpoint messages the gateway accepts, in the order it logs them (the counting rules of ground-truth.ts). */
function loggedTouchpointMessages(messages: readonly SimMessage[], knownSources: ReadonlySet<string>): Array<Extract<SimMessage, { kind: 'touchpoint' }>> {
  const accepted = new Set<string>();
  const out: Array<Extract<SimMessage, { kind: 'touchpoint' }>> = [];
  for (const m of messages) {
    if (m.expectedRejection || m.injected?.scope === 'message' || !knownSources.has(m.sourceId)) continue;
    const key = `${m.sourceId}|${m.payload.mid}`;
    if (accepted.has(key)) continue;
    accepted.add(key);
    if (m.kind === 'touchpoint') out.push(m);
  }
  return out;
}

/** A touchpoint message by what the model made it of: touchpoint, true time, action (and a consent's purpose). */
const messageKey = (touchpoint: string, trueTs: number, action: string, purpose = '') => `${touchpoint}|${trueTs}|${action}|${purpose}`;

/** Appends to the list under `key`. */
function addTo<T>(map: Map<string, T[]>, key: string, item: T): void {
  const list = map.get(key);
  if (list === undefined) map.set(key, [item]);
  else list.push(item);
}

export function crmTruth(params: CrmTruthParams): CrmTruth {
  const logged = loggedTouchpointMessages(params.messages, params.knownSources);
  // the gateway's view, indexed: crm consent changes by customer, links by beacon, each at its log position
  const crmChanges = new Map<string, LoggedChange[]>();
  const links = new Map<string, LoggedLink[]>();
  const positions = new Map<string, { pos: number; m: (typeof logged)[number] }>();
  logged.forEach((m, pos) => {
    const { customer, beacon, purpose, action } = m.payload;
    positions.set(messageKey(m.sourceId, m.trueTs, action, purpose), { pos, m });
    if (customer === undefined) return;
    if (beacon !== undefined) addTo(links, beacon, { pos, customer, at: m.ts, beacon });
    if (isConsentMessage(m) && purpose === 'crm')
      addTo(crmChanges, customer, { pos, customer, at: m.ts, purpose, state: action === 'consent_granted' ? 'granted' : 'withdrawn' });
  });
  const consentsOf = new Map<string, ConsentChange[]>();
  for (const c of params.consents) addTo(consentsOf, c.visit, c);
  const interactionsOf = new Map<string, Interaction[]>();
  for (const i of params.interactions) addTo(interactionsOf, i.visit, i);

  const customers: CrmCustomerTruth[] = [];
  const outcomes = Object.fromEntries(CRM_OUTCOMES.map((o) => [o, 0])) as Record<CrmOutcome, number>;
  let granted = 0;
  let withdrew = 0;
  for (const visitor of params.visitors) {
    const customer = visitor.customer;
    if (customer === undefined) continue;
    const consents = (consentsOf.get(visitor.id) ?? []).map(({ purpose, state, ts, touchpoint }): CrmConsentTruth => {
      const delivered = positions.has(messageKey(touchpoint, ts, state === 'granted' ? 'consent_granted' : 'consent_withdrawn', purpose));
      return { purpose, state, ts, stampedTs: params.stamp(touchpoint, ts), touchpoint, delivered };
    });
    const events = (interactionsOf.get(visitor.id) ?? []).map((i) =>
      eventTruth(i, positions.get(messageKey(i.touchpoint, i.ts, i.action)), params.stamp(i.touchpoint, i.ts), crmChanges, links),
    );
    if (consents.length === 0 && events.length === 0) continue;
    if (consents.some((c) => c.purpose === 'crm' && c.state === 'granted' && c.delivered)) granted += 1;
    if (consents.some((c) => c.purpose === 'crm' && c.state === 'withdrawn' && c.delivered)) withdrew += 1;
    for (const e of events) outcomes[e.outcome] += 1;
    const own = (visitor.beaconId === undefined ? [] : (links.get(visitor.beaconId) ?? [])).filter((l) => l.customer === customer);
    customers.push({
      customer,
      visit: visitor.id,
      ...(visitor.beaconId !== undefined ? { beacon: visitor.beaconId } : {}),
      consents,
      linkedFrom: own.length === 0 ? null : Math.min(...own.map((l) => l.at)),
      events,
    });
  }
  return { identityLinkDays: IDENTITY_LINK_DAYS, customers, granted, withdrew, outcomes };
}

function eventTruth(
  i: Interaction,
  logged: { pos: number; m: Extract<SimMessage, { kind: 'touchpoint' }> } | undefined,
  stampedTs: number,
  crmChanges: ReadonlyMap<string, readonly LoggedChange[]>,
  links: ReadonlyMap<string, readonly LoggedLink[]>,
): CrmEventTruth {
  const base = {
    type: i.action === 'feedback' ? ('feedback' as const) : ('interaction' as const),
    touchpoint: i.touchpoint,
    action: i.action,
    ts: i.ts,
    stampedTs,
    named: i.customer !== undefined,
    ...(i.value !== undefined ? { value: i.value } : {}),
    ...(i.label !== undefined ? { label: i.label } : {}),
  };
  return { ...base, outcome: logged === undefined ? 'lost' : outcomeOf(logged.pos, logged.m, crmChanges, links) };
}

/** The outcome of an event the gateway logged at `pos`. */
function outcomeOf(
  pos: number,
  m: Extract<SimMessage, { kind: 'touchpoint' }>,
  crmChanges: ReadonlyMap<string, readonly LoggedChange[]>,
  links: ReadonlyMap<string, readonly LoggedLink[]>,
): CrmOutcome {
  const t = m.ts;
  const beaconLinks = m.payload.beacon === undefined ? [] : (links.get(m.payload.beacon) ?? []);
  // what the gateway can have recorded when it judges the event: everything logged before it, and any prefix of what came after
  const customerWith = (k: number): string | undefined => m.payload.customer ?? linkAt(known(beaconLinks, pos, t, k), t);
  const customers = range(m.payload.customer !== undefined ? 0 : late(beaconLinks, pos, t).length).map(customerWith);
  if (new Set(customers).size > 1) return 'undetermined';
  const customer = customers[0];
  if (customer === undefined) return 'anonymous';
  const crm = crmChanges.get(customer) ?? [];
  const verdicts = range(late(crm, pos, t).length).map((k) => grantedAt(known(crm, pos, t, k), t));
  if (new Set(verdicts).size > 1) return 'undetermined';
  if (verdicts[0] !== true) return 'no_consent';
  // granted then; withdrawn since, by a change logged before the event (stamped after it): the delivery's check stops it
  return grantedAt(
    crm.filter((c) => c.pos < pos),
    Infinity,
  )
    ? 'forwarded'
    : 'withdrawn';
}

/** Items logged after `pos` whose stamp is at or before `t` (the ones that could change the verdict), in log order. */
function late<T extends Logged>(items: readonly T[], pos: number, t: number): T[] {
  return items.filter((x) => x.pos > pos && x.at <= t);
}

/** What the registry holds: everything logged before `pos`, plus the first `k` of the late ones. */
function known<T extends Logged>(items: readonly T[], pos: number, t: number, k: number): T[] {
  return [...items.filter((x) => x.pos < pos), ...late(items, pos, t).slice(0, k)];
}

/** 0..n: every prefix length. */
function range(n: number): number[] {
  return Array.from({ length: n + 1 }, (_, k) => k);
}

/** The customer a beacon was linked to at `t`: of the links valid then, the one made last (customer-tokens.ts). */
function linkAt(links: readonly LoggedLink[], t: number): string | undefined {
  let best: LoggedLink | undefined;
  for (const l of links) if (l.at <= t && t < l.at + LINK_MS && (best === undefined || l.at > best.at)) best = l;
  return best?.customer;
}

/** Whether the latest change at or before `t` (by stamp, then log order) is a grant (consent-registry.ts). */
function grantedAt(changes: readonly LoggedChange[], t: number): boolean {
  let best: LoggedChange | undefined;
  for (const c of changes) if (c.at <= t && (best === undefined || c.at > best.at || (c.at === best.at && c.pos > best.pos))) best = c;
  return best?.state === 'granted';
}
