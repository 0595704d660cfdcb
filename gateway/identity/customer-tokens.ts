/**
 * The identity vault: the only place that holds CRM customer ids. A touchpoint message that names a
 * customer enters the event log with an opaque token instead (random 128 bits, one per customer, so
 * the consent store and the CRM sink can link records of one customer); the vault resolves it.
 * Erasing a customer deletes the row: every token in the log then resolves to nothing, so erasure
 * never has to rewrite the log.
 *
 * `<state.dir>/identity.sqlite`, synchronous=FULL: a token is durable before the log record that
 * carries it is acknowledged.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';

import Database from 'better-sqlite3';

import { StoreloopError } from '../../lib/errors.js';

const SCHEMA = `
  CREATE TABLE customer_tokens (
    token TEXT PRIMARY KEY,
    customer TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL
  );
`;

export class IdentityVaultError extends StoreloopError {
  constructor(message: string, context: Record<string, unknown>, cause?: unknown) {
    super('SL_ERR_IDENTITY_VAULT', message, context, { cause });
  }
}

export class CustomerTokenVault {
  private db: Database.Database | undefined;
  private statements: { byCustomer: Database.Statement; byToken: Database.Statement; insert: Database.Statement; erase: Database.Statement } | undefined;

  constructor(private readonly file: string) {}

  open(): void {
    try {
      mkdirSync(dirname(this.file), { recursive: true });
      const db = new Database(this.file, { timeout: 0 });
      db.pragma('locking_mode = EXCLUSIVE');
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = FULL');
      // an erased customer's row is overwritten, not left in free pages
      db.pragma('secure_delete = ON');
      if ((db.pragma('user_version', { simple: true }) as number) === 0) {
        db.exec(SCHEMA);
        db.pragma('user_version = 1');
      }
      this.statements = {
        byCustomer: db.prepare('SELECT token FROM customer_tokens WHERE customer = ?').pluck(),
        byToken: db.prepare('SELECT customer FROM customer_tokens WHERE token = ?').pluck(),
        insert: db.prepare('INSERT INTO customer_tokens (token, customer, created_at) VALUES (?, ?, ?)'),
        erase: db.prepare('DELETE FROM customer_tokens WHERE customer = ?'),
      };
      this.db = db;
    } catch (err) {
      const code = (err as { code?: string }).code;
      throw new IdentityVaultError(
        `cannot open the identity vault ${this.file}${code === 'SQLITE_BUSY' ? ' (in use: is another gateway running with the same state.dir?)' : ''}`,
        { file: this.file, sqliteCode: code },
        err,
      );
    }
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

  /** Erases the customer's link: their tokens resolve to nothing from now on. True if one existed. */
  erase(customer: string): boolean {
    return this.stmts().erase.run(customer).changes > 0;
  }

  close(): void {
    this.db?.close();
    this.db = undefined;
    this.statements = undefined;
  }

  private stmts() {
    if (!this.statements) throw new IdentityVaultError('the identity vault is not open', { file: this.file });
    return this.statements;
  }
}
