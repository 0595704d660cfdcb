/**
 * Opens one of the SQLite files that hold customers' personal data in the state dir: the identity
 * vault, the consent registry, the CRM outbox. All three are opened alike: an exclusive lock for as
 * long as the gateway runs (a second gateway on the same state dir fails with SQLITE_BUSY instead of
 * sharing them), WAL with synchronous=FULL (a change that returned survives a crash and a power cut),
 * `secure_delete` (an erased row is overwritten, not left in free pages), and a schema versioned with
 * PRAGMA user_version: `migrations[v]` takes the file from version v to v + 1, in one transaction.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';

import Database from 'better-sqlite3';

/** How the caller names its error: the store's own error class. */
export type OpenError = (message: string, context: Record<string, unknown>, cause?: unknown) => Error;

export function openPersonalDataDb(file: string, what: string, migrations: readonly string[], error: OpenError): Database.Database {
  let db: Database.Database | undefined;
  let refused: Error | undefined;
  try {
    mkdirSync(dirname(file), { recursive: true });
    db = new Database(file, { timeout: 0 });
    db.pragma('locking_mode = EXCLUSIVE');
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    db.pragma('secure_delete = ON');
    const opened = db;
    opened.transaction(() => {
      const version = opened.pragma('user_version', { simple: true }) as number;
      if (version > migrations.length) {
        refused = error(`the ${what} ${file} has schema version ${version}; this storeloop reads up to ${migrations.length}`, { file, version });
        throw refused;
      }
      for (let v = version; v < migrations.length; v += 1) opened.exec(migrations[v] as string);
      if (version < migrations.length) opened.pragma(`user_version = ${migrations.length}`);
    })();
    return opened;
  } catch (err) {
    db?.close();
    if (err === refused) throw err;
    const code = (err as { code?: string }).code;
    const hint = code === 'SQLITE_BUSY' ? ' (in use: is another gateway running with the same state.dir?)' : '';
    throw error(`cannot open the ${what} ${file}${hint}`, { file, sqliteCode: code }, err);
  }
}

/**
 * A store on one of those files: opens it with its migrations, prepares its statements once, and
 * gives them back only while open; `checkpoint` empties the write-ahead log (after an erasure, so no
 * copy of a deleted row stays in the -wal file).
 */
export abstract class PersonalDataStore<S> {
  private db: Database.Database | undefined;
  private statements: S | undefined;

  protected constructor(
    protected readonly file: string,
    private readonly what: string,
    private readonly migrations: readonly string[],
    private readonly error: OpenError,
  ) {}

  open(): void {
    const db = openPersonalDataDb(this.file, this.what, this.migrations, this.error);
    this.statements = this.prepare(db);
    this.db = db;
  }

  /** Moves the write-ahead log into the database and empties it. */
  checkpoint(): void {
    this.db?.pragma('wal_checkpoint(TRUNCATE)');
  }

  close(): void {
    this.db?.close();
    this.db = undefined;
    this.statements = undefined;
  }

  protected abstract prepare(db: Database.Database): S;

  protected stmts(): S {
    if (this.statements === undefined) throw this.error(`the ${this.what} is not open`, { file: this.file });
    return this.statements;
  }

  /** Runs `work` in one transaction (one fsync). */
  protected transaction<T>(work: () => T): T {
    if (this.db === undefined) throw this.error(`the ${this.what} is not open`, { file: this.file });
    return this.db.transaction(work)();
  }
}
