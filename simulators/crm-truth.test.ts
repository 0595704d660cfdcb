import { describe, expect, it } from 'vitest';

import type { ConsentChange } from './consents.js';
import { crmTruth, type CrmEventTruth } from './crm-truth.js';
import type { SimMessage } from './messages.js';
import type { Interaction } from './touchpoints.js';
import type { Visitor } from './visitors.js';

const T0 = 1_796_000_000_000;
const S = 1000;
const BEACON = 'ibeacon:f7826da6-4fa2-4e98-8024-bc5b71e0893e:100:7';
const VISITOR: Visitor = {
  index: 0,
  id: 'v000001',
  app: true,
  beaconId: BEACON,
  appPseudonym: 'a1b2c3',
  customer: 'C-000001',
  phone: true,
  randomizedMac: false,
  rotationMs: 600_000,
  rotationPhaseMs: 0,
  enteredAt: T0,
  leftAt: T0 + 3_600_000,
  path: [{ zone: 'aisle-women', from: T0, to: T0 + 3_600_000 }],
  walk: [],
};
/** Clocks: the mirror's 30 s behind, the others exact. */
const OFFSET: Record<string, number> = { 'mirror-1': -30 * S };
const stamp = (sourceId: string, trueMs: number) => trueMs + (OFFSET[sourceId] ?? 0);

let mids = 0;
/** A touchpoint message as delivery.ts leaves it: true time, its stamp, and when it goes on the wire (default: at once). */
function tp(sourceId: string, trueTs: number, payload: Record<string, unknown>, sendAt = trueTs): SimMessage {
  const ts = stamp(sourceId, trueTs);
  return {
    topic: `storeloop/demo-store/touchpoint/${sourceId}`,
    kind: 'touchpoint',
    storeId: 'demo-store',
    sourceId,
    qos: 1,
    retain: false,
    ts,
    trueTs,
    sendAt,
    payload: { v: 1, mid: `${sourceId}-m${(mids += 1)}`, ts, action: 'tap', ...payload },
  } as SimMessage;
}

const grant = (touchpoint: string, ts: number): ConsentChange => ({
  customer: 'C-000001',
  visit: 'v000001',
  purpose: 'crm',
  state: 'granted',
  ts,
  touchpoint,
  notice: 'n',
});
const consentPayload = (c: ConsentChange) => ({
  action: c.state === 'granted' ? 'consent_granted' : 'consent_withdrawn',
  customer: c.customer,
  purpose: c.purpose,
  notice: c.notice,
});
const interaction = (touchpoint: string, ts: number, action: string, named: boolean): Interaction => ({
  touchpoint,
  action,
  ts,
  visit: 'v000001',
  beacon: BEACON,
  ...(named ? { customer: 'C-000001' } : {}),
});
const payloadOf = (i: Interaction) => ({ action: i.action, beacon: i.beacon, ...(i.customer !== undefined ? { customer: i.customer } : {}) });

/** The outcomes of the customer's events, in the order given; `wire` is the messages in publishing order. */
function outcomes(wire: SimMessage[], interactions: Interaction[], consents: ConsentChange[]): Array<CrmEventTruth['outcome']> {
  const truth = crmTruth({
    messages: wire,
    knownSources: new Set(['kiosk-1', 'mirror-1', 'qr-shoes', 'feedback-1']),
    visitors: [VISITOR],
    interactions,
    consents,
    stamp,
  });
  return (truth.customers[0]?.events ?? []).map((e) => e.outcome);
}

