/**
 * Opens one of the gateway's SQLite files in its state dir, all alike: the broker state, the message
 * index, and the files that hold customers' personal data (identity vault, consent registry, CRM
 * outbox). An exclusive lock for as long as the gateway runs (EXCLUSIVE before WAL: the WAL index
 * lives in process memory, and the lock taken by the BEGIN IMMEDIATE below is held until close, so a
 * second gateway on the same state dir fails with SQLITE_BUSY instead of sharing the file), WAL with
 * synchronous=FULL (a change that returned survives a crash and a power cut), and a schema versioned
 * with PRAGMA user_version: `migrations[v]` takes the file from version v to v + 1, in one
 * transaction; a newer file is refused. `secureDelete` (the personal-data files): an erased row is
 * overwritten, not left in free pages.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';

import Database from 'better-sqlite3';

/** How the caller names its error: the store's own error class. */
export type OpenError = (message: string, context: Record<string, unknown>, cause?: unknown) => Error;

export function openStateSqlite(
  file: string,
  what: string,
  migrations: readonly string[],
  error: OpenError,
  options: { secureDelete?: boolean } = {},
): Database.Database {
  let db: Database.Database | undefined;
  let refused: Error | undefined;
  try {
    mkdirSync(dirname(file), { recursive: true });
    db = new Database(file, { timeout: 0 });
    db.pragma('locking_mode = EXCLUSIVE');
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    if (options.secureDelete === true) db.pragma('secure_delete = ON');
    const opened = db;
    opened
      .transaction(() => {
        const version = opened.pragma('user_version', { simple: true }) as number;
        if (version > migrations.length) {
          refused = error(`${what} ${file} has schema version ${version}; this gateway reads ${migrations.length}`, {
            file,
            version,
            supported: migrations.length,
          });
          throw refused;
        }
        for (let v = version; v < migrations.length; v += 1) opened.exec(migrations[v] as string);
        if (version < migrations.length) opened.pragma(`user_version = ${migrations.length}`);
      })
      .immediate();
    return opened;
  } catch (err) {
    db?.close();
    if (err === refused) throw err;
    const code = (err as { code?: string }).code;
    const hint =
      code === 'SQLITE_BUSY'
        ? ' (in use: is another gateway running with the same state.dir?)'
        : code === 'SQLITE_NOTADB' || code === 'SQLITE_CORRUPT'
          ? ' (not a readable SQLite file: move it away to start afresh)'
          : '';
    throw error(`cannot open ${what} ${file}${hint}`, { file, sqliteCode: code }, err);
  }
}

/**
 * A personal-data store on one of those files (`secure_delete` on): opens it with its migrations, prepares its statements once, and
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
    const db = openStateSqlite(this.file, this.what, this.migrations, this.error, { secureDelete: true });
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
