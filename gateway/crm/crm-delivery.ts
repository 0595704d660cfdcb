/**
 * Drains one destination's outbox through its adapter (destinations/: webhook, HubSpot, Salesforce):
 * oldest first, each customer's events in order (an event waiting for its retry holds back that
 * customer's later ones, not other customers'), at most `ratePerSecond` requests. A request carries up
 * to the adapter's `maxBatch` events, never two of one customer, so a customer's next event is sent
 * only once the one before it is settled. Before each attempt the consent is checked again (granted
 * at the event's time and not withdrawn since: a withdrawal between event and delivery stops it) and
 * the customer id resolved (an erased customer's events are dropped). A failed attempt is retried
 * after an exponential backoff with jitter, or when the destination's `Retry-After` says; a
 * throttling answer pauses the whole destination. After `maxAttempts`, or when the destination
 * refuses the event, it becomes a dead letter with the reason; a "gone" answer (a webhook's 410)
 * disables the destination until the gateway restarts.
 */
import { Counter, Gauge, type Registry } from 'prom-client';

import type { CrmDestinationConfig } from '../../config/index.js';
import type { Logger } from '../../lib/logger.js';
import type { ConsentRegistry } from '../consent/consent-registry.js';
import type { CustomerTokenVault } from '../identity/customer-tokens.js';
import type { CrmOutbox, PendingEvent } from './crm-outbox.js';
import type { AttemptResult, CrmDestinationAdapter, OutgoingEvent } from './destinations/destination.js';

