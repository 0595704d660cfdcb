/**
 * The consent registry: per customer and purpose, every grant and withdrawal with when the customer
 * chose, how it was collected, the notice they were shown and the proof. It is the audit log too:
 * changes are only ever appended, and a consent at any moment is the latest change at or before it,
 * so a late message (an edge agent after an outage) lands in its place without rewriting anything.
 *
 * Customers are named by their opaque token (gateway/identity/customer-tokens.ts), never by their
 * CRM id, as in the event log. An erasure deletes the customer's changes (`secure_delete`: the
 * deleted rows do not linger in free pages) and keeps only that an erasure happened and when, under
 * a keyed hash of the customer id.
 *
 * `<state.dir>/consent.sqlite`, synchronous=FULL: a change is durable before the call that made it
 * returns (and, from MQTT, before the consent sink's checkpoint passes the message).
 */
import { randomUUID } from 'node:crypto';

import type Database from 'better-sqlite3';

import { StoreloopError } from '../../lib/errors.js';
import { PersonalDataStore } from '../state-sqlite.js';
import { CONSENT_PURPOSES, type ConsentPurpose } from '../../protocol/index.js';

export const CONSENT_STATES = ['granted', 'withdrawn'] as const;
export type ConsentState = (typeof CONSENT_STATES)[number];

/**
 * How a consent was collected (the receipt's `collectionMethod`): in the retailer's app, at a
 * store device (kiosk, mirror, feedback terminal), by staff on the customer's behalf (on paper, at
 * the till), or imported from the CRM.
 */
export const CONSENT_CHANNELS = ['app', 'kiosk', 'staff', 'crm_import'] as const;
export type ConsentChannel = (typeof CONSENT_CHANNELS)[number];

export { CONSENT_PURPOSES, type ConsentPurpose };

/** A change as it is recorded. */
export interface ConsentChangeInput {
  customerToken: string;
  purpose: ConsentPurpose;
  state: ConsentState;
  /** When the customer chose (epoch ms). */
  at: number;
  channel: ConsentChannel;
  /** Who passed it on: `touchpoint <store>/<id>`, `api token <name>`, `crm token <name>`. */
  origin: string;
  /** The version of the privacy notice the customer was shown. */
  notice?: string | undefined;
  /** Where the evidence is: a log record, a signed form's reference, the CRM's record id. */
  proof?: string | undefined;
  /**
   * Makes the call idempotent: a second change with the same key is not recorded again (the consent
   * sink uses the log position, so a record delivered again after a crash is recorded once).
   */
  key?: string | undefined;
}

/** A change as recorded: its receipt id and when the gateway recorded it. */
export interface ConsentChange extends ConsentChangeInput {
  /** The consent receipt's id (consentReceiptID), a UUID. */
  id: string;
  recordedAt: number;
  notice?: string;
  proof?: string;
}

/** An entry of the audit log: a change, or an erasure (under the keyed hash of the customer id only). */
export type AuditEntry =
  | ({ type: 'consent' } & ConsentChange)
  | {
      type: 'erasure';
      id: string;
      /** HMAC-SHA256 of the customer id under the gateway's secret key: says "this customer was erased" to whoever can compute it, and nothing to anyone else. */
      customerHash: string;
      recordedAt: number;
    };

export class ConsentRegistryError extends StoreloopError {
  constructor(message: string, context: Record<string, unknown>, cause?: unknown, code = 'SL_ERR_CONSENT_REGISTRY') {
    super(code, message, context, { cause });
  }
}

const SCHEMA = `
  CREATE TABLE consent_changes (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    change_key TEXT UNIQUE,
    customer_token TEXT NOT NULL,
    purpose TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('granted', 'withdrawn')),
    at INTEGER NOT NULL,
    recorded_at INTEGER NOT NULL,
    channel TEXT NOT NULL,
    origin TEXT NOT NULL,
    notice TEXT,
    proof TEXT
  );
  CREATE INDEX consent_by_customer ON consent_changes (customer_token, purpose, at);
  CREATE TABLE erasures (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    customer_hash TEXT NOT NULL,
    recorded_at INTEGER NOT NULL
  );
`;

interface ChangeRow {
  seq: number;
  id: string;
  customer_token: string;
  purpose: ConsentPurpose;
  state: ConsentState;
  at: number;
  recorded_at: number;
  channel: ConsentChannel;
  origin: string;
  notice: string | null;
  proof: string | null;
  change_key: string | null;
}

function fromRow(row: ChangeRow): ConsentChange {
  return {
    id: row.id,
    customerToken: row.customer_token,
    purpose: row.purpose,
    state: row.state,
    at: row.at,
    recordedAt: row.recorded_at,
    channel: row.channel,
    origin: row.origin,
    ...(row.notice === null ? {} : { notice: row.notice }),
    ...(row.proof === null ? {} : { proof: row.proof }),
    ...(row.change_key === null ? {} : { key: row.change_key }),
  };
}

type Statements = Record<'insert' | 'byKey' | 'latestAt' | 'history' | 'changesSince' | 'erasuresSince' | 'eraseChanges' | 'insertErasure', Database.Statement>;

