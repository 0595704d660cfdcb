import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { Registry } from 'prom-client';
import { describe, expect, it, onTestFinished } from 'vitest';

import { ConsentRegistry } from '../consent/consent-registry.js';
import { CustomerTokenVault } from '../identity/customer-tokens.js';
import type { LogRecord } from '../log/log-record.js';
import { CrmOutbox } from './crm-outbox.js';
import { CrmSink, crmFilteredCounter } from './crm-sink.js';

const T = Date.UTC(2026, 10, 30, 12);
const source = { storeId: 'demo-store', sourceId: 'kiosk-1', role: 'touchpoint', type: 'kiosk', zone: 'aisle-women' };
const tap = (seq: number, customerToken: string): LogRecord =>
  ({
    v: 1,
    kind: 'touchpoint',
    source,
    eventTime: T,
    receivedAt: T,
    mid: `m-${seq}`,
    qos: 1,
    slot: 0,
    seq,
    appendedAt: T,
    message: { ts: T, action: 'tap', customerToken },
  }) as never;

/** A sink on real stores in a fresh dir; `position` is what the consent sink has recorded up to. */
async function sink(consentWaitMs = 5000) {
  const dir = await mkdtemp(join(tmpdir(), 'storeloop-crm-sink-'));
  const consents = new ConsentRegistry(join(dir, 'consent.sqlite'));
  const customers = new CustomerTokenVault(join(dir, 'identity.sqlite'));
  const outbox = new CrmOutbox(join(dir, 'crm-outbox.sqlite'));
  for (const store of [consents, customers, outbox]) store.open();
  onTestFinished(async () => {
    for (const store of [consents, customers, outbox]) store.close();
    await rm(dir, { recursive: true, force: true });
  });
  const registry = new Registry();
  const state = { position: 0, added: 0, asked: 0 };
  const crm = new CrmSink('hooks', {
    outbox,
    consents,
    customers,
    filtered: crmFilteredCounter(registry),
    consentsUpTo: () => {
      state.asked += 1;
      return state.position;
    },
    consentWaitMs,
    onAdded: () => (state.added += 1),
  });
  return { crm, consents, outbox, registry, state };
}

/** Resolves once `condition` holds, looking again on each turn of the event loop's timers. */
async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 5));
}

describe('CrmSink', () => {
  it('judges a record only once the consent sink has recorded the log up to it, then puts the consented events in the outbox', async () => {
    const { crm, consents, outbox, state } = await sink();
    consents.record({ customerToken: 'ct_alice', purpose: 'crm', state: 'granted', at: T - 1000, channel: 'kiosk', origin: 'test' });
    let settled = false;
    const outcome = crm.deliver([tap(4, 'ct_alice'), tap(5, 'ct_bob')]).then((o) => {
      settled = true;
      return o;
    });
    state.position = 4;
    // the sink keeps asking while the consent sink is one record behind, and judges nothing meanwhile
    const asked = state.asked;
    await until(() => state.asked >= asked + 3);
    expect(settled).toBe(false);
    expect(outbox.pending('hooks', 10)).toEqual([]);
    state.position = 5;
    expect(await outcome).toEqual(['delivered', 'filtered']);
    expect(outbox.pending('hooks', 10).map((e) => [e.customerToken, e.type])).toEqual([['ct_alice', 'interaction']]);
    expect(state.added).toBe(1);
  });

  it('asks the runner to retry a batch when the consent sink stays behind, and counts what it filters by reason', async () => {
    const { crm, registry } = await sink(50);
    await expect(crm.deliver([tap(9, 'ct_alice')])).rejects.toThrow('the consent sink has recorded the log up to 0, this batch ends at 9');
    const { crm: ready, registry: metrics, state } = await sink();
    state.position = 9;
    expect(await ready.deliver([tap(9, 'ct_alice')])).toEqual(['filtered']);
    const counted = await metrics.getSingleMetricAsString('storeloop_crm_filtered_total');
    expect(counted).toContain('storeloop_crm_filtered_total{destination="hooks",reason="no_consent"} 1');
    expect(registry).not.toBe(metrics);
  });
});