/** A time after every recorded change: the consent as it stands now, whatever its stamp. */
const LATEST = Number.MAX_SAFE_INTEGER;
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
  gauge(
    'storeloop_crm_destination_up',
    '0 while a CRM destination is disabled (it answered "gone", e.g. a webhook’s 410) or its last attempt failed',
    ['destination'],
    (c) => [[{ destination: c.destination }, c.up ? 1 : 0]],
  );
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
    private readonly deps: {
      adapter: CrmDestinationAdapter;
      outbox: CrmOutbox;
      consents: ConsentRegistry;
      customers: CustomerTokenVault;
      metrics: CrmDeliveryMetrics;
      log: Logger;
    },
  ) {}

  get name(): string {
    return this.destination.name;
  }

  /** Why this destination cannot be told of an erasure as configured; undefined when it can. */
  get erasureUnsupported(): string | undefined {
    return this.deps.adapter.erasureUnsupported;
  }

  /** Whether it delivers: false once the destination answered "gone", with the reason; `pausedUntil` while it was told to wait (throttled). */
  status(now = Date.now()): { up: boolean; disabled?: string; pausedUntil?: number } {
    return {
      up: this.disabledReason === undefined && !this.lastFailed,
      ...(this.disabledReason === undefined ? {} : { disabled: this.disabledReason }),
      ...(this.pausedUntil > now ? { pausedUntil: this.pausedUntil } : {}),
    };
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

  /** Sends what is due, in batches of the adapter's size; returns when to look again (Infinity: only when woken). */
  private async pass(): Promise<number> {
    // customers with an event in this pass already (sent, or waiting): their later events wait for the next pass
    const claimed = new Set<string>();
    let next = Infinity;
    let sent = false;
    let batch: Array<{ pending: PendingEvent; outgoing: OutgoingEvent }> = [];
    const flush = async () => {
      if (batch.length === 0) return;
      const current = batch;
      batch = [];
      this.nextSendAt = Date.now() + 1000 / this.destination.ratePerSecond;
      const results = await this.deps.adapter.send(current.map((b) => b.outgoing));
      sent = true;
      this.settleBatch(current, results);
    };
    for (const event of this.deps.outbox.pending(this.name, BATCH)) {
      if (this.stopped) return 0;
      if (claimed.has(event.customerToken)) continue;
      const now = Date.now();
      const due = Math.max(event.nextAttemptAt, this.pausedUntil, this.nextSendAt);
      if (due > now) {
        // this customer's later events wait behind this one; others may go (rate and pause permitting)
        claimed.add(event.customerToken);
        next = Math.min(next, due);
        continue;
      }
      const customer = this.customerOf(event);
      if (customer === undefined) continue;
      claimed.add(event.customerToken);
      batch.push({ pending: event, outgoing: { event, customer } });
      if (batch.length >= this.deps.adapter.maxBatch) await flush();
      if (this.disabledReason !== undefined) return Infinity;
    }
    await flush();
    if (this.disabledReason !== undefined) return Infinity;
    // after sending, look again (more may wait beyond this batch) as soon as the rate allows
    return sent ? Math.min(next, Math.max(Date.now(), this.nextSendAt)) : next;
  }

  /**
   * The customer's CRM reference, or undefined when the event is dropped instead: its customer was
   * erased, or no longer consents. An erasure notice names the customer itself: their token resolves
   * to nobody any more, and no consent applies.
   */
  private customerOf(event: PendingEvent): string | undefined {
    if (event.type === 'erasure') return String(event.data.customer);
    const customer = this.deps.customers.resolve(event.customerToken);
    if (customer === undefined) {
      this.deps.outbox.drop(event.seq);
      this.count('erased');
      return undefined;
    }
    const { consents } = this.deps;
    // granted at the event's time, and the latest change recorded is still a grant, whatever its stamp: a grant from a
    // touchpoint whose clock runs ahead is in force, a withdrawal is, however it was stamped
    if (!consents.grantedAt(event.customerToken, 'crm', event.eventTime) || !consents.grantedAt(event.customerToken, 'crm', LATEST)) {
      this.deps.outbox.drop(event.seq);
      this.count('withdrawn');
      return undefined;
    }
    return customer;
  }

  /**
   * Records a request's results, one per event, and logs the failures once per distinct reason. An
   * answer that quotes the customer's reference (Salesforce's STRING_TOO_LONG quotes the value) has
   * it masked before it is logged or kept as the reason: neither may name a customer.
   */
  private settleBatch(batch: ReadonlyArray<{ pending: PendingEvent; outgoing: OutgoingEvent }>, results: readonly AttemptResult[]): void {
    const failures = new Map<string, { result: Extract<AttemptResult, { kind: 'retry' }>; events: string[]; delayMs: number }>();
    const pausedBefore = this.pausedUntil;
    batch.forEach(({ pending: event, outgoing }, i) => {
      const answered: AttemptResult = results[i] ?? { kind: 'retry', status: null, error: 'the destination gave no result for this event', throttled: false };
      const result =
        answered.kind === 'delivered' || outgoing.customer === ''
          ? answered
          : { ...answered, error: answered.error.split(outgoing.customer).join('<customer>') };
      const delayMs = this.settle(event, result);
      if (result.kind === 'retry' && delayMs !== undefined) {
        const failure = failures.get(result.error) ?? { result, events: [], delayMs };
        failure.events.push(event.id);
        failures.set(result.error, failure);
      }
    });
    this.lastFailed = results.some((r) => r.kind !== 'delivered');
    for (const { result, events: ids, delayMs } of failures.values()) {
      const fields = { destination: this.name, events: ids.length, event: ids[0], status: result.status, retryInMs: delayMs, error: result.error };
      if (result.configurationFault === true) this.deps.log.error(fields, 'CRM destination refused our credentials or configuration: retrying');
      else this.deps.log.warn(fields, 'CRM delivery failed: retrying');
    }
    if (this.pausedUntil > pausedBefore) {
      this.deps.log.warn({ destination: this.name, pausedUntil: new Date(this.pausedUntil).toISOString() }, 'CRM destination paused');
    }
  }

  /** Records one attempt's result; returns the wait before the next attempt when the event stays pending for a retry. */
  private settle(event: PendingEvent, result: AttemptResult): number | undefined {
    const { outbox, log } = this.deps;
    switch (result.kind) {
      case 'delivered':
        outbox.delivered(event.seq);
        // an erasure notice was the last place the customer's id was kept: leave no copy in the write-ahead log
        if (event.type === 'erasure') outbox.checkpoint();
        this.count('delivered');
        return undefined;
      case 'refused':
        outbox.deadLetter(event.seq, result.error);
        this.count('dead_lettered');
        log.warn({ destination: this.name, event: event.id, status: result.status, error: result.error }, 'CRM destination refused an event: dead letter');
        return undefined;
      case 'gone':
        // the whole destination is gone: said once, however many events of the batch heard it
        if (this.disabledReason === undefined) {
          this.disabledReason = `${result.error}: the destination is disabled until the gateway restarts (fix sinks.crm)`;
          log.error({ destination: this.name, status: result.status }, `CRM destination disabled: ${this.disabledReason}`);
        }
        outbox.retryLater(event.seq, Date.now(), result.error);
        return undefined;
      case 'retry': {
        // a configuration fault (a wrong token or secret) is not the event's: it waits for the fix, never becomes a dead letter
        if (result.configurationFault !== true && event.attempts + 1 >= this.destination.maxAttempts) {
          outbox.deadLetter(event.seq, `${result.error} (after ${event.attempts + 1} attempts)`);
          this.count('dead_lettered');
          log.warn({ destination: this.name, event: event.id, error: result.error }, 'CRM event ran out of attempts: dead letter');
          return undefined;
        }
        const delay = result.retryAfterMs ?? this.backoffMs(event.attempts);
        const at = Date.now() + delay;
        if (result.throttled) this.pausedUntil = Math.max(this.pausedUntil, at);
        outbox.retryLater(event.seq, at, result.error);
        this.count('retried');
        return delay;
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
