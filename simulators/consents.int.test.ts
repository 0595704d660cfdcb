import { describe, expect, it } from 'vitest';

import { buildSimulation } from './build.js';
import { DEFAULT_CONSENT_OPTIONS, NO_CONSENT_OPTIONS, type ConsentOptions } from './consent-options.js';
import { planConsents, type ConsentChange } from './consents.js';
import { isConsentMessage, messageBody } from './messages.js';
import { DEFAULT_SIMULATION_OPTIONS } from './options.js';
import { USE_TAIL_MS, type Interaction } from './touchpoints.js';
import type { Visitor } from './visitors.js';

const TOUCHPOINTS = [
  { id: 'kiosk-1', type: 'kiosk' as const },
  { id: 'mirror-1', type: 'mirror' as const },
  { id: 'qr-shoes', type: 'qr' as const },
  { id: 'feedback-1', type: 'feedback' as const },
];
const T0 = 1_796_000_000_000;

/** A known customer in one zone per touchpoint they use, one stay of 10 min each, back to back. */
function customer(index: number, customerId: string | undefined, zones: string[]): Visitor {
  return {
    index,
    id: `v${String(index + 1).padStart(6, '0')}`,
    app: true,
    ...(customerId !== undefined ? { customer: customerId } : {}),
    phone: true,
    randomizedMac: false,
    rotationMs: 600_000,
    rotationPhaseMs: 0,
    enteredAt: T0,
    leftAt: T0 + zones.length * 600_000,
    path: zones.map((zone, k) => ({ zone, from: T0 + k * 600_000, to: T0 + (k + 1) * 600_000 })),
    walk: [],
  };
}

/** Customers using the given touchpoints in turn (one use each: a first action 60 s into the stay, a second 20 s later). */
function population(n: number, uses: string[], known = true): { visitors: Visitor[]; interactions: Interaction[] } {
  const visitors = Array.from({ length: n }, (_, i) => customer(i, known ? `C-${String(i).padStart(6, '0')}` : undefined, uses));
  const interactions = visitors.flatMap((v) =>
    uses.flatMap((touchpoint, k) => [
      { touchpoint, action: 'tap', ts: T0 + k * 600_000 + 60_000, visit: v.id },
      { touchpoint, action: 'tap', ts: T0 + k * 600_000 + 80_000, visit: v.id },
    ]),
  );
  return { visitors, interactions };
}

function plan(seed: number, options: Partial<ConsentOptions>, people: ReturnType<typeof population>): ConsentChange[] {
  return planConsents({ seed, touchpoints: TOUCHPOINTS, ...people, options: { ...DEFAULT_CONSENT_OPTIONS, ...options } });
}

/** True when `count` of `n` is within four standard errors of the share `p`. */
function nearShare(count: number, n: number, p: number): boolean {
  return Math.abs(count / n - p) <= 4 * Math.sqrt((p * (1 - p)) / n);
}

describe('consents of known customers', () => {
  it('grants each purpose on its own to about its share of the customers who open the consent screen', () => {
    const n = 4000;
    const changes = plan(3, { crmShare: 0.3, personalisationShare: 0.5, analyticsShare: 0.1, withdrawShare: 0 }, population(n, ['kiosk-1']));
    const granted = (purpose: string) => changes.filter((c) => c.purpose === purpose && c.state === 'granted').length;
    expect(nearShare(granted('crm'), n, 0.3)).toBe(true);
    expect(nearShare(granted('personalisation'), n, 0.5)).toBe(true);
    expect(nearShare(granted('analytics'), n, 0.1)).toBe(true);
    // drawn apart: about 0.3 × 0.5 granted both crm and personalisation
    const both = new Set(changes.filter((c) => c.purpose === 'crm').map((c) => c.customer));
    expect(nearShare(changes.filter((c) => c.purpose === 'personalisation' && both.has(c.customer)).length, n, 0.15)).toBe(true);
    // some never consent to anything
    expect(nearShare(n - new Set(changes.map((c) => c.customer)).size, n, 0.7 * 0.5 * 0.9)).toBe(true);
    expect(changes.every((c) => c.notice === 'privacy-2026-11' && c.touchpoint === 'kiosk-1')).toBe(true);
  });

  it('withdraws crm only after granting it, at a later use, for about withdrawShare of those who can', () => {
    const n = 4000;
    const changes = plan(5, { crmShare: 0.5, withdrawShare: 0.25 }, population(n, ['kiosk-1', 'qr-shoes', 'mirror-1']));
    const grants = new Map(changes.filter((c) => c.purpose === 'crm' && c.state === 'granted').map((c) => [c.customer, c]));
    const withdrawals = changes.filter((c) => c.state === 'withdrawn');
    expect(withdrawals.every((w) => w.purpose === 'crm')).toBe(true);
    for (const w of withdrawals) {
      const grant = grants.get(w.customer);
      expect(grant, w.customer).toBeDefined();
      expect(w.ts).toBeGreaterThan((grant as ConsentChange).ts + 300_000); // a later use: a later stay, 10 min apart
    }
    // only customers who granted at their first or second use have a later one
    const canWithdraw = [...grants.values()].filter((g) => g.touchpoint !== 'mirror-1').length;
    expect(nearShare(withdrawals.length, canWithdraw, 0.25)).toBe(true);
    // one use only: nobody withdraws
    expect(plan(5, { crmShare: 1, withdrawShare: 1 }, population(200, ['kiosk-1'])).filter((c) => c.state === 'withdrawn')).toEqual([]);
  });

  it('chooses while the touchpoint is theirs: on opening it (between the first two actions) or just after the last, within the tail and the stay', () => {
    const people = population(2000, ['kiosk-1', 'qr-shoes']);
    const changes = plan(7, { crmShare: 1, withdrawShare: 1 }, people);
    for (const c of changes) {
      const stay = T0 + Math.floor((c.ts - T0) / 600_000) * 600_000;
      const [first, last] = [stay + 60_000, stay + 80_000];
      const onOpening = c.ts >= first && c.ts < last;
      const onLeaving = c.ts >= last && c.ts < last + USE_TAIL_MS[c.touchpoint === 'kiosk-1' ? 'kiosk' : 'qr'];
      expect(onOpening || onLeaving, `${c.customer} at ${c.ts - stay} ms into the stay`).toBe(true);
    }
    const grants = changes.filter((c) => c.state === 'granted' && c.purpose === 'crm');
    const opened = grants.filter((c) => (c.ts - T0) % 600_000 < 80_000).length;
    expect(nearShare(opened, grants.length, 0.5)).toBe(true);
  });

  it('gives no consent to app users without a CRM id, nor at the feedback terminal', () => {
    expect(plan(1, { crmShare: 1, personalisationShare: 1, analyticsShare: 1 }, population(300, ['kiosk-1'], false))).toEqual([]);
    expect(plan(1, { crmShare: 1, personalisationShare: 1, analyticsShare: 1 }, population(300, ['feedback-1']))).toEqual([]);
  });

  it('changes who consents with a share, not when: the same draws whatever the shares', () => {
    const people = population(1000, ['kiosk-1', 'mirror-1']);
    const low = plan(11, { crmShare: 0.2, withdrawShare: 0.2 }, people).filter((c) => c.purpose === 'crm');
    const high = plan(11, { crmShare: 0.6, withdrawShare: 0.6 }, people).filter((c) => c.purpose === 'crm');
    const key = (c: ConsentChange) => `${c.customer} ${c.state} ${c.ts} ${c.touchpoint}`;
    const highKeys = new Set(high.map(key));
    expect(low.length).toBeGreaterThan(100);
    expect(low.every((c) => highKeys.has(key(c)))).toBe(true);
    expect(high.length).toBeGreaterThan(low.length);
  });
});

