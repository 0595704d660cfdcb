import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { Registry } from 'prom-client';
import { describe, expect, it, onTestFinished } from 'vitest';

import type { CrmDestinationConfig } from '../../config/index.js';
import { createLogger } from '../../lib/logger.js';
import { ConsentRegistry } from '../consent/consent-registry.js';
import { CustomerTokenVault } from '../identity/customer-tokens.js';
import { CrmDelivery, crmDeliveryMetrics } from './crm-delivery.js';
import { CrmOutbox } from './crm-outbox.js';
import type { AttemptResult, CrmDestinationAdapter, OutgoingEvent } from './destinations/destination.js';

const T = Date.now() - 60_000;

/** An adapter that records each request's events and answers with `answer` (delivered by default). */
class RecordingAdapter implements CrmDestinationAdapter {
  readonly requests: string[][] = [];
  constructor(
    readonly maxBatch: number,
    private readonly answer: (event: OutgoingEvent, request: number) => AttemptResult = () => ({ kind: 'delivered', status: 204 }),
  ) {}
  send(events: readonly OutgoingEvent[]): Promise<AttemptResult[]> {
    const request = this.requests.push(events.map((e) => e.event.id)) - 1;
    return Promise.resolve(events.map((e) => this.answer(e, request)));
  }
}

/** A delivery on real stores in a fresh dir, each customer granted `crm`, their events in the outbox in this order. */
async function delivery(
  adapter: CrmDestinationAdapter,
  events: Array<[id: string, customer: string]>,
  config: Partial<CrmDestinationConfig> = {},
  times: { grant: number; event: number } = { grant: T - 1000, event: T },
) {
  const dir = await mkdtemp(join(tmpdir(), 'storeloop-crm-delivery-'));
  const consents = new ConsentRegistry(join(dir, 'consent.sqlite'));
  const customers = new CustomerTokenVault(join(dir, 'identity.sqlite'));
  const outbox = new CrmOutbox(join(dir, 'crm-outbox.sqlite'));
  for (const store of [consents, customers, outbox]) store.open();
  const destination = {
    name: 'dest',
    type: 'webhook',
    url: 'http://127.0.0.1:9/',
    secrets: [],
    timeoutMs: 1000,
    ratePerSecond: 1000,
    maxAttempts: 10,
    retryMinMs: 10,
    retryMaxMs: 20,
    ...config,
  } as CrmDestinationConfig;
  const tokens = new Map<string, string>();
  for (const [, customer] of events) {
    if (tokens.has(customer)) continue;
    const token = customers.tokenFor(customer);
    tokens.set(customer, token);
    consents.record({ customerToken: token, purpose: 'crm', state: 'granted', at: times.grant, channel: 'kiosk', origin: 'test' });
  }
  outbox.add(
    events.map(([id, customer]) => ({
      id,
      destination: 'dest',
      customerToken: tokens.get(customer) ?? '',
      eventTime: times.event,
      type: 'interaction',
      data: {},
    })),
  );
  const metrics = crmDeliveryMetrics(new Registry(), () => []);
  const run = new CrmDelivery(destination, { adapter, outbox, consents, customers, metrics, log: createLogger('silent') });
  onTestFinished(async () => {
    await run.stop();
    for (const store of [consents, customers, outbox]) store.close();
    await rm(dir, { recursive: true, force: true });
  });
  return { run, outbox, consents, tokens };
}

async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 5));
}

