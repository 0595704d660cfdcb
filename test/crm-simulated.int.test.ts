/**
 * The simulator's consents through the real gateway into a CRM: a seeded half hour of touchpoint
 * traffic (known customers granting and withdrawing `crm` at the kiosk, the mirror and the app, the
 * interactions and feedback around it, with the default clocks and latency, and more loss, resends
 * and stalls than by default: 1 %, 5 %, 2 %) published
 * over MQTT to a gateway with a real influxd and a webhook destination, received by a Standard
 * Webhooks receiver (test/helpers/fake-crm.ts). The interactions and feedback that arrive are exactly
 * the truth's `forwarded` events (crm-truth.ts), each once, matched by customer, touchpoint, stamp and
 * action: none of a customer who never granted `crm`, none after a withdrawal, none anonymous.
 *
 * The run is published in order, one message at a time; before a customer's withdrawal goes out, the
 * events of theirs already published are waited for at the receiver: in real time they would have
 * been delivered minutes before the customer's next choice, and a withdrawal between an event and its
 * delivery stops it (docs/crm.md), which the truth assumes does not happen (simulators/crm-truth.ts).
 */
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';

import { buildSimulation, DEFAULT_SIMULATION_OPTIONS, messageBody, type CrmEventTruth } from '../simulators/index.js';
import { newWebhookSecret, startFakeWebhookReceiver } from './helpers/fake-crm.js';
import { startCrmGateway } from './helpers/crm-gateway.js';
import { connectClient, metricValue, publishAcked, sinksCaughtUp } from './helpers/gateway.js';
import { startInfluxd, type TestInfluxd } from './helpers/influxd.js';
import { eventually } from './helpers/lifecycle.js';

let influxd: TestInfluxd;
beforeAll(async () => {
  influxd = await startInfluxd();
});
afterAll(async () => {
  await influxd?.stop();
});

interface Delivered {
  type: string;
  data: { customer: string; touchpoint?: string; action?: string; at?: string; start?: string };
}

/** What the CRM gets of one event: customer, touchpoint, time (the touchpoint's stamp) and action. */
const eventKey = (customer: string, touchpoint: string, stampedTs: number, action: string) =>
  `${customer} ${touchpoint} ${new Date(stampedTs).toISOString()} ${action}`;

