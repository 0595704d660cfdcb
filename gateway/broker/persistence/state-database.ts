/**
 * Opens the broker's SQLite state file: WAL journal, synchronous=FULL, an exclusive lock held for as
 * long as the gateway runs, and the schema (versioned with PRAGMA user_version).
 *
 * Durability: synchronous=FULL fsyncs the WAL at every commit, so a state change that returned has
 * survived a process crash (SIGKILL) and also a power cut or kernel panic, which is how an in-store box
 * usually goes down. NORMAL would survive the process crash too but could lose the commits since the
 * last checkpoint on power loss (a retained `offline` status, a new session, queued messages). The cost
 * is one fsync per commit (about 0.2 ms on the development VM, more on eMMC), paid only when session
 * state changes: subscribe, retained publish, will, and QoS > 0 traffic to persistent subscribers.
 * Multi-row changes (a publish queued for several offline sessions) are one transaction, one fsync.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';

import Database from 'better-sqlite3';

import { BrokerStateOpenError } from './broker-state-errors.js';

export type StateDatabase = Database.Database;

/** The schema version this code writes; a file with a higher one was written by a newer storeloop. */
export const STATE_SCHEMA_VERSION = 2;

const SCHEMA_V1 = `
  -- retained messages, one per topic (an empty payload deletes)
  CREATE TABLE retained (topic TEXT PRIMARY KEY, packet BLOB NOT NULL);
  -- subscriptions of persistent sessions (clean = false); qos is a copy for whoever reads the file
  CREATE TABLE subscriptions (
    client_id TEXT NOT NULL, topic TEXT NOT NULL, qos INTEGER NOT NULL, options BLOB NOT NULL,
    PRIMARY KEY (client_id, topic)
  );
  -- QoS > 0 deliveries queued for persistent sessions, in delivery order (seq)
  CREATE TABLE outgoing (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, client_id TEXT NOT NULL,
    broker_id TEXT, broker_counter INTEGER, message_id INTEGER, packet BLOB NOT NULL
  );
  CREATE INDEX outgoing_by_client ON outgoing (client_id, seq);
  -- QoS 2 publishes received and not yet released (PUBREL)
  CREATE TABLE incoming (client_id TEXT NOT NULL, message_id INTEGER NOT NULL, packet BLOB NOT NULL, PRIMARY KEY (client_id, message_id));
  -- last wills of connected clients, with the id of the broker instance that holds the connection
  CREATE TABLE wills (client_id TEXT PRIMARY KEY, broker_id TEXT, packet BLOB NOT NULL);
`;

// v2: when the client of each persistent session was last seen, for expiry; sessions a v1 file already
// holds (client ids with subscriptions or queued packets) count as seen when the file is upgraded
const SCHEMA_V2 = `
  CREATE TABLE sessions (client_id TEXT PRIMARY KEY, last_seen_ms INTEGER NOT NULL);
  INSERT INTO sessions (client_id, last_seen_ms)
    SELECT client_id, CAST(unixepoch('subsec') * 1000 AS INTEGER) FROM (SELECT client_id FROM subscriptions UNION SELECT client_id FROM outgoing);
`;

/** Opens (creating when missing) the state file and takes its lock; throws BrokerStateOpenError. */
export function openStateDatabase(file: string): StateDatabase {
  let db: StateDatabase | undefined;
  try {
    mkdirSync(dirname(file), { recursive: true });
    db = new Database(file, { timeout: 0 });
    // EXCLUSIVE before WAL: the WAL index lives in process memory, and the file lock taken by the first
    // access (at the latest the BEGIN IMMEDIATE in migrate()) is held until close, so a second gateway on
    // the same state.dir fails here (SQLITE_BUSY) instead of sharing sessions it does not know about.
    // The OS drops the lock when the process dies.
    db.pragma('locking_mode = EXCLUSIVE');
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    migrate(db, file);
    return db;
  } catch (err) {
    db?.close();
    if (err instanceof BrokerStateOpenError) throw err;
    const code = (err as { code?: string }).code;
    const hint =
      code === 'SQLITE_BUSY'
        ? ' (in use by another process: is another gateway running with the same state.dir?)'
        : code === 'SQLITE_NOTADB' || code === 'SQLITE_CORRUPT'
          ? ' (not a readable SQLite file: move it away to start with empty broker state)'
          : '';
    throw new BrokerStateOpenError(`cannot open broker state ${file}${hint}`, { cause: err, context: { file, sqliteCode: code } });
  }
}

function migrate(db: StateDatabase, file: string): void {
  db.transaction(() => {
    const version = db.pragma('user_version', { simple: true }) as number;
    if (version === STATE_SCHEMA_VERSION) return;
    if (version > STATE_SCHEMA_VERSION) {
      throw new BrokerStateOpenError(`broker state ${file} has schema version ${version}; this storeloop reads up to ${STATE_SCHEMA_VERSION}`, {
        context: { file, version, supported: STATE_SCHEMA_VERSION },
      });
    }
    if (version < 1) db.exec(SCHEMA_V1);
    if (version < 2) db.exec(SCHEMA_V2);
    db.pragma(`user_version = ${STATE_SCHEMA_VERSION}`);
  }).immediate();
}
