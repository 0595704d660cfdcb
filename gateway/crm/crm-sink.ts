/**
 * One CRM destination's sink of the event log (`crm-<name>`): it picks the records that are a
 * customer's events (crm-events.ts), keeps those of customers who had granted `crm` at the event's
 * time (the consent registry), and puts them in the destination's outbox, durably, before the runner
 * moves the checkpoint past them. Everything else is `filtered` and counted with the reason; nothing
 * is sent from here: the destination's delivery (crm-delivery.ts) drains the outbox at its own pace,
 * so a CRM that is down or slow never holds back the log, and the log never holds back the store.
 */
import { Counter, type Registry } from 'prom-client';

import type { ConsentRegistry } from '../consent/consent-registry.js';
import type { CustomerTokenVault } from '../identity/customer-tokens.js';
import type { LogRecord } from '../log/log-record.js';
import type { Sink, SinkOutcome } from '../sinks/sink.js';
import { crmCandidate, type CrmFilterReason } from './crm-events.js';
import type { CrmOutbox, OutboxEvent } from './crm-outbox.js';

export function crmSinkName(destination: string): string {
  return `crm-${destination}`;
}

/** Filtered records per destination and reason; one counter for every destination of the gateway. */
export function crmFilteredCounter(registry: Registry): Counter<'destination' | 'reason'> {
  const existing = registry.getSingleMetric('storeloop_crm_filtered_total');
  if (existing !== undefined) return existing as Counter<'destination' | 'reason'>;
  return new Counter({
    name: 'storeloop_crm_filtered_total',
    help: 'Log records a CRM destination did not forward, by reason (not_forwarded: not a customer event; anonymous: no customer named or linked; no_consent: no crm consent at the event time)',
    labelNames: ['destination', 'reason'],
    registers: [registry],
  });
}

export class CrmSink implements Sink {
  readonly name: string;
  readonly holdsBackIngest = false;

  constructor(
    private readonly destination: string,
    private readonly deps: {
      outbox: CrmOutbox;
      consents: ConsentRegistry;
      customers: CustomerTokenVault;
      filtered: Counter<'destination' | 'reason'>;
      /** Called after events were added: the delivery sends them. */
      onAdded: () => void;
    },
  ) {
    this.name = crmSinkName(destination);
  }

  deliver(records: readonly LogRecord[]): Promise<SinkOutcome[]> {
    const events: OutboxEvent[] = [];
    const outcomes = records.map((record): SinkOutcome => {
      const candidate = crmCandidate(record, (pseudonym, at) => this.deps.customers.tokenLinkedAt(pseudonym, at));
      let reason: CrmFilterReason | undefined = 'reason' in candidate ? candidate.reason : undefined;
      if ('event' in candidate) {
        if (this.deps.consents.grantedAt(candidate.event.customerToken, 'crm', candidate.event.eventTime)) {
          events.push({ ...candidate.event, destination: this.destination });
          return 'delivered';
        }
        reason = 'no_consent';
      }
      this.deps.filtered.inc({ destination: this.destination, reason });
      return 'filtered';
    });
    if (events.length > 0) {
      this.deps.outbox.add(events);
      this.deps.onAdded();
    }
    return Promise.resolve(outcomes);
  }
}
