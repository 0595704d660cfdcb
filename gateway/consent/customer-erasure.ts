/**
 * Erasing a customer (GDPR Art. 17) in one call, and telling the recipients (Art. 19): their pending
 * CRM events and dead letters are deleted from the outbox, their consent history from the registry
 * (the audit log keeps only that an erasure happened and when, under a keyed hash of the customer id),
 * and their token and identity links from the vault, last, so a call cut short can be made again.
 * Every CRM destination is told in the way its API supports (a signed webhook event, HubSpot's GDPR
 * deletion, a Salesforce platform event): a notice naming the customer is queued for it, the one place
 * their id stays after the erasure, until it is delivered. A destination that cannot be told as
 * configured (HubSpot known by tracking cookie) gets no notice, so none keeps the id; the answer
 * names it, for the privacy officer to erase the customer there by hand. The event log keeps the opaque token the
 * customer's touchpoint messages carried: with the vault's row gone it resolves to nobody, and the
 * pseudonymous analytics no longer link to the person. Each store's SQLite write-ahead log is
 * checkpointed and emptied afterwards, so no copy of a deleted row lingers in a -wal file; the
 * databases run with `secure_delete`, so none lingers in free pages either.
 */
import { randomUUID } from 'node:crypto';

import { loadOrCreateSecretKey, SecretHasher } from '../auth/secrets.js';
import type { CrmForwarding } from '../crm/crm-forwarding.js';
import type { CustomerTokenVault } from '../identity/customer-tokens.js';
import type { ConsentRegistry } from './consent-registry.js';

export interface ErasureResult {
  /** The audit log's entry: its id, and the keyed hash it is recorded under. */
  erasureId: string;
  customerHash: string;
  removed: { consentChanges: number; identityLinks: number; pendingCrmEvents: number };
  /** The CRM destinations an erasure notice was queued for. */
  notified: string[];
  /** The CRM destinations that cannot be told as configured, and why. */
  notNotified: Array<{ destination: string; reason: string }>;
}

export class CustomerErasure {
  constructor(
    private readonly deps: {
      customers: CustomerTokenVault;
      consents: ConsentRegistry;
      crm: Pick<CrmForwarding, 'outbox' | 'deliveries'>;
      keyFile: string;
    },
  ) {}

  /** Erases the customer; undefined when the gateway holds nothing of them (no token). */
  erase(customer: string, now = Date.now()): ErasureResult | undefined {
    const { customers, consents, crm } = this.deps;
    const token = customers.existingToken(customer);
    if (token === undefined) return undefined;
    const customerHash = new SecretHasher(loadOrCreateSecretKey(this.deps.keyFile)).hash(customer);
    const identityLinks = customers.linksOf(token).length;
    let pendingCrmEvents = 0;
    for (const dropped of crm.outbox.dropCustomer(token).values()) pendingCrmEvents += dropped;
    const notified = crm.deliveries.filter((d) => d.erasureUnsupported === undefined).map((d) => d.name);
    const notNotified = crm.deliveries.flatMap((d) => (d.erasureUnsupported === undefined ? [] : [{ destination: d.name, reason: d.erasureUnsupported }]));
    crm.outbox.add(
      notified.map((destination) => ({
        id: `erasure-${randomUUID()}`,
        destination,
        // no token: the notice names the customer itself, as the CRM knows them
        customerToken: '',
        eventTime: now,
        type: 'erasure',
        data: { customer, erasedAt: new Date(now).toISOString() },
      })),
      now,
    );
    const { deleted, erasureId } = consents.erase(token, customerHash, now);
    customers.erase(customer);
    for (const store of [crm.outbox, consents, customers]) store.checkpoint();
    for (const delivery of crm.deliveries) delivery.wake();
    return { erasureId, customerHash, removed: { consentChanges: deleted, identityLinks, pendingCrmEvents }, notified, notNotified };
  }
}