describe('CrmDelivery', () => {
  it('delivers the events of a grant stamped ahead of the gateway’s clock (a touchpoint clock running fast), and drops them after a withdrawal stamped so', async () => {
    const now = Date.now();
    const adapter = new RecordingAdapter(1);
    const fast = await delivery(adapter, [['f1', 'F']], {}, { grant: now + 60_000, event: now + 70_000 });
    fast.run.start();
    await until(() => adapter.requests.length === 1);
    expect(adapter.requests).toEqual([['f1']]);

    const none = new RecordingAdapter(1);
    const withdrawn = await delivery(none, [['w1', 'W']]);
    withdrawn.consents.record({
      customerToken: withdrawn.tokens.get('W') as string,
      purpose: 'crm',
      state: 'withdrawn',
      at: now + 30_000,
      channel: 'kiosk',
      origin: 'test',
    });
    withdrawn.run.start();
    await until(() => withdrawn.outbox.counts('dest').pending === 0);
    expect(none.requests).toEqual([]);
  });

  it('sends up to the adapter’s batch, never two events of one customer in a request, each customer’s in order', async () => {
    const adapter = new RecordingAdapter(2);
    const events: Array<[string, string]> = [
      ['a1', 'A'],
      ['a2', 'A'],
      ['b1', 'B'],
      ['a3', 'A'],
      ['c1', 'C'],
      ['b2', 'B'],
    ];
    const { run, outbox } = await delivery(adapter, events);
    run.start();
    await until(() => outbox.counts('dest').pending === 0);
    const customerOf = new Map(events);
    for (const request of adapter.requests) {
      expect(request.length).toBeLessThanOrEqual(2);
      expect(new Set(request.map((id) => customerOf.get(id))).size).toBe(request.length);
    }
    const sent = adapter.requests.flat();
    expect(sent.filter((id) => id.startsWith('a'))).toEqual(['a1', 'a2', 'a3']);
    expect(sent.filter((id) => id.startsWith('b'))).toEqual(['b1', 'b2']);
    expect(sent.toSorted()).toEqual(events.map(([id]) => id).toSorted());
    expect(adapter.requests[0]).toEqual(['a1', 'b1']);
  });

  it('settles each event of a batch by its own result: one retried, one dead-lettered, the others delivered', async () => {
    const adapter = new RecordingAdapter(10, (e, request) => {
      if (e.event.id === 'b1' && request === 0) return { kind: 'retry', status: 200, error: 'unavailable', throttled: false };
      if (e.event.id === 'c1') return { kind: 'refused', status: 200, error: `too long: ${e.customer}` };
      return { kind: 'delivered', status: 200 };
    });
    const { run, outbox } = await delivery(adapter, [
      ['a1', 'A'],
      ['b1', 'B'],
      ['c1', 'C-secret'],
    ]);
    run.start();
    await until(() => outbox.counts('dest').pending === 0);
    expect(adapter.requests).toEqual([['a1', 'b1', 'c1'], ['b1']]);
    // the reason is kept without the customer's reference
    expect(outbox.deadLetters('dest', 10).map((d) => [d.id, d.lastError])).toEqual([['c1', 'too long: <customer>']]);
  });

  it('pauses every customer on a throttling answer, and never dead-letters an event for a configuration fault', async () => {
    const adapter = new RecordingAdapter(1, (_, request) =>
      request === 0 ? { kind: 'retry', status: 429, error: 'slow down', throttled: true, retryAfterMs: 60_000 } : { kind: 'delivered', status: 204 },
    );
    const { run } = await delivery(adapter, [
      ['a1', 'A'],
      ['b1', 'B'],
    ]);
    run.start();
    await until(() => run.status().pausedUntil !== undefined);
    expect((run.status().pausedUntil ?? 0) - Date.now()).toBeGreaterThan(50_000);
    // the same pass went on to B's event after A's answer, and left it waiting for the pause to end
    expect(adapter.requests).toEqual([['a1']]);

    const faulty = new RecordingAdapter(1, () => ({ kind: 'retry', status: 401, error: 'bad token', throttled: true, configurationFault: true }));
    const { run: stuck, outbox } = await delivery(faulty, [['x1', 'X']], { maxAttempts: 1 });
    stuck.start();
    await until(() => faulty.requests.length >= 3);
    expect(outbox.deadLetters('dest', 10)).toEqual([]);
    expect(outbox.pending('dest', 10)[0]?.attempts).toBeGreaterThanOrEqual(2);
  });
});
