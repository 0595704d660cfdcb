/**
 * The CRM outbox: the events each destination still has to deliver, durable before the destination's
 * sink moves its checkpoint past them (`<state.dir>/crm-outbox.sqlite`, synchronous=FULL,
 * `secure_delete` on). An event is in it once per destination (its id is the idempotency key), is
 * deleted once delivered, and set aside as a dead letter with the reason when the destination refuses
 * it for good. A withdrawal or an erasure deletes the customer's pending events at once.
 *
 * It holds the customer's opaque token, never their CRM id: the id is resolved when the event is sent.
 */

import type Database from 'better-sqlite3';

import { StoreloopError } from '../../lib/errors.js';
import { PersonalDataStore } from '../state-sqlite.js';

export interface OutboxEvent {
  /** The event's stable id: the `webhook-id` (idempotency key) of every attempt. */
  id: string;
  destination: string;
  customerToken: string;
  /** When it happened, epoch ms (the consent is checked at this time). */
  eventTime: number;
  /** `visit`, `interaction`, `feedback`. */
  type: string;
  /** The event's data, without the customer id. */
  data: Record<string, unknown>;
}

export interface PendingEvent extends OutboxEvent {
  seq: number;
  attempts: number;
  nextAttemptAt: number;
  lastError: string | null;
}

export interface DeadLetter extends PendingEvent {
  deadAt: number;
}

export class CrmOutboxError extends StoreloopError {
  constructor(message: string, context: Record<string, unknown>, cause?: unknown) {
    super('SL_ERR_CRM_OUTBOX', message, context, { cause });
  }
}

const SCHEMA = `
  CREATE TABLE outbox (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    destination TEXT NOT NULL,
    id TEXT NOT NULL,
    customer_token TEXT NOT NULL,
    event_time INTEGER NOT NULL,
    type TEXT NOT NULL,
    data TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    last_error TEXT,
    dead_at INTEGER,
    UNIQUE (destination, id)
  );
  CREATE INDEX outbox_due ON outbox (destination, dead_at, seq);
  CREATE INDEX outbox_by_customer ON outbox (customer_token);
`;

interface Row {
  seq: number;
  destination: string;
  id: string;
  customer_token: string;
  event_time: number;
  type: string;
  data: string;
  attempts: number;
  next_attempt_at: number;
  last_error: string | null;
  dead_at: number | null;
}

function fromRow(row: Row): DeadLetter {
  return {
    seq: row.seq,
    id: row.id,
    destination: row.destination,
    customerToken: row.customer_token,
    eventTime: row.event_time,
    type: row.type,
    data: JSON.parse(row.data) as Record<string, unknown>,
    attempts: row.attempts,
    nextAttemptAt: row.next_attempt_at,
    lastError: row.last_error,
    deadAt: row.dead_at ?? 0,
  };
}

type Statements = Record<
  'insert' | 'pending' | 'dead' | 'deliveredOne' | 'failed' | 'kill' | 'revive' | 'reviveAll' | 'dropCustomer' | 'customerCounts' | 'dropOne' | 'counts',
  Database.Statement
>;

export class CrmOutbox extends PersonalDataStore<Statements> {
  constructor(file: string) {
    super(file, 'CRM outbox', [SCHEMA], (message, context, cause) => new CrmOutboxError(message, context, cause));
  }