describe('the truth of what should reach the CRM', () => {
  it('forwards a customer’s events named or linked after a grant of crm, and none before it or anonymous', () => {
    const before = interaction('kiosk-1', T0 + 10 * S, 'view', true);
    const g = grant('kiosk-1', T0 + 20 * S);
    const anonymous = interaction('qr-shoes', T0 + 30 * S, 'scan', false); // beacon, not linked yet
    const named = interaction('kiosk-1', T0 + 40 * S, 'tap', true); // links the beacon from here on
    const linked = interaction('qr-shoes', T0 + 50 * S, 'scan', false);
    const feedback: Interaction = { ...interaction('feedback-1', T0 + 60 * S, 'feedback', false), value: 4 };
    const all = [before, anonymous, named, linked, feedback];
    const wire = [
      tp('kiosk-1', before.ts, payloadOf(before)),
      tp('kiosk-1', g.ts, consentPayload(g)),
      ...[anonymous, named, linked, feedback].map((i) => tp(i.touchpoint, i.ts, { ...payloadOf(i), ...(i.value !== undefined ? { value: i.value } : {}) })),
    ];
    // the first named message already linked the beacon, so the anonymous scan after the grant is theirs
    expect(outcomes(wire, all, [g])).toEqual(['no_consent', 'forwarded', 'forwarded', 'forwarded', 'forwarded']);
    const truth = crmTruth({
      messages: wire,
      knownSources: new Set(['kiosk-1', 'qr-shoes', 'feedback-1']),
      visitors: [VISITOR],
      interactions: all,
      consents: [g],
      stamp,
    });
    expect(truth).toMatchObject({ granted: 1, withdrew: 0, outcomes: { forwarded: 4, no_consent: 1 } });
    expect(truth.customers[0]).toMatchObject({
      customer: 'C-000001',
      linkedFrom: before.ts,
      consents: [{ purpose: 'crm', state: 'granted', delivered: true }],
    });
    expect(truth.customers[0]?.events[4]).toMatchObject({ type: 'feedback', value: 4, named: false });
  });

  it('is anonymous until a message names the customer with the beacon, and nothing after a withdrawal', () => {
    const g = grant('kiosk-1', T0);
    const anonymous = interaction('qr-shoes', T0 + 10 * S, 'scan', false);
    const named = interaction('kiosk-1', T0 + 20 * S, 'tap', true);
    const w: ConsentChange = { ...g, state: 'withdrawn', ts: T0 + 30 * S };
    const after = interaction('qr-shoes', T0 + 40 * S, 'scan', false);
    const wire = [
      tp('kiosk-1', g.ts, consentPayload(g)),
      ...[anonymous, named].map((i) => tp(i.touchpoint, i.ts, payloadOf(i))),
      tp('kiosk-1', w.ts, consentPayload(w)),
      tp('qr-shoes', after.ts, payloadOf(after)),
    ];
    expect(outcomes(wire, [anonymous, named, after], [g, w])).toEqual(['anonymous', 'forwarded', 'no_consent']);
  });

  it('counts a message that never reached the gateway as lost, and a rejected grant as no grant', () => {
    const g = grant('kiosk-1', T0);
    const lost = interaction('kiosk-1', T0 + 10 * S, 'tap', true);
    const kept = interaction('kiosk-1', T0 + 20 * S, 'tap', true);
    const wire = [tp('kiosk-1', g.ts, consentPayload(g)), tp('kiosk-1', kept.ts, payloadOf(kept))];
    expect(outcomes(wire, [lost, kept], [g])).toEqual(['lost', 'forwarded']);
    const rejected = { ...tp('kiosk-1', g.ts, consentPayload(g)), expectedRejection: 'ts_in_future' as const };
    expect(outcomes([rejected, tp('kiosk-1', kept.ts, payloadOf(kept))], [kept], [g])).toEqual(['no_consent']);
  });

  it('judges by the stamps, in the order the gateway logs: a clock behind or a withdrawal logged early decide', () => {
    // granted at the kiosk at T0 + 10 s; the mirror's clock is 30 s behind: its try-on at T0 + 20 s is stamped before the grant
    const g = grant('kiosk-1', T0 + 10 * S);
    const early = interaction('mirror-1', T0 + 20 * S, 'try_on', true);
    const late = interaction('mirror-1', T0 + 50 * S, 'try_on', true); // stamped T0 + 20 s: after the grant
    const wire = [tp('kiosk-1', g.ts, consentPayload(g)), ...[early, late].map((i) => tp(i.touchpoint, i.ts, payloadOf(i)))];
    expect(outcomes(wire, [early, late], [g])).toEqual(['no_consent', 'forwarded']);
    // a withdrawal stamped after an event but logged before it (the event held back): granted at its time, stopped before delivery
    const w: ConsentChange = { ...g, state: 'withdrawn', ts: T0 + 40 * S };
    const held = interaction('kiosk-1', T0 + 30 * S, 'tap', true);
    const heldWire = [tp('kiosk-1', g.ts, consentPayload(g)), tp('kiosk-1', w.ts, consentPayload(w)), tp('kiosk-1', held.ts, payloadOf(held), T0 + 60 * S)];
    expect(outcomes(heldWire, [held], [g, w])).toEqual(['withdrawn']);
  });

  it('says undetermined when a grant logged after the event is stamped before it (the consent sink’s pace decides)', () => {
    const g = grant('kiosk-1', T0 + 10 * S);
    const event = interaction('qr-shoes', T0 + 20 * S, 'scan', true);
    // the grant is held back 30 s on its way (a stall): logged after the scan, stamped before it
    const wire = [tp('qr-shoes', event.ts, payloadOf(event)), tp('kiosk-1', g.ts, consentPayload(g), T0 + 40 * S)];
    expect(outcomes(wire, [event], [g])).toEqual(['undetermined']);
  });
});
