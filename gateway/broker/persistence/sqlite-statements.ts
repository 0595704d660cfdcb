/**
 * Every SQL statement of the SQLite broker persistence (sqlite-persistence.ts), prepared once per
 * open database: the tables are those of state-database.ts.
 */
import type { StateDatabase } from './state-database.js';

export type Statements = ReturnType<typeof prepareStatements>;

export function prepareStatements(db: StateDatabase) {
  return {
    upsertRetained: db.prepare<[string, Buffer]>(
      'INSERT INTO retained (topic, packet) VALUES (?, ?) ON CONFLICT (topic) DO UPDATE SET packet = excluded.packet',
    ),
    deleteRetained: db.prepare<[string]>('DELETE FROM retained WHERE topic = ?'),
    allRetained: db.prepare<[], { packet: Buffer }>('SELECT packet FROM retained ORDER BY rowid'),
    upsertSubscription: db.prepare<[string, string, number, Buffer]>(
      'INSERT INTO subscriptions (client_id, topic, qos, options) VALUES (?, ?, ?, ?) ON CONFLICT (client_id, topic) DO UPDATE SET qos = excluded.qos, options = excluded.options',
    ),
    deleteSubscription: db.prepare<[string, string]>('DELETE FROM subscriptions WHERE client_id = ? AND topic = ?'),
    deleteClientSubscriptions: db.prepare<[string]>('DELETE FROM subscriptions WHERE client_id = ?'),
    allSubscriptions: db.prepare<[], { client_id: string; topic: string; options: Buffer }>(
      'SELECT client_id, topic, options FROM subscriptions ORDER BY rowid',
    ),
    insertOutgoing: db.prepare<[string, string | null, number | null, number | null, Buffer]>(
      'INSERT INTO outgoing (client_id, broker_id, broker_counter, message_id, packet) VALUES (?, ?, ?, ?, ?)',
    ),
    // asyncPersistence.outgoingUpdate's loop as one query: the first queued packet that is either the
    // same packet (same broker, same counter) or, from another broker, holds the same messageId
    findOutgoingForUpdate: db.prepare<
      [string, string | null, number | null, string | null, number | null],
      { seq: number; broker_id: string | null; packet: Buffer }
    >(
      `SELECT seq, broker_id, packet FROM outgoing
        WHERE client_id = ? AND ((broker_id IS ? AND broker_counter IS ?) OR (broker_id IS NOT ? AND message_id IS ?))
        ORDER BY seq LIMIT 1`,
    ),
    replaceOutgoing: db.prepare<[string | null, number | null, number | null, Buffer, number]>(
      'UPDATE outgoing SET broker_id = ?, broker_counter = ?, message_id = ?, packet = ? WHERE seq = ?',
    ),
    findOutgoingByMessageId: db.prepare<[string, number | null], { seq: number; packet: Buffer }>(
      'SELECT seq, packet FROM outgoing WHERE client_id = ? AND message_id IS ? ORDER BY seq LIMIT 1',
    ),
    deleteOutgoing: db.prepare<[number]>('DELETE FROM outgoing WHERE seq = ?'),
    queuedByClient: db.prepare<[], { client_id: string; queued: number }>('SELECT client_id, COUNT(*) AS queued FROM outgoing GROUP BY client_id'),
    lastOutgoingSeq: db.prepare<[string], { seq: number | null }>('SELECT MAX(seq) AS seq FROM outgoing WHERE client_id = ?'),
    outgoingPage: db.prepare<[string, number, number, number], { seq: number; packet: Buffer }>(
      'SELECT seq, packet FROM outgoing WHERE client_id = ? AND seq > ? AND seq <= ? ORDER BY seq LIMIT ?',
    ),
    upsertIncoming: db.prepare<[string, number, Buffer]>(
      'INSERT INTO incoming (client_id, message_id, packet) VALUES (?, ?, ?) ON CONFLICT (client_id, message_id) DO UPDATE SET packet = excluded.packet',
    ),
    getIncoming: db.prepare<[string, number], { packet: Buffer }>('SELECT packet FROM incoming WHERE client_id = ? AND message_id = ?'),
    deleteIncoming: db.prepare<[string, number]>('DELETE FROM incoming WHERE client_id = ? AND message_id = ?'),
    deleteClientIncoming: db.prepare<[string]>('DELETE FROM incoming WHERE client_id = ?'),
    upsertWill: db.prepare<[string, string | null, Buffer]>(
      'INSERT INTO wills (client_id, broker_id, packet) VALUES (?, ?, ?) ON CONFLICT (client_id) DO UPDATE SET broker_id = excluded.broker_id, packet = excluded.packet',
    ),
    getWill: db.prepare<[string], { packet: Buffer }>('SELECT packet FROM wills WHERE client_id = ?'),
    deleteWill: db.prepare<[string]>('DELETE FROM wills WHERE client_id = ?'),
    allWills: db.prepare<[], { broker_id: string | null; packet: Buffer }>('SELECT broker_id, packet FROM wills ORDER BY rowid'),
    upsertSession: db.prepare<[string, number]>(
      'INSERT INTO sessions (client_id, last_seen_ms) VALUES (?, ?) ON CONFLICT (client_id) DO UPDATE SET last_seen_ms = excluded.last_seen_ms',
    ),
    deleteSession: db.prepare<[string]>('DELETE FROM sessions WHERE client_id = ?'),
    deleteClientOutgoing: db.prepare<[string]>('DELETE FROM outgoing WHERE client_id = ?'),
    // sessions with a record, and any client id holding subscriptions or a queue without one (seen at ?)
    allSessions: db.prepare<[number], { client_id: string; last_seen_ms: number }>(
      `SELECT ids.client_id AS client_id, COALESCE(sessions.last_seen_ms, ?) AS last_seen_ms
         FROM (SELECT client_id FROM sessions UNION SELECT client_id FROM subscriptions UNION SELECT client_id FROM outgoing) AS ids
         LEFT JOIN sessions USING (client_id)`,
    ),
    counts: db.prepare<[], Record<'sessions' | 'subscriptions' | 'retained' | 'queued' | 'incoming' | 'wills', number>>(
      `SELECT (SELECT COUNT(*) FROM sessions) AS sessions, (SELECT COUNT(*) FROM subscriptions) AS subscriptions,
              (SELECT COUNT(*) FROM retained) AS retained, (SELECT COUNT(*) FROM outgoing) AS queued,
              (SELECT COUNT(*) FROM incoming) AS incoming, (SELECT COUNT(*) FROM wills) AS wills`,
    ),
  };
}
