/**
 * The gateway's conservation ledger: every message this run of the gateway receives is, at any
 * moment, in exactly one counted state, per store and kind. The unit is the message (a message logged
 * with some sightings rejected counts as logged; its rejected sightings are counted beside it in
 * storeloop_items_rejected_total).
 *
 *   received = held + rejected + duplicate + shed + forwarded + logged
 *
 * `held`: being checked, or waiting for its append (or for room in the log); `rejected`: refused with
 * a reason (incl. `backpressure`: not acknowledged, the publisher resends); `duplicate`: a resend of
 * an accepted mid; `shed`: QoS 0 dropped under overload; `forwarded`: a control message (an agent's
 * remote config) passed on to subscribers, not logged; `logged`: appended to the event log (fsynced).
 * What happens to a logged message at each sink is in that sink's own ledger (gateway/sinks).
 * Exposed as storeloop_ledger_messages{store,kind,state} and by GET /api/v1/ledger.
 */
import { Gauge, type Registry } from 'prom-client';

export const LEDGER_STATES = ['held', 'rejected', 'duplicate', 'shed', 'forwarded', 'logged'] as const;
export type LedgerState = (typeof LEDGER_STATES)[number];
/** States a message leaves again; the others are final. */
export type TransientState = 'held';

export interface LedgerRow {
  store: string;
  kind: string;
  received: number;
  states: Record<LedgerState, number>;
  /** rejected, broken down by reason */
  rejectedBy: Record<string, number>;
  balanced: boolean;
}

function emptyStates(): Record<LedgerState, number> {
  return { held: 0, rejected: 0, duplicate: 0, shed: 0, forwarded: 0, logged: 0 };
}

export class Ledger {
  private readonly rows = new Map<string, LedgerRow>();
  private readonly gauge: Gauge<'store' | 'kind' | 'state'>;

  constructor(registry: Registry) {
    this.gauge = new Gauge({
      name: 'storeloop_ledger_messages',
      help: 'Messages by ledger state (received is the input; the states sum to it)',
      labelNames: ['store', 'kind', 'state'],
      registers: [registry],
      collect: () => this.exportTo(),
    });
  }

  /** A message arrived: it is held until it is acknowledged or refused. */
  receive(store: string, kind: string): void {
    const row = this.row(store, kind);
    row.received++;
    row.states.held++;
  }

  /** Moves one message from a transient state to its next state. */
  move(store: string, kind: string, from: TransientState, to: LedgerState, reason?: string): void {
    const row = this.row(store, kind);
    if (row.states[from] <= 0) throw new Error(`ledger: no ${from} message of ${store}/${kind} to move to ${to}`);
    row.states[from]--;
    row.states[to]++;
    if (to === 'rejected') row.rejectedBy[reason ?? 'unknown'] = (row.rejectedBy[reason ?? 'unknown'] ?? 0) + 1;
  }

  rowsSnapshot(): LedgerRow[] {
    return [...this.rows.values()].map((row) => ({ ...row, states: { ...row.states }, rejectedBy: { ...row.rejectedBy }, balanced: isBalanced(row) }));
  }

  totals(): LedgerRow {
    const total: LedgerRow = { store: '*', kind: '*', received: 0, states: emptyStates(), rejectedBy: {}, balanced: true };
    for (const row of this.rows.values()) {
      total.received += row.received;
      for (const state of LEDGER_STATES) total.states[state] += row.states[state];
      for (const [reason, n] of Object.entries(row.rejectedBy)) total.rejectedBy[reason] = (total.rejectedBy[reason] ?? 0) + n;
    }
    total.balanced = isBalanced(total);
    return total;
  }

  private row(store: string, kind: string): LedgerRow {
    const key = `${store}\u0000${kind}`;
    let row = this.rows.get(key);
    if (!row) {
      row = { store, kind, received: 0, states: emptyStates(), rejectedBy: {}, balanced: true };
      this.rows.set(key, row);
    }
    return row;
  }

  private exportTo(): void {
    this.gauge.reset();
    for (const row of this.rows.values()) {
      const labels = { store: row.store, kind: row.kind };
      this.gauge.set({ ...labels, state: 'received' }, row.received);
      for (const state of LEDGER_STATES) this.gauge.set({ ...labels, state }, row.states[state]);
    }
  }
}

function isBalanced(row: Pick<LedgerRow, 'received' | 'states'>): boolean {
  return row.received === LEDGER_STATES.reduce((sum, s) => sum + row.states[s], 0);
}
