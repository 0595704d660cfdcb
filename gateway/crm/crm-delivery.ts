/**
 * Drains one destination's outbox: oldest first, each customer's events in order (an event waiting for
 * its retry holds back that customer's later ones, not other customers'), at most `ratePerSecond`.
 * Before each attempt the consent is checked again (granted at the event's time and not withdrawn
 * since: a withdrawal between event and delivery stops it) and the customer id resolved (an erased
 * customer's events are dropped). A failed attempt is retried after an exponential backoff with
 * jitter, or when the destination's `Retry-After` says; a throttling answer pauses the whole
 * destination. After `maxAttempts`, or when the destination refuses the event (400), it becomes a
 * dead letter with the reason; a 410 disables the destination until the gateway restarts.
 */
import { Counter, Gauge, type Registry } from 'prom-client';

import type { CrmDestinationConfig } from '../../config/index.js';
import type { Logger } from '../../lib/logger.js';
import type { ConsentRegistry } from '../consent/consent-registry.js';
import type { CustomerTokenVault } from '../identity/customer-tokens.js';
import type { CrmOutbox, PendingEvent } from './crm-outbox.js';
import { sendWebhook, webhookBody, type AttemptResult } from './webhook-request.js';

const BATCH = 500;

export interface CrmDeliveryMetrics {
  events: Counter<'destination' | 'outcome'>;
}

/** The counters and gauges of every destination (one set per registry). */
export function crmDeliveryMetrics(
  registry: Registry,
  outboxCounts: () => Array<{ destination: string; pending: number; dead: number; lagSeconds: number; up: boolean }>,
): CrmDeliveryMetrics {
  const gauge = (
    name: string,
    help: string,
    labelNames: string[],
    pick: (c: ReturnType<typeof outboxCounts>[number]) => Array<[Record<string, string>, number]>,
  ) =>
    new Gauge({
      name,
      help,
      labelNames,
      registers: [registry],
      collect() {
        this.reset();
        for (const c of outboxCounts()) for (const [labels, value] of pick(c)) this.set(labels, value);
      },
    });
  gauge('storeloop_crm_outbox_events', 'Events in a CRM destination’s outbox: pending, or set aside as dead letters', ['destination', 'state'], (c) => [
    [{ destination: c.destination, state: 'pending' }, c.pending],
    [{ destination: c.destination, state: 'dead' }, c.dead],
  ]);
  gauge('storeloop_crm_lag_seconds', 'Age of the oldest event a CRM destination has not delivered (event time; 0 when none)', ['destination'], (c) => [
    [{ destination: c.destination }, c.lagSeconds],
  ]);
  gauge('storeloop_crm_destination_up', '0 while a CRM destination is disabled (it answered 410) or its last attempt failed', ['destination'], (c) => [
    [{ destination: c.destination }, c.up ? 1 : 0],
  ]);
  return {
    events: new Counter({
      name: 'storeloop_crm_events_total',
      help: 'CRM events by outcome per destination: delivered, retried (an attempt failed), dead_lettered, withdrawn (dropped: consent withdrawn before delivery), erased (dropped: customer erased)',
      labelNames: ['destination', 'outcome'],
      registers: [registry],
    }),
  };
}

export class CrmDelivery {
  private stopped = true;
  private loop: Promise<void> | undefined;
  private wakeUp: (() => void) | undefined;
  private timer: NodeJS.Timeout | undefined;
  private nextSendAt = 0;
  private pausedUntil = 0;
  private disabledReason: string | undefined;
  private lastFailed = false;

  constructor(
    private readonly destination: CrmDestinationConfig,
    private readonly deps: { outbox: CrmOutbox; consents: ConsentRegistry; customers: CustomerTokenVault; metrics: CrmDeliveryMetrics; log: Logger },
  ) {}

  get name(): string {
    return this.destination.name;
  }

  /** Whether it delivers: false once the destination answered 410, with the reason. */
  status(): { up: boolean; disabled?: string } {
    return { up: this.disabledReason === undefined && !this.lastFailed, ...(this.disabledReason === undefined ? {} : { disabled: this.disabledReason }) };
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.loop = this.run().catch((err: unknown) => this.deps.log.error({ err, destination: this.name }, 'CRM delivery stopped by an error'));
  }

  /** New events, or dead letters replayed: look again now. */
  wake(): void {
    this.wakeUp?.();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.wake();
    await this.loop;
  }

  private async run(): Promise<void> {
    while (!this.stopped && this.disabledReason === undefined) {
      let waitUntil: number;
      try {
        waitUntil = await this.pass();
      } catch (err) {
        // the outbox or the registry failed (disk): the events stay where they are; look again after a while
        this.deps.log.error({ err, destination: this.name }, 'CRM delivery could not go through its outbox: trying again');
        waitUntil = Date.now() + this.destination.retryMinMs;
      }
      if (this.stopped || this.disabledReason !== undefined) break;
      await this.sleepUntil(waitUntil);
    }
  }