describe('consents in a run', () => {
  const opts = { ...DEFAULT_SIMULATION_OPTIONS, seed: 17, durationMs: 20 * 60_000, now: Date.UTC(2026, 10, 30, 14, 0, 0), visitorsPerHour: 300, appShare: 0.6 };
  // a run takes a second or two, more on a busy machine: built once for the tests below
  let built: ReturnType<typeof buildSimulation> | undefined;
  const run = () => (built ??= buildSimulation(opts));

  it('is byte-identical for a seed, consents and truth included', { timeout: 30_000 }, () => {
    const a = run();
    const b = buildSimulation(opts);
    expect(a.messages.map(messageBody)).toEqual(b.messages.map(messageBody));
    expect(JSON.stringify(a.truth)).toBe(JSON.stringify(b.truth));
    expect(a.messages.filter(isConsentMessage).length).toBeGreaterThan(0);
  });

  it('leaves every other message and truth record as it is without consents', { timeout: 30_000 }, () => {
    const withConsents = run();
    const without = buildSimulation({ ...opts, consent: NO_CONSENT_OPTIONS });
    expect(without.messages.filter(isConsentMessage)).toEqual([]);
    const wire = (m: (typeof without.messages)[number]) => `${m.sendAt} ${m.topic} ${messageBody(m)}`;
    expect(withConsents.messages.filter((m) => !isConsentMessage(m)).map(wire)).toEqual(without.messages.map(wire));
    const rest = ({ crm: _crm, options: _options, published: _published, publishedMessages: _n, ...truth }: typeof without.truth) => truth;
    expect(JSON.stringify(rest(withConsents.truth))).toBe(JSON.stringify(rest(without.truth)));
    // the counts grow by the consent messages exactly
    const consents = withConsents.messages.filter(isConsentMessage);
    expect(withConsents.truth.publishedMessages - without.truth.publishedMessages).toBe(consents.length);
    expect(withConsents.truth.published.messages.touchpoint - without.truth.published.messages.touchpoint).toBe(
      new Set(consents.map((m) => m.payload.mid)).size - consents.filter((m) => m.expectedRejection).length,
    );
  });

  it('sends each choice as a consent message naming the customer, the purpose and the notice, without the beacon', { timeout: 30_000 }, () => {
    const { messages, truth } = buildSimulation({ ...opts, consent: { crmShare: 0.8, withdrawShare: 1 } });
    const sent = messages.filter(isConsentMessage).filter((m) => !m.duplicate);
    const choices = (truth.crm?.customers ?? []).flatMap((c) => c.consents.map((k) => ({ ...k, customer: c.customer })));
    expect(choices.some((c) => c.state === 'withdrawn')).toBe(true);
    expect(sent.length).toBe(choices.filter((c) => c.delivered).length);
    for (const m of sent) {
      if (m.kind !== 'touchpoint') continue;
      expect(Object.keys(m.payload).sort()).toEqual(['action', 'customer', 'mid', 'notice', 'purpose', 'ts', 'v']);
      expect(m.payload.mid).toMatch(new RegExp(`^${m.sourceId}-${truth.runId}-consent\\d+$`));
      expect(choices).toContainEqual(
        expect.objectContaining({ customer: m.payload.customer, purpose: m.payload.purpose, stampedTs: m.ts, touchpoint: m.sourceId, delivered: true }),
      );
    }
  });
});
