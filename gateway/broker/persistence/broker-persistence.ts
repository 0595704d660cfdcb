/**
 * The persistence contract as aedes 1.2 uses it: every method returns a promise (aedes never passes
 * callbacks), `setup()` must be an `async function` (aedes checks `setup.constructor.name`), streams
 * are object-mode Readables. aedes types the option as `any`, so the shape is declared here once.
 */
import type { Readable } from 'node:stream';

/** An MQTT packet as aedes hands it to the persistence (aedes-packet plus whatever mqtt-packet carried). */
export interface PersistedPacket {
  cmd?: string;
  topic?: string;
  payload?: Buffer | string;
  qos?: number;
  retain?: boolean;
  dup?: boolean;
  messageId?: number;
  brokerId?: string;
  brokerCounter?: number;
  clientId?: string;
  [key: string]: unknown;
}

/** A client as far as the persistence cares: aedes passes its Client, or `{ id }`. */
export interface ClientRef {
  id: string;
}

/** The broker as far as the persistence cares; `id` is read at call time (aedes may change it). */
export interface BrokerRef {
  id: string;
  counter: number;
}

/** A subscription as in a SUBSCRIBE packet; rh/rap/nl and subscriptionIdentifier are MQTT 5. */
export interface StoredSubscription {
  topic: string;
  qos: number;
  rh?: number;
  rap?: boolean;
  nl?: boolean;
  subscriptionIdentifier?: number;
}

/** A QoS > 0 subscription matched by topic, as `subscriptionsByTopic` returns it. */
export interface TopicSubscription extends StoredSubscription {
  clientId: string;
}

/**
 * Persistent sessions (clean = false) and when each client was last seen: storeloop's own, beside
 * aedes' contract, so sessions can be capped and expired (gateway/broker/session-limits.ts).
 */
export interface SessionRecords {
  /** Every stored session: client id → when its client was last seen (epoch ms); one stored without a time counts as seen at `nowMs`. */
  loadSessions(nowMs: number): Promise<Map<string, number>>;
  /** Records when these clients were last seen; a client id not recorded yet becomes a session. */
  recordSessions(seen: ReadonlyArray<readonly [clientId: string, atMs: number]>): Promise<void>;
  /** Forgets a session's record only (a clean = true CONNECT: aedes itself discards the rest). */
  forgetSession(clientId: string): Promise<void>;
  /** Removes a session whole: its record, subscriptions, queued and in-flight packets, unreleased QoS 2 publishes and will. */
  dropSession(clientId: string): Promise<void>;
}

export interface BrokerPersistence extends SessionRecords {
  setup(broker: BrokerRef): Promise<void>;
  storeRetained(packet: PersistedPacket): Promise<void>;
  createRetainedStream(pattern: string): Readable;
  createRetainedStreamCombi(patterns: string[]): Readable;
  addSubscriptions(client: ClientRef, subs: StoredSubscription[]): Promise<void>;
  removeSubscriptions(client: ClientRef, topics: string[]): Promise<void>;
  subscriptionsByClient(client: ClientRef): Promise<StoredSubscription[]>;
  countOffline(): Promise<{ subsCount: number; clientsCount: number }>;
  subscriptionsByTopic(topic: string): Promise<TopicSubscription[]>;
  cleanSubscriptions(client: ClientRef): Promise<void>;
  outgoingEnqueue(sub: { clientId: string }, packet: PersistedPacket): Promise<void>;
  outgoingEnqueueCombi(subs: Array<{ clientId: string }>, packet: PersistedPacket): Promise<void>;
  outgoingUpdate(client: ClientRef, packet: PersistedPacket): Promise<void>;
  outgoingClearMessageId(client: ClientRef, packet: PersistedPacket): Promise<PersistedPacket | undefined>;
  outgoingStream(client: ClientRef): Readable;
  incomingStorePacket(client: ClientRef, packet: PersistedPacket): Promise<void>;
  incomingGetPacket(client: ClientRef, packet: PersistedPacket): Promise<PersistedPacket>;
  incomingDelPacket(client: ClientRef, packet: PersistedPacket): Promise<void>;
  cleanIncoming(client: ClientRef): Promise<void>;
  putWill(client: ClientRef, packet: PersistedPacket): Promise<void>;
  getWill(client: ClientRef): Promise<PersistedPacket | undefined>;
  delWill(client: ClientRef): Promise<PersistedPacket | undefined>;
  streamWill(brokers?: Record<string, unknown>): Readable;
  getClientList(topic: string): Readable;
  destroy(): Promise<void>;
}
