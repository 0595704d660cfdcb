/**
 * Remembers message ids (`mid`, unique per source) to recognise QoS 1 redeliveries and edge replays.
 * Each entry holds the promise of its first copy, so a duplicate that arrives while the first is still
 * being written is acknowledged only once the first is durable. Bounded: the oldest ids are forgotten
 * first (a forgotten id that comes back is processed again, and its points overwrite themselves).
 */
import type { DeliveryResult } from '../delivery/delivery.js';

const SETTLED: Record<DeliveryResult, Promise<DeliveryResult>> = {
  written: Promise.resolve('written'),
  spooled: Promise.resolve('spooled'),
  dead_lettered: Promise.resolve('dead_lettered'),
};

export class DedupIndex {
  private readonly entries = new Map<string, Promise<DeliveryResult>>();

  constructor(private readonly capacity: number) {}

  static key(storeId: string, kind: string, sourceId: string, mid: string): string {
    return `${storeId}\u0000${kind}\u0000${sourceId}\u0000${mid}`;
  }

  /** The pending or settled write of the first copy, when this id was seen. */
  get(key: string): Promise<DeliveryResult> | undefined {
    return this.entries.get(key);
  }

  /** Records the first copy; forgets the entry again if its write fails, so a redelivery is processed. */
  remember(key: string, written: Promise<DeliveryResult>): void {
    if (this.capacity === 0) return;
    this.entries.set(key, written);
    written.then(
      // keep a shared settled promise instead of this one and its closures: 200k ids stay small
      (result) => {
        if (this.entries.get(key) === written) this.entries.set(key, SETTLED[result]);
      },
      () => {
        if (this.entries.get(key) === written) this.entries.delete(key);
      },
    );
    if (this.entries.size > this.capacity) {
      const oldest = this.entries.keys().next();
      if (!oldest.done) this.entries.delete(oldest.value);
    }
  }

  get size(): number {
    return this.entries.size;
  }
}
