/**
 * aedes-persistence's in-memory async persistence (the implementation behind aedes' default) and the
 * aedes-packet constructor it uses. Loaded with require and typed here: the package keeps its .d.ts
 * files in types/, out of reach of NodeNext resolution for the subpath.
 */
import { createRequire } from 'node:module';

import type { BrokerPersistence, BrokerRef, PersistedPacket } from './broker-persistence.js';

interface MemoryPersistenceModule {
  new (): BrokerPersistence;
  /** aedes-packet: copies a packet's fields, stamps brokerId/brokerCounter, resets messageId when QoS > 0. */
  Packet: new (original: PersistedPacket, broker?: BrokerRef) => PersistedPacket;
}

const require = createRequire(import.meta.url);
const memoryModule = require('aedes-persistence/asyncPersistence.js') as MemoryPersistenceModule;

/** A fresh in-memory persistence: nothing survives the process. */
export function createMemoryPersistence(): BrokerPersistence {
  return new memoryModule();
}

/** Copies `original` the way the in-memory persistence does before it queues a packet. */
export function copyPacket(original: PersistedPacket): PersistedPacket {
  return new memoryModule.Packet(original);
}
