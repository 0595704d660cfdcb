import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';

import { LEDGER_STATES, Ledger, type LedgerRow } from './ledger.js';

function ledger(): { ledger: Ledger; registry: Registry } {
  const registry = new Registry();
  return { ledger: new Ledger(registry), registry };
}

function row(l: Ledger, store: string, kind: string): LedgerRow | undefined {
  return l.rowsSnapshot().find((r) => r.store === store && r.kind === kind);
}

/** storeloop_ledger_messages as Prometheus scrapes it: `store/kind/state` → value. */
async function exported(registry: Registry): Promise<Record<string, number>> {
  const metric = (await registry.getMetricsAsJSON()).find((m) => m.name === 'storeloop_ledger_messages');
  return Object.fromEntries((metric?.values ?? []).map((v) => [`${v.labels.store}/${v.labels.kind}/${v.labels.state}`, v.value]));
}

describe('Ledger', () => {
  it('holds a received message until it moves on, and balances at every step', () => {
    const { ledger: l } = ledger();
    l.receive('s1', 'ble');
    expect(row(l, 's1', 'ble')).toMatchObject({ received: 1, states: { held: 1, logged: 0 }, balanced: true });
    l.move('s1', 'ble', 'held', 'logged');
    expect(row(l, 's1', 'ble')).toMatchObject({ received: 1, states: { held: 0, logged: 1 }, balanced: true });
  });

  it('puts each message in exactly one final state, per store and kind, and sums the rows in the totals', () => {
    const { ledger: l } = ledger();
    const moves: Array<[string, string, (typeof LEDGER_STATES)[number], string?]> = [
      ['s1', 'ble', 'logged'],
      ['s1', 'ble', 'logged'],
      ['s1', 'ble', 'duplicate'],
      ['s1', 'ble', 'rejected', 'json_invalid'],
      ['s1', 'wifi', 'shed'],
      ['s1', 'wifi', 'rejected', 'backpressure'],
      ['s2', 'config', 'forwarded'],
      ['s2', 'touchpoint', 'rejected', 'json_invalid'],
    ];
    for (const [store, kind, to, reason] of moves) {
      l.receive(store, kind);
      l.move(store, kind, 'held', to, reason);
    }
    l.receive('s2', 'touchpoint'); // still being checked

    expect(row(l, 's1', 'ble')).toMatchObject({
      received: 4,
      states: { held: 0, logged: 2, duplicate: 1, rejected: 1, shed: 0, forwarded: 0 },
      rejectedBy: { json_invalid: 1 },
      balanced: true,
    });
    expect(row(l, 's1', 'wifi')).toMatchObject({ received: 2, states: { shed: 1, rejected: 1 }, rejectedBy: { backpressure: 1 } });
    expect(row(l, 's2', 'touchpoint')).toMatchObject({ received: 2, states: { held: 1, rejected: 1 }, balanced: true });
    expect(l.rowsSnapshot()).toHaveLength(4);
    expect(l.totals()).toEqual({
      store: '*',
      kind: '*',
      received: 9,
      states: { held: 1, rejected: 3, duplicate: 1, shed: 1, forwarded: 1, logged: 2 },
      rejectedBy: { json_invalid: 2, backpressure: 1 },
      balanced: true,
    });
  });

  it('counts a rejection without a reason as unknown', () => {
    const { ledger: l } = ledger();
    l.receive('s1', 'ble');
    l.move('s1', 'ble', 'held', 'rejected');
    expect(row(l, 's1', 'ble')?.rejectedBy).toEqual({ unknown: 1 });
  });

  it('refuses to move a message it does not hold, naming store, kind and states, and changes nothing', () => {
    const { ledger: l } = ledger();
    expect(() => l.move('s1', 'ble', 'held', 'logged')).toThrow('ledger: no held message of s1/ble to move to logged');
    l.receive('s1', 'ble');
    l.move('s1', 'ble', 'held', 'logged');
    expect(() => l.move('s1', 'ble', 'held', 'duplicate')).toThrow(/no held message of s1\/ble to move to duplicate/);
    expect(row(l, 's1', 'ble')).toMatchObject({ received: 1, states: { held: 0, logged: 1, duplicate: 0 }, balanced: true });
    expect(l.totals().balanced).toBe(true);
  });

  it('hands out copies: changing a snapshot changes nothing in the ledger', () => {
    const { ledger: l } = ledger();
    l.receive('s1', 'ble');
    l.move('s1', 'ble', 'held', 'rejected', 'schema_invalid');
    const snapshot = l.rowsSnapshot()[0] as LedgerRow;
    snapshot.received = 99;
    snapshot.states.logged = 5;
    snapshot.rejectedBy.schema_invalid = 7;
    expect(row(l, 's1', 'ble')).toMatchObject({ received: 1, states: { logged: 0, rejected: 1 }, rejectedBy: { schema_invalid: 1 }, balanced: true });
  });

  it('exports received and every state per store and kind as storeloop_ledger_messages, current at each scrape', async () => {
    const { ledger: l, registry } = ledger();
    l.receive('s1', 'ble');
    l.receive('s1', 'ble');
    l.move('s1', 'ble', 'held', 'logged');
    const first = await exported(registry);
    expect(first).toMatchObject({ 's1/ble/received': 2, 's1/ble/held': 1, 's1/ble/logged': 1, 's1/ble/rejected': 0 });
    expect(Object.keys(first)).toHaveLength(1 + LEDGER_STATES.length);

    l.move('s1', 'ble', 'held', 'duplicate');
    l.receive('s2', 'wifi');
    expect(await exported(registry)).toMatchObject({ 's1/ble/held': 0, 's1/ble/duplicate': 1, 's2/wifi/received': 1, 's2/wifi/held': 1 });
  });
});
