/**
 * Opens the broker's SQLite state file: WAL journal, synchronous=FULL, an exclusive lock held for as
 * long as the gateway runs, and the schema (versioned with PRAGMA user_version), as every state file
 * (gateway/state-sqlite.ts).
 *
 * Durability: synchronous=FULL fsyncs the WAL at every commit, so a state change that returned has
 * survived a process crash (SIGKILL) and also a power cut or kernel panic, which is how an in-store box
 * usually goes down. NORMAL would survive the process crash too but could lose the commits since the
 * last checkpoint on power loss (a retained `offline` status, a new session, queued messages). The cost
 * is one fsync per commit (about 0.2 ms on the development VM, more on eMMC), paid only when session
 * state changes: subscribe, retained publish, will, and QoS > 0 traffic to persistent subscribers.
 * Multi-row changes (a publish queued for several offline sessions) are one transaction, one fsync.
 */
import type Database from 'better-sqlite3';

import { openStateSqlite } from '../../state-sqlite.js';

import { BrokerStateOpenError } from './broker-state-errors.js';

export type StateDatabase = Database.Database;

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

/** Opens (creating when missing) the state file and takes its lock (gateway/state-sqlite.ts); throws BrokerStateOpenError. */
export function openStateDatabase(file: string): StateDatabase {
  return openStateSqlite(file, 'broker state', [SCHEMA_V1, SCHEMA_V2], (message, context, cause) => new BrokerStateOpenError(message, { cause, context }));
}