export class ConsentRegistry extends PersonalDataStore<Statements> {
  private readonly listeners: Array<(change: ConsentChange) => void> = [];

  constructor(file: string) {
    super(file, 'consent registry', [SCHEMA], (message, context, cause) => new ConsentRegistryError(message, context, cause));
  }

  /** Calls `listener` after each change recorded from now on (the CRM outbox drops a customer's pending events on a withdrawal). */
  onChange(listener: (change: ConsentChange) => void): void {
    this.listeners.push(listener);
  }

  protected prepare(db: Database.Database): Statements {
    const columns = 'seq, id, change_key, customer_token, purpose, state, at, recorded_at, channel, origin, notice, proof';
    return {
      insert: db.prepare(
        'INSERT INTO consent_changes (id, change_key, customer_token, purpose, state, at, recorded_at, channel, origin, notice, proof) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
      ),
      byKey: db.prepare(`SELECT ${columns} FROM consent_changes WHERE change_key = ?`),
      // the latest change at or before a time; of two at the same instant, the one recorded last
      latestAt: db.prepare(`SELECT ${columns} FROM consent_changes WHERE customer_token = ? AND purpose = ? AND at <= ? ORDER BY at DESC, seq DESC LIMIT 1`),
      history: db.prepare(`SELECT ${columns} FROM consent_changes WHERE customer_token = ? ORDER BY at, seq`),
      changesSince: db.prepare(`SELECT ${columns} FROM consent_changes WHERE recorded_at >= ? ORDER BY seq LIMIT ?`),
      erasuresSince: db.prepare('SELECT id, customer_hash, recorded_at FROM erasures WHERE recorded_at >= ? ORDER BY seq LIMIT ?'),
      eraseChanges: db.prepare('DELETE FROM consent_changes WHERE customer_token = ?'),
      insertErasure: db.prepare('INSERT INTO erasures (id, customer_hash, recorded_at) VALUES (?, ?, ?)'),
    };
  }

  /** Records a change (durably) and returns it; with a `key` already recorded, returns the earlier change instead. */
  record(change: ConsentChangeInput, now = Date.now()): { change: ConsentChange; created: boolean } {
    const stmts = this.stmts();
    if (change.key !== undefined) {
      const earlier = stmts.byKey.get(change.key) as ChangeRow | undefined;
      if (earlier !== undefined) return { change: fromRow(earlier), created: false };
    }
    const id = randomUUID();
    stmts.insert.run(
      id,
      change.key ?? null,
      change.customerToken,
      change.purpose,
      change.state,
      change.at,
      now,
      change.channel,
      change.origin,
      change.notice ?? null,
      change.proof ?? null,
    );
    const { key, notice, proof, ...rest } = change;
    const recorded: ConsentChange = {
      ...rest,
      id,
      recordedAt: now,
      ...(notice === undefined ? {} : { notice }),
      ...(proof === undefined ? {} : { proof }),
      ...(key === undefined ? {} : { key }),
    };
    for (const listener of this.listeners) listener(recorded);
    return { change: recorded, created: true };
  }

  /** The change in force for the customer and purpose at `at` (the latest at or before it), or undefined: never asked. */
  changeAt(customerToken: string, purpose: ConsentPurpose, at: number): ConsentChange | undefined {
    const row = this.stmts().latestAt.get(customerToken, purpose, at) as ChangeRow | undefined;
    return row === undefined ? undefined : fromRow(row);
  }

  /** Whether the customer had granted the purpose at `at`. Never asked counts as not granted. */
  grantedAt(customerToken: string, purpose: ConsentPurpose, at: number): boolean {
    return this.changeAt(customerToken, purpose, at)?.state === 'granted';
  }

  /** Every change of one customer, in the order they chose (then recorded). */
  history(customerToken: string): ConsentChange[] {
    return (this.stmts().history.all(customerToken) as ChangeRow[]).map(fromRow);
  }

  /** The audit log: changes and erasures recorded since `since`, oldest first, at most `limit` of each kind. */
  audit(since: number, limit: number): AuditEntry[] {
    const stmts = this.stmts();
    const changes: AuditEntry[] = (stmts.changesSince.all(since, limit) as ChangeRow[]).map((row) => ({ type: 'consent', ...fromRow(row) }));
    const erasures: AuditEntry[] = (stmts.erasuresSince.all(since, limit) as Array<{ id: string; customer_hash: string; recorded_at: number }>).map((row) => ({
      type: 'erasure',
      id: row.id,
      customerHash: row.customer_hash,
      recordedAt: row.recorded_at,
    }));
    return [...changes, ...erasures].sort((a, b) => a.recordedAt - b.recordedAt);
  }

  /** Deletes every change of the customer and records the erasure under `customerHash`; returns how many changes went. */
  erase(customerToken: string, customerHash: string, now = Date.now()): { deleted: number; erasureId: string } {
    const stmts = this.stmts();
    const erasureId = randomUUID();
    const deleted = this.transaction(() => {
      const { changes } = stmts.eraseChanges.run(customerToken);
      stmts.insertErasure.run(erasureId, customerHash, now);
      return changes;
    });
    return { deleted, erasureId };
  }
}
