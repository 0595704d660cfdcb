/**
 * aedes persistence on SQLite: sessions, subscriptions, retained messages, wills, queued QoS > 0
 * deliveries and unreleased QoS 2 publishes survive a restart or a crash of the gateway.
 *
 * SQLite is the record. Subscriptions and retained messages are also kept in aedes-persistence's
 * in-memory persistence (the one aedes uses by default), rebuilt from SQLite in setup(): it owns
 * the topic trie that `subscriptionsByTopic` walks on every QoS > 0 publish, so matching stays exactly
 * aedes' own. Every change is committed to SQLite first and applied to memory after, so a failed
 * commit changes nothing. The queues and wills are per-client lookups and live in SQLite only.
 * Semantics follow aedes-persistence's asyncPersistence.js line by line; its abstract test suite
 * (abstract-suite.mjs) runs against this class.
 */
import { Readable } from 'node:stream';

import type { Logger } from '../../../lib/logger.js';
import type { BrokerPersistence, BrokerRef, ClientRef, PersistedPacket, StoredSubscription, TopicSubscription } from './broker-persistence.js';
import { BrokerStateClosedError, BrokerStateIoError, BrokerStateNoPacketError } from './broker-state-errors.js';
import { copyPacket, createMemoryPersistence } from './memory-persistence.js';
import { decodeRecord, encodeRecord } from './packet-codec.js';
import { prepareStatements, type Statements } from './sqlite-statements.js';
import { openStateDatabase, type StateDatabase } from './state-database.js';

/** Rows read per query while streaming a client's queue. */
const OUTGOING_PAGE_ROWS = 100;
/** At most one error log line per this interval; the rest are counted into the next one. */
const ERROR_LOG_INTERVAL_MS = 10_000;

/** SQLite binds null, never undefined. */
function orNull<T>(value: T | undefined): T | null {
  return value === undefined ? null : value;
}

/** A QoS 2 publish always carries a messageId; 0 (never used on the wire) keys one that does not. */
function incomingKey(packet: PersistedPacket): number {
  return packet.messageId ?? 0;
}

/** The subscription record asyncPersistence keeps per client and topic (subscriptionIdentifier only when set). */
function subscriptionOptions(sub: StoredSubscription): Omit<StoredSubscription, 'topic'> {
  const options: Omit<StoredSubscription, 'topic'> = { qos: sub.qos, rh: sub.rh, rap: sub.rap, nl: sub.nl };
  if (sub.subscriptionIdentifier !== undefined) options.subscriptionIdentifier = sub.subscriptionIdentifier;
  return options;
}

export interface SqlitePersistenceLimits {
  /**
   * Packets one client's queue may hold (a persistent session that is away, or one slower than the
   * traffic): past it, new packets for that client are dropped, as mosquitto's max_queued_messages does.
   */
  maxQueuedPerClient?: number;
  /** A packet was not queued for `clientId` because its queue was full. */
  onQueueFull?: (clientId: string) => void;
}

export class SqlitePersistence implements BrokerPersistence {
  readonly #db: StateDatabase;
  readonly #sql: Statements;
  readonly #log: Logger;
  readonly #file: string;
  /** Subscriptions and retained messages, mirrored from SQLite: the topic trie for matching. */
  readonly #index = createMemoryPersistence();
  #broker: BrokerRef | undefined;
  #destroyed = false;
  #lastErrorLogAt = 0;
  #errorsSinceLog = 0;
  /** Packets queued per client (the outgoing table's rows), for the cap. */
  readonly #queued = new Map<string, number>();
  readonly #limits: SqlitePersistenceLimits;

  /** Opens (creating) the state file and takes its lock; the state is loaded by setup(). */
  constructor(file: string, log: Logger, limits: SqlitePersistenceLimits = {}) {
    this.#file = file;
    this.#log = log;
    this.#limits = limits;
    this.#db = openStateDatabase(file);
    this.#sql = prepareStatements(this.#db);
  }

  /** The broker given to setup() (the abstract test suite reads it). */
  get broker(): BrokerRef | undefined {
    return this.#broker;
  }

