/**
 * The CRM destinations of `sinks.crm.destinations`, put together: one outbox for all, and per
 * destination its sink of the event log (crm-sink.ts) and its delivery (crm-delivery.ts) through the
 * adapter of its `type` (destinations/: webhook, HubSpot, Salesforce). A
 * withdrawal of `crm` drops the customer's pending events of every destination at once.
 */
import { join } from 'node:path';

import type { Registry } from 'prom-client';

import type { Config } from '../../config/index.js';
import type { Logger } from '../../lib/logger.js';
import type { ConsentRegistry } from '../consent/consent-registry.js';
import type { CustomerTokenVault } from '../identity/customer-tokens.js';
import { DEFAULT_SINK_RUNNER_OPTIONS } from '../sinks/sink-runner.js';
import type { SinkSet } from '../sinks/sink-set.js';
import { CrmDelivery, crmDeliveryMetrics } from './crm-delivery.js';
import { CrmOutbox } from './crm-outbox.js';
import { CrmSink, crmFilteredCounter } from './crm-sink.js';
import { createDestination } from './destinations/create-destination.js';

/** A CRM sink must never stop the store: records it has not taken into its outbox after this long are expired for it (counted). */
const CRM_LAG_BUDGET_SECONDS = 24 * 3600;

export class CrmForwarding {
  readonly outbox: CrmOutbox;
  readonly deliveries: CrmDelivery[] = [];

  constructor(
    private readonly config: Config,
    private readonly deps: { consents: ConsentRegistry; customers: CustomerTokenVault; registry: Registry; log: Logger },
  ) {
    this.outbox = new CrmOutbox(join(config.state.dir, 'crm-outbox.sqlite'));
  }

  /**
   * Opens the outbox, attaches each destination's sink and starts its delivery. `consentsUpTo` is the
   * log position the consent sink has recorded every consent change up to: a CRM sink takes a record
   * only once the consents logged before it are in the registry.
   */
  async attach(sinks: SinkSet, consentsUpTo: () => number): Promise<void> {
    this.outbox.open();
    const log = this.deps.log.child({ module: 'crm' });
    const metrics = crmDeliveryMetrics(this.deps.registry, () =>
      this.deliveries.map((d) => {
        const counts = this.outbox.counts(d.name);
        const oldest = counts.oldestPendingEventTime;
        return {
          destination: d.name,
          pending: counts.pending,
          dead: counts.dead,
          lagSeconds: oldest === null ? 0 : Math.max(0, (Date.now() - oldest) / 1000),
          up: d.status().up,
        };
      }),
    );
    this.deps.consents.onChange((change) => {
      if (change.purpose !== 'crm' || change.state !== 'withdrawn') return;
      for (const [destination, dropped] of this.outbox.dropCustomer(change.customerToken)) {
        metrics.events.inc({ destination, outcome: 'withdrawn' }, dropped);
        log.info({ destination, dropped, consent: change.id }, 'crm consent withdrawn: the customer’s pending CRM events dropped');
      }
    });
    const filtered = crmFilteredCounter(this.deps.registry);
    for (const destination of this.config.sinks.crm.destinations) {
      const delivery = new CrmDelivery(destination, {
        adapter: createDestination(destination),
        outbox: this.outbox,
        consents: this.deps.consents,
        customers: this.deps.customers,
        metrics,
        log,
      });
      this.deliveries.push(delivery);
      const sink = new CrmSink(destination.name, {
        outbox: this.outbox,
        consents: this.deps.consents,
        customers: this.deps.customers,
        filtered,
        consentsUpTo,
        onAdded: () => delivery.wake(),
      });
      await sinks.attach(sink, { ...DEFAULT_SINK_RUNNER_OPTIONS, lagBudget: { seconds: CRM_LAG_BUDGET_SECONDS, bytes: this.config.eventLog.quotaBytes } });
      delivery.start();
    }
  }

  /** Dead letters of a destination back to pending (one id, or all); returns how many. */
  replayDeadLetters(destination: string, id?: string): number {
    const delivery = this.delivery(destination);
    const revived = this.outbox.replay(destination, id);
    delivery.wake();
    return revived;
  }

  delivery(name: string): CrmDelivery {
    const delivery = this.deliveries.find((d) => d.name === name);
    if (delivery === undefined) throw new Error(`no CRM destination named '${name}' (configured: ${this.deliveries.map((d) => d.name).join(', ') || 'none'})`);
    return delivery;
  }

  async stop(): Promise<void> {
    await Promise.all(this.deliveries.map((d) => d.stop()));
    this.outbox.close();
  }
}
