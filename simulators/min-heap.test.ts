import { describe, expect, it } from 'vitest';

import { MinHeap } from './min-heap.js';
import { createRng } from './prng.js';

describe('MinHeap', () => {
  it('pops in the order of its comparison, ties in the order the comparison breaks them', () => {
    const rng = createRng(7, 'heap-test');
    const items = Array.from({ length: 500 }, (_, ord) => ({ key: rng.int(0, 20), ord }));
    const heap = new MinHeap<{ key: number; ord: number }>((a, b) => a.key - b.key || a.ord - b.ord);
    for (const item of items) heap.push(item);
    expect(heap.size).toBe(500);
    const popped: Array<{ key: number; ord: number }> = [];
    for (let item = heap.pop(); item !== undefined; item = heap.pop()) popped.push(item);
    expect(popped).toEqual([...items].sort((a, b) => a.key - b.key || a.ord - b.ord));
    expect(heap.peek()).toBeUndefined();
  });
});
