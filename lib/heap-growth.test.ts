import { describe, expect, it } from 'vitest';

import { limitHeapGrowth } from './heap-growth.js';

describe('limitHeapGrowth', () => {
  it('sets the growing factor when node was started without one', () => {
    expect(limitHeapGrowth(['--enable-source-maps'])).toBe(true);
  });

  it("keeps the operator's own --heap-growing-percent, in either spelling", () => {
    expect(limitHeapGrowth(['--heap-growing-percent=300'])).toBe(false);
    expect(limitHeapGrowth(['--heap_growing_percent=300'])).toBe(false);
  });
});
