/**
 * The message index: what the gateway must remember about accepted messages across restarts.
 * - `mid`s, for `ingest.dedupWindowSeconds` of receive time: a resend of an accepted message
 *   (after a lost PUBACK, a gateway crash, an edge replay) is recognised and not logged again.
 * - event slot state per source (gateway/log/event-slots.ts), so two distinct messages never get
 *   the same slot, across restarts too.
 *
 * It lives in `<state.dir>/message-index.sqlite` and is derived from the event log: it is fed with
 * every record once its append is durable, persists in batches (`flush`, one transaction with the
 * log seq it covers, synchronous=FULL), and at start takes in the log records after that seq, so it
 * is exactly as durable as the log. The log keeps records until the index has persisted them.
 *
 * Lookups check the appends still in flight (a resend that arrives before the first copy is durable
 * waits for it), then the records not yet flushed, then the database.
 */
import type Database from 'better-sqlite3';

import { StoreloopError } from '../../lib/errors.js';
import type { Logger } from '../../lib/logger.js';
import { openStateSqlite } from '../state-sqlite.js';
import { EventSlotAllocator, slotSeriesKey, type EventSlot, type SlotState } from './event-slots.js';
import { itemCount, type LogEntry } from './log-record.js';

/** Mids forgotten per prune call at most. */
export const PRUNE_CHUNK = 5_000;
const SCHEMA = `
  CREATE TABLE meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
  CREATE TABLE mids (key TEXT PRIMARY KEY, seq INTEGER NOT NULL, received_at INTEGER NOT NULL) WITHOUT ROWID;
  CREATE INDEX mids_by_time ON mids (received_at);
  CREATE TABLE slots (series TEXT PRIMARY KEY, ms INTEGER NOT NULL, next INTEGER NOT NULL, late INTEGER NOT NULL) WITHOUT ROWID;
`;

export class MessageIndexError extends StoreloopError {
  constructor(message: string, context: Record<string, unknown>, cause?: unknown) {
    super('SL_ERR_MESSAGE_INDEX', message, context, { cause });
  }
}

export interface MessageIndexOptions {
  file: string;
  /** How long (receive time) a mid is remembered. */
  dedupWindowMs: number;
  log: Logger;
  now?: () => number;
}

/**
 * The key of one message id: unique per store, kind, source and publishing identity, so that one
 * identity cannot make another's next message a "duplicate" by sending its mid first.
 */
export function midKey(store: string, kind: string, source: string, mid: string, publisher?: string): string {
  const key = `${store}\u0000${kind}\u0000${source}\u0000${mid}`;
  return publisher === undefined ? key : `${key}\u0000${publisher}`;
}

export class MessageIndex {
  private db: Database.Database | undefined;
  private readonly slots = new EventSlotAllocator();
  /** Appends in flight: a resend waits for the first copy's seq. */
  private readonly inFlight = new Map<string, Promise<number>>();
  /** Durable records not flushed yet. */
  private unflushed: Array<{ key: string; seq: number; receivedAt: number }> = [];
  private readonly unflushedKeys = new Map<string, number>();
  private coveredSeq = 0;
  private flushedSeq = 0;
  private statements:
    | { find: Database.Statement; insertMid: Database.Statement; upsertSlot: Database.Statement; setMeta: Database.Statement; prune: Database.Statement }
    | undefined;
  private readonly now: () => number;

  constructor(private readonly options: MessageIndexOptions) {
    this.now = options.now ?? Date.now;
  }

  /** Opens (creating) the database, takes its lock and loads the slot state; returns the seq it covers. */
  open(): number {
    const { file } = this.options;
    const db = openStateSqlite(file, 'message index', [SCHEMA], (message, context, cause) => new MessageIndexError(message, context, cause));
    this.db = db;
    this.statements = {
      find: db.prepare('SELECT seq FROM mids WHERE key = ? AND received_at >= ?').pluck(),
      insertMid: db.prepare('INSERT OR REPLACE INTO mids (key, seq, received_at) VALUES (?, ?, ?)'),
      upsertSlot: db.prepare('INSERT OR REPLACE INTO slots (series, ms, next, late) VALUES (?, ?, ?, ?)'),
      setMeta: db.prepare('INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)'),
      // in chunks, so one call never holds the event loop for long
      prune: db.prepare('DELETE FROM mids WHERE key IN (SELECT key FROM mids WHERE received_at < ? ORDER BY received_at LIMIT ?)'),
    };
    for (const row of db.prepare('SELECT series, ms, next, late FROM slots').all() as Array<SlotState & { series: string }>) {
      this.slots.restore(row.series, { ms: row.ms, next: row.next, late: row.late });
    }
    this.slots.takeDirty();
    const covered = db.prepare("SELECT value FROM meta WHERE key = 'covered_seq'").pluck().get() as number | undefined;
    this.coveredSeq = covered ?? 0;
    this.flushedSeq = this.coveredSeq;
    return this.coveredSeq;
  }