  /** Sends what is due; returns when to look again (Infinity: only when woken). */
  private async pass(): Promise<number> {
    const blocked = new Set<string>();
    let next = Infinity;
    let sent = false;
    for (const event of this.deps.outbox.pending(this.name, BATCH)) {
      if (this.stopped) return 0;
      if (blocked.has(event.customerToken)) continue;
      const now = Date.now();
      const due = Math.max(event.nextAttemptAt, this.pausedUntil, this.nextSendAt);
      if (due > now) {
        // this customer's later events wait behind this one; others may go (rate and pause permitting)
        blocked.add(event.customerToken);
        next = Math.min(next, due);
        continue;
      }
      // an erasure notice names the customer itself: their token resolves to nobody any more, and no consent applies
      const erasure = event.type === 'erasure';
      const customer = erasure ? String(event.data.customer) : this.deps.customers.resolve(event.customerToken);
      if (customer === undefined) {
        this.deps.outbox.drop(event.seq);
        this.count('erased');
        continue;
      }
      const { consents } = this.deps;
      if (!erasure && (!consents.grantedAt(event.customerToken, 'crm', event.eventTime) || !consents.grantedAt(event.customerToken, 'crm', now))) {
        this.deps.outbox.drop(event.seq);
        this.count('withdrawn');
        continue;
      }
      this.nextSendAt = now + 1000 / this.destination.ratePerSecond;
      const result = await sendWebhook(this.destination, event.id, webhookBody(event, customer));
      sent = true;
      if (!this.settle(event, result)) blocked.add(event.customerToken);
      if (this.disabledReason !== undefined) return Infinity;
    }
    // after sending, look again (more may wait beyond this batch) as soon as the rate allows
    return sent ? Math.min(next, Math.max(Date.now(), this.nextSendAt)) : next;
  }

  /** Records an attempt's result; true when the event left the pending list (delivered or dead). */
  private settle(event: PendingEvent, result: AttemptResult): boolean {
    const { outbox, log } = this.deps;
    this.lastFailed = result.kind !== 'delivered';
    switch (result.kind) {
      case 'delivered':
        outbox.delivered(event.seq);
        // an erasure notice was the last place the customer's id was kept: leave no copy in the write-ahead log
        if (event.type === 'erasure') outbox.checkpoint();
        this.count('delivered');
        return true;
      case 'refused':
        outbox.deadLetter(event.seq, result.error);
        this.count('dead_lettered');
        log.warn({ destination: this.name, event: event.id, status: result.status, error: result.error }, 'CRM destination refused an event: dead letter');
        return true;
      case 'gone':
        this.disabledReason = `${result.error} (410 Gone: the endpoint was removed; fix sinks.crm and restart the gateway)`;
        log.error({ destination: this.name, status: result.status }, `CRM destination disabled: ${this.disabledReason}`);
        outbox.retryLater(event.seq, Date.now(), result.error);
        return false;
      case 'retry': {
        if (event.attempts + 1 >= this.destination.maxAttempts) {
          outbox.deadLetter(event.seq, `${result.error} (after ${event.attempts + 1} attempts)`);
          this.count('dead_lettered');
          log.warn({ destination: this.name, event: event.id, error: result.error }, 'CRM event ran out of attempts: dead letter');
          return true;
        }
        const delay = result.retryAfterMs ?? this.backoffMs(event.attempts);
        const at = Date.now() + delay;
        if (result.throttled) this.pausedUntil = Math.max(this.pausedUntil, at);
        outbox.retryLater(event.seq, at, result.error);
        this.count('retried');
        log.warn(
          { destination: this.name, event: event.id, attempt: event.attempts + 1, retryInMs: delay, error: result.error },
          'CRM delivery failed: retrying',
        );
        return false;
      }
    }
  }

  /** Exponential backoff with jitter: between half and all of min × 2^attempts, capped at retryMaxMs. */
  private backoffMs(attempts: number): number {
    const { retryMinMs, retryMaxMs } = this.destination;
    const ceiling = Math.min(retryMaxMs, retryMinMs * 2 ** Math.min(attempts, 30));
    return Math.round(ceiling / 2 + (Math.random() * ceiling) / 2);
  }

  private count(outcome: 'delivered' | 'retried' | 'dead_lettered' | 'withdrawn' | 'erased'): void {
    this.deps.metrics.events.inc({ destination: this.name, outcome });
  }

  private sleepUntil(at: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(this.timer);
        this.wakeUp = undefined;
        resolve();
      };
      this.wakeUp = done;
      if (Number.isFinite(at)) this.timer = setTimeout(done, Math.max(0, at - Date.now()));
    });
  }
}
