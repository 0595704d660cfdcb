/**
 * The retained message an in-process test broker holds, read from the broker's own persistence.
 * The answer is exact at the moment of the call, so "none" means none: a fresh subscriber that
 * waits a while for a retained copy cannot tell a slow delivery from no message at all.
 */
import { createMemoryPersistence } from '../../gateway/broker/persistence/memory-persistence.js';
import type { BrokerPersistence, PersistedPacket } from '../../gateway/broker/persistence/broker-persistence.js';

/** aedes' in-memory persistence, to pass as `persistence` to Aedes.createBroker and read with retainedPayload. */
export function retainingPersistence(): BrokerPersistence {
  return createMemoryPersistence();
}

/** The payload retained for exactly `topic` now, or undefined when the broker holds none. */
export async function retainedPayload(persistence: BrokerPersistence, topic: string): Promise<string | undefined> {
  let payload: string | undefined;
  for await (const packet of persistence.createRetainedStream(topic)) {
    const retained = packet as PersistedPacket;
    if (retained.topic === topic) payload = retained.payload?.toString();
  }
  return payload;
}