  /**
   * The first copy of this message id, when it was accepted within the dedup window: its seq, or the
   * promise of its seq while its append is in flight.
   */
  find(key: string): number | Promise<number> | undefined {
    const pending = this.inFlight.get(key);
    if (pending) return pending;
    const recent = this.unflushedKeys.get(key);
    if (recent !== undefined) return recent;
    return this.stmts().find.get(key, this.now() - this.options.dedupWindowMs) as number | undefined;
  }

  /** Unique slots for a message's items (see event-slots.ts). */
  allocateSlot(store: string, kind: string, source: string, eventTimeMs: number, items: number): EventSlot {
    return this.slots.allocate(slotSeriesKey(store, kind, source), eventTimeMs, items);
  }

  /** Remembers an append in flight under its mid key; forgets it if the append fails (a resend is then new). */
  track(key: string, appended: Promise<number>): void {
    this.inFlight.set(key, appended);
    appended.then(
      () => {
        if (this.inFlight.get(key) === appended) this.inFlight.delete(key);
      },
      () => {
        if (this.inFlight.get(key) === appended) this.inFlight.delete(key);
      },
    );
  }

  /**
   * A record is durable in the log (called in seq order at run time with its dedup key, and for each
   * record replayed at start, whose key is in the record).
   */
  committed(record: LogEntry, seq: number, runtimeKey?: string): void {
    const replayed = runtimeKey === undefined;
    if (replayed && seq <= this.flushedSeq) return;
    this.coveredSeq = Math.max(this.coveredSeq, seq);
    if (replayed) {
      this.slots.observe(slotSeriesKey(record.source.storeId, record.kind, record.source.sourceId), record.eventTime, itemCount(record), record.slot);
    }
    const id = record.mid ?? record.payloadHash;
    const key = runtimeKey ?? (id === undefined ? undefined : midKey(record.source.storeId, record.kind, record.source.sourceId, id, record.publisher));
    if (key !== undefined) {
      this.unflushed.push({ key, seq, receivedAt: record.receivedAt });
      this.unflushedKeys.set(key, seq);
    }
  }

  /** Persists what was committed since the last flush, in one transaction; returns the seq now covered on disk. */
  flush(): number {
    const stmts = this.stmts();
    const rows = this.unflushed;
    const covered = this.coveredSeq;
    const slots = this.slots.takeDirty();
    if (rows.length === 0 && slots.length === 0 && covered === this.flushedSeq) return this.flushedSeq;
    this.unflushed = [];
    this.db?.transaction(() => {
      for (const row of rows) stmts.insertMid.run(row.key, row.seq, row.receivedAt);
      for (const [series, state] of slots) stmts.upsertSlot.run(series, state.ms, state.next, state.late);
      stmts.setMeta.run('covered_seq', covered);
    })();
    for (const row of rows) {
      if (this.unflushedKeys.get(row.key) === row.seq) this.unflushedKeys.delete(row.key);
    }
    this.flushedSeq = covered;
    return covered;
  }

  /** Forgets which log seqs the index covers (its mids and slots stay): the log will be taken in from its start. */
  resetCoverage(): number {
    this.stmts().setMeta.run('covered_seq', 0);
    this.coveredSeq = 0;
    this.flushedSeq = 0;
    return 0;
  }

  /** Forgets up to `limit` mids older than the dedup window (the oldest first); returns how many. */
  prune(limit = PRUNE_CHUNK): number {
    return this.stmts().prune.run(this.now() - this.options.dedupWindowMs, limit).changes;
  }

  /** The log seq up to which the index is durable: the log may drop records up to it. */
  get durableSeq(): number {
    return this.flushedSeq;
  }

  get stats(): { inFlight: number; unflushed: number; sources: number; coveredSeq: number; durableSeq: number } {
    return {
      inFlight: this.inFlight.size,
      unflushed: this.unflushed.length,
      sources: this.slots.size,
      coveredSeq: this.coveredSeq,
      durableSeq: this.flushedSeq,
    };
  }

  close(): void {
    if (!this.db) return;
    this.flush();
    this.db.close();
    this.db = undefined;
    this.statements = undefined;
  }

  private stmts() {
    if (!this.statements) throw new MessageIndexError('message index is not open', { file: this.options.file });
    return this.statements;
  }
}
