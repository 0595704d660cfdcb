/**
 * aedes-persistence's in-memory async persistence (the implementation behind aedes' default) and the
 * aedes-packet constructor it uses. Loaded with require and typed here: the package keeps its .d.ts
 * files in types/, out of reach of NodeNext resolution for the subpath.
 */
import { createRequire } from 'node:module';

import type { BrokerPersistence, BrokerRef, PersistedPacket, SessionRecords } from './broker-persistence.js';

/** aedes' contract alone, as aedes-persistence implements it. */
type AedesPersistence = Omit<BrokerPersistence, keyof SessionRecords>;

interface MemoryPersistenceModule {
  new (): AedesPersistence;
  /** aedes-packet: copies a packet's fields, stamps brokerId/brokerCounter, resets messageId when QoS > 0. */
  Packet: new (original: PersistedPacket, broker?: BrokerRef) => PersistedPacket;
}

const require = createRequire(import.meta.url);
const memoryModule = require('aedes-persistence/asyncPersistence.js') as MemoryPersistenceModule;

/** aedes' in-memory persistence plus the session records, kept in memory too. */
class MemoryPersistence extends memoryModule implements BrokerPersistence {
  readonly #seen = new Map<string, number>();

  async loadSessions(): Promise<Map<string, number>> {
    return new Map(this.#seen);
  }

  async recordSessions(seen: ReadonlyArray<readonly [string, number]>): Promise<void> {
    for (const [clientId, atMs] of seen) this.#seen.set(clientId, atMs);
  }

  async forgetSession(clientId: string): Promise<void> {
    this.#seen.delete(clientId);
  }

  async dropSession(clientId: string): Promise<void> {
    const client = { id: clientId };
    this.#seen.delete(clientId);
    await this.cleanSubscriptions(client);
    // the queue through aedes' own calls: a packet not yet sent has no messageId, and clearing `undefined` takes the first such
    for await (const packet of this.outgoingStream(client) as AsyncIterable<PersistedPacket>) {
      await this.outgoingClearMessageId(client, { messageId: packet.messageId });
    }
    await this.cleanIncoming(client);
    await this.delWill(client);
  }
}

/** A fresh in-memory persistence: nothing survives the process. */
export function createMemoryPersistence(): BrokerPersistence {
  return new MemoryPersistence();
}

/** Copies `original` the way the in-memory persistence does before it queues a packet. */
export function copyPacket(original: PersistedPacket): PersistedPacket {
  return new memoryModule.Packet(original);
}
