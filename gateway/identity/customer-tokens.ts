/**
 * The identity vault: the only place that holds CRM customer ids. A touchpoint message that names a
 * customer enters the event log with an opaque token instead (random 128 bits, one per customer, so
 * the consent store and the CRM sink can link records of one customer); the vault resolves it.
 * It also holds the identity links customers make (a beacon id linked to their token for a time).
 * Erasing a customer deletes their row and links: every token in the log then resolves to nothing,
 * so erasure never has to rewrite the log.
 *
 * `<state.dir>/identity.sqlite` (state-sqlite.ts: synchronous=FULL, secure_delete): a token is
 * durable before the log record that carries it is acknowledged.
 */
import { randomBytes } from 'node:crypto';

import type Database from 'better-sqlite3';

import { StoreloopError } from '../../lib/errors.js';
import { PersonalDataStore } from '../state-sqlite.js';

const SCHEMA = `
  CREATE TABLE customer_tokens (
    token TEXT PRIMARY KEY,
    customer TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL
  );
`;
/** Version 2: identity links, a pseudonym linked to a customer's token by the customer's own action, for a time. */
const LINKS_SCHEMA = `
  CREATE TABLE identity_links (
    pseudonym TEXT NOT NULL,
    token TEXT NOT NULL,
    valid_from INTEGER NOT NULL,
    valid_until INTEGER NOT NULL,
    origin TEXT NOT NULL,
    PRIMARY KEY (pseudonym, valid_from, token)
  );
  CREATE INDEX identity_links_by_token ON identity_links (token);
`;

export class IdentityVaultError extends StoreloopError {
  constructor(message: string, context: Record<string, unknown>, cause?: unknown) {
    super('SL_ERR_IDENTITY_VAULT', message, context, { cause });
  }
}

type VaultStatements = Record<'byCustomer' | 'byToken' | 'insert' | 'erase' | 'link' | 'linkAt' | 'linksOf' | 'endLinks' | 'eraseLinks', Database.Statement>;

export class CustomerTokenVault extends PersonalDataStore<VaultStatements> {
  constructor(file: string) {
    super(file, 'identity vault', [SCHEMA, LINKS_SCHEMA], (message, context, cause) => new IdentityVaultError(message, context, cause));
  }

  protected prepare(db: Database.Database): VaultStatements {
    return {
      byCustomer: db.prepare('SELECT token FROM customer_tokens WHERE customer = ?').pluck(),
      byToken: db.prepare('SELECT customer FROM customer_tokens WHERE token = ?').pluck(),
      insert: db.prepare('INSERT INTO customer_tokens (token, customer, created_at) VALUES (?, ?, ?)'),
      erase: db.prepare('DELETE FROM customer_tokens WHERE customer = ?'),
      link: db.prepare('INSERT OR IGNORE INTO identity_links (pseudonym, token, valid_from, valid_until, origin) VALUES (?, ?, ?, ?, ?)'),
      // of the links valid at a time, the one made last: a customer who identifies with a phone takes it over
      linkAt: db
        .prepare('SELECT token FROM identity_links WHERE pseudonym = ? AND valid_from <= ? AND valid_until > ? ORDER BY valid_from DESC LIMIT 1')
        .pluck(),
      linksOf: db.prepare('SELECT pseudonym, valid_from, valid_until, origin FROM identity_links WHERE token = ? ORDER BY valid_from'),
      // a link not yet begun at that time ends where it begins: it never applied
      endLinks: db.prepare('UPDATE identity_links SET valid_until = MAX(valid_from, ?) WHERE pseudonym = ? AND token = ? AND valid_until > ?'),
      eraseLinks: db.prepare('DELETE FROM identity_links WHERE token = ?'),
    };
  }

  /** The customer's token, created (durably) on first use. */
  tokenFor(customer: string): string {
    const stmts = this.stmts();
    const existing = stmts.byCustomer.get(customer) as string | undefined;
    if (existing !== undefined) return existing;
    const token = `ct_${randomBytes(16).toString('base64url')}`;
    stmts.insert.run(token, customer, Date.now());
    return token;
  }

  /** The customer's token if they have one, without making one. */
  existingToken(customer: string): string | undefined {
    return this.stmts().byCustomer.get(customer) as string | undefined;
  }

  /** The customer a token stands for, or undefined when unknown or erased. */
  resolve(token: string): string | undefined {
    return this.stmts().byToken.get(token) as string | undefined;
  }

  /**
   * Links a pseudonym (the app's beacon id, a touchpoint's visitor pseudonym) to a customer's token from
   * `from` for `validMs`: made only from a customer's own action (identifying at a touchpoint). The same
   * link made again is recorded once.
   */
  link(pseudonym: string, token: string, from: number, validMs: number, origin: string): void {
    this.stmts().link.run(pseudonym, token, from, from + validMs, origin);
  }

  /** The token a pseudonym was linked to at `at`, or undefined. */
  tokenLinkedAt(pseudonym: string, at: number): string | undefined {
    return this.stmts().linkAt.get(pseudonym, at, at) as string | undefined;
  }

  /** The links a customer's token holds. */
  linksOf(token: string): Array<{ pseudonym: string; validFrom: number; validUntil: number; origin: string }> {
    return (this.stmts().linksOf.all(token) as Array<{ pseudonym: string; valid_from: number; valid_until: number; origin: string }>).map((r) => ({
      pseudonym: r.pseudonym,
      validFrom: r.valid_from,
      validUntil: r.valid_until,
      origin: r.origin,
    }));
  }

  /** Ends every link of `pseudonym` to the token at `at` (the customer unlinked it); events after `at` no longer resolve through it. Returns how many ended. */
  endLinks(pseudonym: string, token: string, at: number): number {
    return this.stmts().endLinks.run(at, pseudonym, token, at).changes;
  }

  /** Erases the customer: their token row and every identity link; their tokens resolve to nothing from now on. True if they were known. */
  erase(customer: string): boolean {
    const stmts = this.stmts();
    const token = stmts.byCustomer.get(customer) as string | undefined;
    if (token === undefined) return false;
    this.transaction(() => {
      stmts.eraseLinks.run(token);
      stmts.erase.run(customer);
    });
    return true;
  }
}
