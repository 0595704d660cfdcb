/** The MQTT broker's session state (sessions, subscriptions, retained, wills, queues): in memory or on SQLite. */
export type { BrokerPersistence, SessionRecords } from './broker-persistence.js';
export { BROKER_STATE_FILE, createBrokerPersistence, type BrokerPersistenceConfig, type BrokerPersistenceKind } from './create-broker-persistence.js';
export { createMemoryPersistence } from './memory-persistence.js';