  /** Rebuilds the in-memory index from SQLite; aedes requires an `async function` here. */
  async setup(broker: BrokerRef): Promise<void> {
    this.#broker = broker;
    await this.#index.setup(broker);
    const retained = this.#read('setup', {}, () => this.#sql.allRetained.all());
    for (const row of retained) await this.#index.storeRetained(decodeRecord<PersistedPacket>(row.packet));
    const byClient = new Map<string, StoredSubscription[]>();
    for (const row of this.#read('setup', {}, () => this.#sql.allSubscriptions.all())) {
      const subs = byClient.get(row.client_id) ?? [];
      subs.push({ topic: row.topic, ...decodeRecord<Omit<StoredSubscription, 'topic'>>(row.options) });
      byClient.set(row.client_id, subs);
    }
    for (const [id, subs] of byClient) await this.#index.addSubscriptions({ id }, subs);
    for (const row of this.#read('setup', {}, () => this.#sql.queuedByClient.all())) this.#queued.set(row.client_id, row.queued);
    const counts = this.#read('setup', {}, () => this.#sql.counts.get());
    this.#log.info({ file: this.#file, ...counts }, 'broker state restored');
  }

  async storeRetained(packet: PersistedPacket): Promise<void> {
    const copy = { ...packet };
    const topic = copy.topic ?? '';
    this.#write('storeRetained', { topic }, () => {
      if ((copy.payload?.length ?? 0) === 0) this.#sql.deleteRetained.run(topic);
      else this.#sql.upsertRetained.run(topic, encodeRecord(copy));
    });
    await this.#index.storeRetained(copy);
  }

  createRetainedStream(pattern: string): Readable {
    return this.#read('createRetainedStream', {}, () => this.#index.createRetainedStream(pattern));
  }

  createRetainedStreamCombi(patterns: string[]): Readable {
    return this.#read('createRetainedStreamCombi', {}, () => this.#index.createRetainedStreamCombi(patterns));
  }

  async addSubscriptions(client: ClientRef, subs: StoredSubscription[]): Promise<void> {
    this.#write('addSubscriptions', { clientId: client.id }, () => {
      for (const sub of subs) this.#sql.upsertSubscription.run(client.id, sub.topic, sub.qos, encodeRecord(subscriptionOptions(sub)));
    });
    await this.#index.addSubscriptions(client, subs);
  }

  async removeSubscriptions(client: ClientRef, topics: string[]): Promise<void> {
    this.#write('removeSubscriptions', { clientId: client.id }, () => {
      for (const topic of topics) this.#sql.deleteSubscription.run(client.id, topic);
    });
    await this.#index.removeSubscriptions(client, topics);
  }

  async subscriptionsByClient(client: ClientRef): Promise<StoredSubscription[]> {
    return this.#read('subscriptionsByClient', { clientId: client.id }, () => this.#index.subscriptionsByClient(client));
  }

  async countOffline(): Promise<{ subsCount: number; clientsCount: number }> {
    return this.#read('countOffline', {}, () => this.#index.countOffline());
  }

  async subscriptionsByTopic(topic: string): Promise<TopicSubscription[]> {
    return this.#read('subscriptionsByTopic', { topic }, () => this.#index.subscriptionsByTopic(topic));
  }

  async cleanSubscriptions(client: ClientRef): Promise<void> {
    this.#write('cleanSubscriptions', { clientId: client.id }, () => this.#sql.deleteClientSubscriptions.run(client.id));
    await this.#index.cleanSubscriptions(client);
  }

  async outgoingEnqueue(sub: { clientId: string }, packet: PersistedPacket): Promise<void> {
    await this.outgoingEnqueueCombi([sub], packet);
  }

  async outgoingEnqueueCombi(subs: Array<{ clientId: string }>, packet: PersistedPacket): Promise<void> {
    if (subs.length === 0) return; // aedes calls this for every QoS > 0 publish, matched or not
    const max = this.#limits.maxQueuedPerClient ?? Number.POSITIVE_INFINITY;
    const room = subs.filter((sub) => {
      if ((this.#queued.get(sub.clientId) ?? 0) < max) return true;
      this.#limits.onQueueFull?.(sub.clientId);
      return false;
    });
    if (room.length === 0) return;
    const queued = copyPacket(packet);
    const bytes = encodeRecord(queued);
    this.#write('outgoingEnqueue', { clients: room.length }, () => {
      for (const sub of room) {
        this.#sql.insertOutgoing.run(sub.clientId, orNull(queued.brokerId), orNull(queued.brokerCounter), orNull(queued.messageId), bytes);
      }
    });
    for (const sub of room) this.#queued.set(sub.clientId, (this.#queued.get(sub.clientId) ?? 0) + 1);
  }

  async outgoingUpdate(client: ClientRef, packet: PersistedPacket): Promise<void> {
    const brokerId = orNull(packet.brokerId);
    const messageId = orNull(packet.messageId);
    this.#write('outgoingUpdate', { clientId: client.id, messageId }, () => {
      const row = this.#sql.findOutgoingForUpdate.get(client.id, brokerId, orNull(packet.brokerCounter), brokerId, messageId);
      if (!row) {
        throw new BrokerStateNoPacketError(`no queued packet to update for client '${client.id}' (messageId ${messageId})`, {
          context: { clientId: client.id, messageId },
        });
      }
      if (row.broker_id === brokerId) {
        // the same packet being sent: record the messageId it was given
        const queued = decodeRecord<PersistedPacket>(row.packet);
        queued.messageId = packet.messageId;
        this.#sql.replaceOutgoing.run(orNull(queued.brokerId), orNull(queued.brokerCounter), messageId, encodeRecord(queued), row.seq);
      } else {
        // the messageId now names another packet (e.g. the PUBREL of a QoS 2 flow): it takes the slot
        this.#sql.replaceOutgoing.run(brokerId, orNull(packet.brokerCounter), messageId, encodeRecord(packet), row.seq);
      }
    });
  }

  async outgoingClearMessageId(client: ClientRef, packet: PersistedPacket): Promise<PersistedPacket | undefined> {
    const messageId = orNull(packet.messageId);
    return this.#write('outgoingClearMessageId', { clientId: client.id, messageId }, () => {
      const row = this.#sql.findOutgoingByMessageId.get(client.id, messageId);
      if (!row) return undefined;
      this.#sql.deleteOutgoing.run(row.seq);
      const left = (this.#queued.get(client.id) ?? 1) - 1;
      if (left > 0) this.#queued.set(client.id, left);
      else this.#queued.delete(client.id);
      return decodeRecord<PersistedPacket>(row.packet);
    });
  }

  /** The client's queue as it is now (later additions are not included), read a page at a time. */
  outgoingStream(client: ClientRef): Readable {
    const context = { clientId: client.id };
    const lastSeq = this.#read('outgoingStream', context, () => this.#sql.lastOutgoingSeq.get(client.id)?.seq ?? 0);
    const pages = (function* (self: SqlitePersistence): Generator<PersistedPacket> {
      let afterSeq = 0;
      for (;;) {
        const rows = self.#read('outgoingStream', context, () => self.#sql.outgoingPage.all(client.id, afterSeq, lastSeq, OUTGOING_PAGE_ROWS));
        for (const row of rows) yield decodeRecord<PersistedPacket>(row.packet);
        const last = rows.at(-1);
        if (!last || rows.length < OUTGOING_PAGE_ROWS) return;
        afterSeq = last.seq;
      }
    })(this);
    return Readable.from(pages);
  }

  async incomingStorePacket(client: ClientRef, packet: PersistedPacket): Promise<void> {
    const stored = copyPacket(packet);
    stored.messageId = packet.messageId;
    const messageId = incomingKey(packet);
    this.#write('incomingStorePacket', { clientId: client.id, messageId }, () => this.#sql.upsertIncoming.run(client.id, messageId, encodeRecord(stored)));
  }

  async incomingGetPacket(client: ClientRef, packet: PersistedPacket): Promise<PersistedPacket> {
    const messageId = incomingKey(packet);
    const row = this.#read('incomingGetPacket', { clientId: client.id, messageId }, () => this.#sql.getIncoming.get(client.id, messageId));
    if (!row) throw new BrokerStateNoPacketError(`no incoming packet ${messageId} for client '${client.id}'`, { context: { clientId: client.id, messageId } });
    return decodeRecord<PersistedPacket>(row.packet);
  }

  async incomingDelPacket(client: ClientRef, packet: PersistedPacket): Promise<void> {
    const messageId = incomingKey(packet);
    const result = this.#write('incomingDelPacket', { clientId: client.id, messageId }, () => this.#sql.deleteIncoming.run(client.id, messageId));
    if (result.changes === 0)
      throw new BrokerStateNoPacketError(`no incoming packet ${messageId} for client '${client.id}'`, { context: { clientId: client.id, messageId } });
  }

  async cleanIncoming(client: ClientRef): Promise<void> {
    this.#write('cleanIncoming', { clientId: client.id }, () => this.#sql.deleteClientIncoming.run(client.id));
  }

  /** Stores the will stamped with this broker's id, so a later broker instance knows whose it was. */
  async putWill(client: ClientRef, packet: PersistedPacket): Promise<void> {
    packet.brokerId = this.#broker?.id;
    packet.clientId = client.id;
    this.#write('putWill', { clientId: client.id }, () => this.#sql.upsertWill.run(client.id, orNull(packet.brokerId), encodeRecord(packet)));
  }

  async getWill(client: ClientRef): Promise<PersistedPacket | undefined> {
    const row = this.#read('getWill', { clientId: client.id }, () => this.#sql.getWill.get(client.id));
    return row ? decodeRecord<PersistedPacket>(row.packet) : undefined;
  }

  async delWill(client: ClientRef): Promise<PersistedPacket | undefined> {
    return this.#write('delWill', { clientId: client.id }, () => {
      const row = this.#sql.getWill.get(client.id);
      if (!row) return undefined;
      this.#sql.deleteWill.run(client.id);
      return decodeRecord<PersistedPacket>(row.packet);
    });
  }

  /**
   * Wills held for brokers not in `brokers` (the live ones). After a restart the broker has a new id,
   * so aedes publishes the wills of clients that were connected when the old process ended and have
   * not reconnected since (a reconnect replaces the will).
   */
  streamWill(brokers: Record<string, unknown> = {}): Readable {
    const rows = this.#read('streamWill', {}, () => this.#sql.allWills.all());
    return Readable.from(rows.filter((row) => row.broker_id === null || !brokers[row.broker_id]).map((row) => decodeRecord<PersistedPacket>(row.packet)));
  }

  getClientList(topic: string): Readable {
    return this.#read('getClientList', { topic }, () => this.#index.getClientList(topic));
  }

  async loadSessions(nowMs: number): Promise<Map<string, number>> {
    const rows = this.#read('loadSessions', {}, () => this.#sql.allSessions.all(nowMs));
    return new Map(rows.map((row) => [row.client_id, row.last_seen_ms]));
  }

  async recordSessions(seen: ReadonlyArray<readonly [string, number]>): Promise<void> {
    if (seen.length === 0) return;
    this.#write('recordSessions', { sessions: seen.length }, () => {
      for (const [clientId, atMs] of seen) this.#sql.upsertSession.run(clientId, atMs);
    });
  }

  async forgetSession(clientId: string): Promise<void> {
    this.#write('forgetSession', { clientId }, () => this.#sql.deleteSession.run(clientId));
  }

  /** One transaction: the session is gone whole or not at all. */
  async dropSession(clientId: string): Promise<void> {
    this.#write('dropSession', { clientId }, () => {
      this.#sql.deleteSession.run(clientId);
      this.#sql.deleteClientSubscriptions.run(clientId);
      this.#sql.deleteClientOutgoing.run(clientId);
      this.#sql.deleteClientIncoming.run(clientId);
      this.#sql.deleteWill.run(clientId);
    });
    this.#queued.delete(clientId);
    await this.#index.cleanSubscriptions({ id: clientId });
  }

  /** Closes the SQLite file (checkpointing the WAL); later calls reject with SL_ERR_BROKER_STATE_CLOSED. */
  async destroy(): Promise<void> {
    if (this.#destroyed) return;
    this.#destroyed = true;
    this.#db.close();
    await this.#index.destroy();
    this.#log.info({ file: this.#file }, 'broker state closed');
  }

  /** Runs `change` as one transaction (one fsync); an error rolls it back and rejects the call. */
  #write<T>(operation: string, context: Record<string, unknown>, change: () => T): T {
    return this.#run(operation, context, () => this.#db.transaction(change)());
  }

  #read<T>(operation: string, context: Record<string, unknown>, query: () => T): T {
    return this.#run(operation, context, query);
  }

  #run<T>(operation: string, context: Record<string, unknown>, work: () => T): T {
    if (this.#destroyed) {
      throw new BrokerStateClosedError(`broker state used after it was closed (${operation})`, { context: { operation, ...context } });
    }
    try {
      return work();
    } catch (err) {
      if (err instanceof BrokerStateNoPacketError) throw err;
      const error = new BrokerStateIoError(`broker state ${operation} failed: ${(err as Error).message}`, {
        cause: err,
        context: { operation, file: this.#file, sqliteCode: (err as { code?: string }).code, ...context },
      });
      this.#logError(error);
      throw error;
    }
  }

  #logError(error: BrokerStateIoError): void {
    const now = Date.now();
    this.#errorsSinceLog++;
    if (now - this.#lastErrorLogAt < ERROR_LOG_INTERVAL_MS) return;
    this.#log.error({ err: error, ...error.context, errors: this.#errorsSinceLog }, 'broker state failed');
    this.#lastErrorLogAt = now;
    this.#errorsSinceLog = 0;
  }
}
