import { describe, expect, it } from 'vitest';

import { EventSlotAllocator, IN_ORDER_SLOTS, SLOTS_PER_MS, slotSeriesKey, type EventSlot } from './event-slots.js';

/** Every slot an allocation covers, as `ms:slot`, so overlaps show as repeats. */
function cover(ms: number, items: number, slot: EventSlot): string[] {
  return Array.from({ length: Math.max(1, items) }, (_, i) => `${ms}:${slot.offset + i}`);
}

describe('EventSlotAllocator', () => {
  const series = slotSeriesKey('s1', 'ble', 'ble-1');

  it('gives messages of one millisecond consecutive, disjoint in-order ranges', () => {
    const slots = new EventSlotAllocator();
    expect(slots.allocate(series, 1000, 5)).toEqual({ offset: 0 });
    expect(slots.allocate(series, 1000, 3)).toEqual({ offset: 5 });
    expect(slots.allocate(series, 1001, 2)).toEqual({ offset: 0 });
    expect(slots.allocate(series, 1001, 1)).toEqual({ offset: 2 });
  });

  it('sends a message stamped before the newest millisecond to the late region, never onto an in-order slot', () => {
    const slots = new EventSlotAllocator();
    slots.allocate(series, 2000, 4);
    const late = slots.allocate(series, 1999, 3);
    expect(late.offset).toBe(IN_ORDER_SLOTS);
    expect(slots.allocate(series, 1999, 3).offset).toBe(IN_ORDER_SLOTS + 3);
    expect(slots.allocate(series, 2000, 1).offset).toBe(4); // its millisecond is still open in order
  });

  it('never hands out one slot twice in a random mix of in-order and late messages of many sizes', () => {
    const slots = new EventSlotAllocator();
    const used = new Set<string>();
    const clashes: string[] = [];
    let seed = 7;
    const random = () => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
    let slotsHandedOut = 0;
    for (let i = 0; i < 20_000; i++) {
      const ms = 10_000 + Math.floor(random() * 40) + Math.floor(i / 100);
      const items = 1 + Math.floor(random() * 30);
      const slot = slots.allocate(series, ms, items);
      if (slot.offset + items > SLOTS_PER_MS) clashes.push(`past the millisecond: ${ms}:${slot.offset}+${items}`);
      for (const key of cover(ms, items, slot)) {
        if (used.has(key)) clashes.push(key);
        used.add(key);
      }
      slotsHandedOut += items;
    }
    expect(clashes).toEqual([]);
    expect(used.size).toBe(slotsHandedOut);
  });

  it('keeps items of one late message inside the late region when the counter wraps', () => {
    const slots = new EventSlotAllocator();
    slots.allocate(series, 5000, 1);
    let last: EventSlot = { offset: 0 };
    for (let i = 0; i < 600; i++) last = slots.allocate(series, 4000, 1000);
    expect(last.offset).toBeGreaterThanOrEqual(IN_ORDER_SLOTS);
    expect(last.offset + 1000).toBeLessThanOrEqual(SLOTS_PER_MS);
  });

  it('keeps sources apart: the same millisecond of two sources starts at 0 for each', () => {
    const slots = new EventSlotAllocator();
    expect(slots.allocate(slotSeriesKey('s1', 'ble', 'a'), 1, 5).offset).toBe(0);
    expect(slots.allocate(slotSeriesKey('s1', 'ble', 'b'), 1, 5).offset).toBe(0);
  });

  it('rebuilds from observed allocations so that nothing allocated before is handed out again', () => {
    const original = new EventSlotAllocator();
    const log: Array<{ ms: number; items: number; slot: EventSlot }> = [];
    for (const [ms, items] of [
      [100, 3],
      [100, 2],
      [99, 4],
      [101, 1],
      [99, 2],
      [101, 5],
    ] as const)
      log.push({ ms, items, slot: original.allocate(series, ms, items) });
    const rebuilt = new EventSlotAllocator();
    for (const entry of log) rebuilt.observe(series, entry.ms, entry.items, entry.slot);
    const used = new Set(log.flatMap((e) => cover(e.ms, e.items, e.slot)));
    for (const [ms, items] of [
      [99, 3],
      [100, 1],
      [101, 2],
      [102, 1],
    ] as const) {
      for (const key of cover(ms, items, rebuilt.allocate(series, ms, items))) expect(used.has(key), key).toBe(false);
    }
  });

  it('reports what changed since the last call, for persisting', () => {
    const slots = new EventSlotAllocator();
    slots.allocate(series, 1, 1);
    expect(slots.takeDirty()).toEqual([[series, { ms: 1, next: 1, late: 0 }]]);
    expect(slots.takeDirty()).toEqual([]);
  });
});