  protected prepare(db: Database.Database): Statements {
    const all = 'seq, destination, id, customer_token, event_time, type, data, attempts, next_attempt_at, last_error, dead_at';
    return {
      insert: db.prepare(
        'INSERT OR IGNORE INTO outbox (destination, id, customer_token, event_time, type, data, next_attempt_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
      ),
      pending: db.prepare(`SELECT ${all} FROM outbox WHERE destination = ? AND dead_at IS NULL ORDER BY seq LIMIT ?`),
      dead: db.prepare(`SELECT ${all} FROM outbox WHERE destination = ? AND dead_at IS NOT NULL ORDER BY seq LIMIT ?`),
      deliveredOne: db.prepare('DELETE FROM outbox WHERE seq = ?'),
      failed: db.prepare('UPDATE outbox SET attempts = attempts + 1, next_attempt_at = ?, last_error = ? WHERE seq = ?'),
      kill: db.prepare('UPDATE outbox SET attempts = attempts + 1, last_error = ?, dead_at = ? WHERE seq = ?'),
      revive: db.prepare('UPDATE outbox SET dead_at = NULL, attempts = 0, next_attempt_at = ? WHERE destination = ? AND id = ? AND dead_at IS NOT NULL'),
      reviveAll: db.prepare('UPDATE outbox SET dead_at = NULL, attempts = 0, next_attempt_at = ? WHERE destination = ? AND dead_at IS NOT NULL'),
      dropCustomer: db.prepare('DELETE FROM outbox WHERE customer_token = ?'),
      customerCounts: db.prepare('SELECT destination, COUNT(*) AS n FROM outbox WHERE customer_token = ? GROUP BY destination'),
      dropOne: db.prepare('DELETE FROM outbox WHERE seq = ?'),
      counts: db.prepare(
        'SELECT SUM(dead_at IS NULL) AS pending, SUM(dead_at IS NOT NULL) AS dead, MIN(CASE WHEN dead_at IS NULL THEN event_time END) AS oldest FROM outbox WHERE destination = ?',
      ),
    };
  }

  /** Adds events (one transaction, durable on return); an event already there for its destination is not added again. Returns how many were new. */
  add(events: readonly OutboxEvent[], now = Date.now()): number {
    const stmts = this.stmts();
    return this.transaction(() => {
      let added = 0;
      for (const e of events) added += stmts.insert.run(e.destination, e.id, e.customerToken, e.eventTime, e.type, JSON.stringify(e.data), now).changes;
      return added;
    });
  }

  /** The destination's pending events, oldest first (due or not: the delivery loop keeps each customer's order). */
  pending(destination: string, limit: number): PendingEvent[] {
    return (this.stmts().pending.all(destination, limit) as Row[]).map(fromRow);
  }

  deadLetters(destination: string, limit: number): DeadLetter[] {
    return (this.stmts().dead.all(destination, limit) as Row[]).map(fromRow);
  }

  delivered(seq: number): void {
    this.stmts().deliveredOne.run(seq);
  }

  /** An attempt failed: try again at `nextAttemptAt`. */
  retryLater(seq: number, nextAttemptAt: number, error: string): void {
    this.stmts().failed.run(nextAttemptAt, error, seq);
  }

  /** The destination refused it for good, or it ran out of attempts: a dead letter with the reason. */
  deadLetter(seq: number, error: string, now = Date.now()): void {
    this.stmts().kill.run(error, now, seq);
  }

  /** Dead letters back to pending (all of the destination's, or one id); returns how many. */
  replay(destination: string, id?: string, now = Date.now()): number {
    const stmts = this.stmts();
    return id === undefined ? stmts.reviveAll.run(now, destination).changes : stmts.revive.run(now, destination, id).changes;
  }

  /** Deletes one event without delivering it (its customer no longer consents, or was erased). */
  drop(seq: number): void {
    this.stmts().dropOne.run(seq);
  }

  /** Deletes every event of a customer, pending and dead, of every destination; returns how many per destination. */
  dropCustomer(customerToken: string): Map<string, number> {
    const stmts = this.stmts();
    return this.transaction(() => {
      const counts = stmts.customerCounts.all(customerToken) as Array<{ destination: string; n: number }>;
      stmts.dropCustomer.run(customerToken);
      return new Map(counts.map((c) => [c.destination, c.n]));
    });
  }

  counts(destination: string): { pending: number; dead: number; oldestPendingEventTime: number | null } {
    const row = this.stmts().counts.get(destination) as { pending: number | null; dead: number | null; oldest: number | null };
    return { pending: row.pending ?? 0, dead: row.dead ?? 0, oldestPendingEventTime: row.oldest };
  }
}
