/**
 * Event slots: every accepted message gets a range of sub-millisecond slots, one per item, that no
 * other accepted message of the same (store, kind, source) and event millisecond ever gets. A sink
 * turns the slot into an identity: the InfluxDB sink stamps item i at `eventTime ms + slot.offset + i`
 * nanoseconds, so two distinct messages never map to the same point, and a replay of the same log
 * record maps to the same point again (docs/schema.md).
 *
 * The millisecond has 1,000,000 slots, split in two regions:
 * - in order, [0, 500,000): a message stamped after everything its source sent before opens its
 *   millisecond at 0; further messages stamped with that same millisecond continue after it.
 *   Each millisecond is opened at most once per source, so this region is exact.
 * - late, [500,000, 1,000,000): a message stamped before its source's newest millisecond takes the
 *   next range from the source's late counter (mod 500,000). Two late messages of one millisecond
 *   can only meet if the source sent more than 500,000 late items between them.
 *
 * The allocator's state is per source (three numbers), kept by the message index and rebuilt from
 * the log after a crash (`observe`): allocations only ever move forward, so an over-estimate is safe.
 */
import { MAX_ITEMS_PER_MESSAGE } from '../../protocol/index.js';

export const SLOTS_PER_MS = 1_000_000;
export const IN_ORDER_SLOTS = 500_000;
const LATE_SLOTS = SLOTS_PER_MS - IN_ORDER_SLOTS;

export interface EventSlot {
  /** First slot of the message's items (item i has slot offset + i). */
  offset: number;
  /** For a late allocation, the source's late counter after it (what a rebuild needs). */
  late?: number;
}

/** One source's allocation state. */
export interface SlotState {
  /** The newest event millisecond opened in order. */
  ms: number;
  /** Next free in-order slot of `ms`. */
  next: number;
  /** Late slots handed out so far (a counter; the region position is late mod 500,000). */
  late: number;
}

export function slotSeriesKey(store: string, kind: string, source: string): string {
  return `${store}\u0000${kind}\u0000${source}`;
}

export class EventSlotAllocator {
  private readonly states = new Map<string, SlotState>();
  private readonly dirty = new Set<string>();

  /** Hands out `items` consecutive slots of `eventTimeMs` for one message of `series`. */
  allocate(series: string, eventTimeMs: number, items: number): EventSlot {
    const n = Math.max(1, items);
    if (n > MAX_ITEMS_PER_MESSAGE) throw new RangeError(`${n} items over ${MAX_ITEMS_PER_MESSAGE}`);
    const state = this.states.get(series);
    this.dirty.add(series);
    if (state === undefined) {
      this.states.set(series, { ms: eventTimeMs, next: n, late: 0 });
      return { offset: 0 };
    }
    if (eventTimeMs > state.ms) {
      state.ms = eventTimeMs;
      state.next = n;
      return { offset: 0 };
    }
    if (eventTimeMs === state.ms && state.next + n <= IN_ORDER_SLOTS) {
      const offset = state.next;
      state.next += n;
      return { offset };
    }
    let position = state.late % LATE_SLOTS;
    if (position + n > LATE_SLOTS) {
      state.late += LATE_SLOTS - position; // items never wrap around the region's end
      position = 0;
    }
    state.late += n;
    return { offset: IN_ORDER_SLOTS + position, late: state.late };
  }

  /** Takes in an allocation made earlier (a log record replayed at start): state only moves forward. */
  observe(series: string, eventTimeMs: number, items: number, slot: EventSlot): void {
    const n = Math.max(1, items);
    const state = this.states.get(series) ?? { ms: -1, next: 0, late: 0 };
    this.states.set(series, state);
    this.dirty.add(series);
    if (slot.offset >= IN_ORDER_SLOTS) {
      state.late = Math.max(state.late, slot.late ?? 0);
      return;
    }
    if (eventTimeMs > state.ms) {
      state.ms = eventTimeMs;
      state.next = slot.offset + n;
    } else if (eventTimeMs === state.ms) {
      state.next = Math.max(state.next, slot.offset + n);
    }
  }

  /** Restores a persisted state (as `takeDirty` gave it out). */
  restore(series: string, state: SlotState): void {
    this.states.set(series, { ...state });
  }

  /** The states changed since the last call, for persisting. */
  takeDirty(): Array<[string, SlotState]> {
    const changed: Array<[string, SlotState]> = [];
    for (const series of this.dirty) {
      const state = this.states.get(series);
      if (state) changed.push([series, { ...state }]);
    }
    this.dirty.clear();
    return changed;
  }

  get size(): number {
    return this.states.size;
  }
}