describe('the simulator’s consents through the gateway to a CRM webhook', () => {
  it('delivers exactly the interactions and feedback the truth says should reach the CRM, each once', async () => {
    // the window ends 10 min before the gateway's clock: no touchpoint's clock (at most 2 min off) stamps a consent in its future
    const sim = buildSimulation({
      ...DEFAULT_SIMULATION_OPTIONS,
      seed: 2,
      now: Date.now() - 10 * 60_000,
      durationMs: 30 * 60_000,
      visitorsPerHour: 600,
      appShare: 0.7,
      only: ['touchpoint'],
      consent: { crmShare: 0.7, personalisationShare: 0.3, analyticsShare: 0.3, withdrawShare: 0.5 },
      delivery: { lossRate: 0.01, duplicateRate: 0.05, stallShare: 0.02 },
    });
    const crm = sim.truth.crm;
    if (crm === undefined) throw new Error('the truth has no crm section');
    const events = crm.customers.flatMap((c) => c.events.map((e) => ({ ...e, customer: c.customer })));
    const key = (e: CrmEventTruth & { customer: string }) => eventKey(e.customer, e.touchpoint, e.stampedTs, e.action);
    const expected = events.filter((e) => e.outcome === 'forwarded').map(key);
    const undetermined = new Set(events.filter((e) => e.outcome === 'undetermined').map(key));
    // a run that proves something: consents, withdrawals, events named and linked by the beacon, and others filtered
    expect(crm.granted).toBeGreaterThanOrEqual(10);
    expect(crm.withdrew).toBeGreaterThanOrEqual(2);
    expect(expected.length).toBeGreaterThanOrEqual(15);
    expect(events.filter((e) => e.outcome === 'forwarded' && !e.named).length).toBeGreaterThan(0);
    expect(crm.outcomes.no_consent).toBeGreaterThan(0);
    expect(crm.outcomes.anonymous).toBeGreaterThan(0);
    expect(crm.outcomes.lost).toBeGreaterThan(0);
    // an event held back by a stall behind its customer's withdrawal: granted at its stamp, stopped before delivery
    expect(crm.outcomes.withdrawn).toBeGreaterThan(0);
    expect(sim.messages.filter((m) => m.kind === 'touchpoint' && m.duplicate).length).toBeGreaterThan(0);

    const secret = newWebhookSecret();
    const receiver = await startFakeWebhookReceiver({ secrets: [secret] });
    onTestFinished(() => receiver.stop());
    const gw = await startCrmGateway(influxd.url, { name: 'hooks', type: 'webhook', url: receiver.url, secrets: [secret], timeoutMs: 2000 });
    const received = (): string[] =>
      receiver.accepted
        .map((a) => a.body as Delivered)
        .filter((d) => d.type === 'storeloop.interaction' || d.type === 'storeloop.feedback')
        .map((d) => `${d.data.customer} ${d.data.touchpoint ?? ''} ${d.data.at ?? ''} ${d.data.action ?? ''}`);

    // the forwarded events by their message (touchpoint, stamp, action), to know whose are out before a withdrawal
    const forwardedBy = new Map(
      events.filter((e) => e.outcome === 'forwarded').map((e) => [`${e.touchpoint}|${e.stampedTs}|${e.action}`, { customer: e.customer, key: key(e) }]),
    );
    const published = new Map<string, string[]>();
    const client = await connectClient(gw.mqttUrl, { clientId: 'crm-simulated' });
    onTestFinished(() => client.endAsync());
    for (const m of sim.messages) {
      if (m.kind === 'touchpoint' && m.payload.action === 'consent_withdrawn' && m.payload.customer !== undefined) {
        const theirs = published.get(m.payload.customer) ?? [];
        await eventually(
          () => new Set(received()),
          (got) => theirs.every((k) => got.has(k)),
          `${m.payload.customer}'s ${theirs.length} events at the receiver before their withdrawal`,
        );
      }
      await publishAcked(client, m.topic, messageBody(m), { qos: m.qos, retain: m.retain });
      const forwarded = m.kind === 'touchpoint' && !m.duplicate ? forwardedBy.get(`${m.sourceId}|${m.ts}|${m.payload.action}`) : undefined;
      if (forwarded !== undefined) published.set(forwarded.customer, [...(published.get(forwarded.customer) ?? []), forwarded.key]);
    }

    // the outbox drained: every sink caught up with the log, nothing pending
    await sinksCaughtUp(gw.httpUrl);
    await eventually(
      async () =>
        ((await (await gw.api('/api/v1/crm/destinations')).json()) as { destinations: Array<{ pending: number; deadLetters: number }> }).destinations[0],
      (d) => d?.pending === 0,
      'the CRM outbox drained',
    );
    const got = received();
    const determined = got.filter((k) => !undetermined.has(k));
    expect([...determined].sort()).toEqual([...expected].sort());
    // once each in effect (the receiver applies a webhook-id once; no two ids for one event)
    expect(new Set(got).size).toBe(got.length);
    expect(receiver.rejected).toEqual([]);
    // nobody's events without a grant of crm, and none stamped after a withdrawal
    const grantedCustomers = new Set(crm.customers.filter((c) => c.consents.some((k) => k.purpose === 'crm' && k.state === 'granted')).map((c) => c.customer));
    expect(got.filter((k) => !grantedCustomers.has(k.split(' ')[0] as string))).toEqual([]);
    for (const c of crm.customers) {
      const withdrawal = c.consents.find((k) => k.purpose === 'crm' && k.state === 'withdrawn' && k.delivered);
      if (withdrawal === undefined) continue;
      const late = got.filter((k) => k.startsWith(`${c.customer} `) && Date.parse(k.split(' ')[2] as string) > withdrawal.stampedTs);
      expect(late, `${c.customer}: events after their withdrawal`).toEqual([]);
    }
    // the gateway's own account agrees with the truth's reasons: delivered, stopped by a withdrawal, filtered for want of consent
    const metric = (name: string, labels: Record<string, string>) => metricValue(gw.httpUrl, name, { destination: 'hooks', ...labels });
    expect(await metric('storeloop_crm_events_total', { outcome: 'delivered' })).toBe(expected.length);
    expect(await metric('storeloop_crm_events_total', { outcome: 'withdrawn' })).toBe(crm.outcomes.withdrawn);
    expect(await metric('storeloop_crm_filtered_total', { reason: 'no_consent' })).toBe(crm.outcomes.no_consent);
    // no BLE in this run: the engine makes no visits, so none is forwarded
    expect(receiver.accepted.filter((a) => (a.body as Delivered).type === 'storeloop.visit')).toEqual([]);
    console.info(
      `crm-simulated: ${crm.granted} customers granted crm, ${crm.withdrew} withdrew; ${expected.length} events expected, ${got.length} delivered; ` +
        `${undetermined.size} undetermined; outcomes ${JSON.stringify(crm.outcomes)}`,
    );
  });
});
