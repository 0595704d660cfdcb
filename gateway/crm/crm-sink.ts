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

/** How often and how long a batch waits for the consent sink to catch up before the runner retries it. */
const CONSENT_POLL_MS = 20;
const CONSENT_WAIT_MS = 5_000;

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
      /** The log position up to which the consent sink has recorded every consent change. */
      consentsUpTo: () => number;
      /** How long a batch waits for the consent sink before the runner is asked to retry it (default 5 s). */
      consentWaitMs?: number;
      /** Called after events were added: the delivery sends them. */
      onAdded: () => void;
    },
  ) {
    this.name = crmSinkName(destination);
  }

  async deliver(records: readonly LogRecord[]): Promise<SinkOutcome[]> {
    // the consent sink reads the same log at its own pace: a grant logged before an event must be in the registry before the event is judged
    await this.consentsRecorded(records[records.length - 1]?.seq ?? 0);
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
    return outcomes;
  }

  /** Waits until the consent sink has recorded up to `seq`; throws after `consentWaitMs`, so the runner retries the batch later. */
  private async consentsRecorded(seq: number): Promise<void> {
    const until = Date.now() + (this.deps.consentWaitMs ?? CONSENT_WAIT_MS);
    while (this.deps.consentsUpTo() < seq) {
      if (Date.now() > until) {
        throw new Error(
          `the consent sink has recorded the log up to ${this.deps.consentsUpTo()}, this batch ends at ${seq}: waiting for it before judging consent`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, CONSENT_POLL_MS));
    }
  }
}
