import { describe, expect, it } from 'vitest';

import type { Evaluation } from '../evaluation/evaluate.js';
import { formatTable, parseSeeds } from './accuracy-table.js';

describe('accuracy runner', () => {
  it('reads seeds as a range or a list, and refuses anything else', () => {
    expect(parseSeeds('1-5')).toEqual([1, 2, 3, 4, 5]);
    expect(parseSeeds('7, 9')).toEqual([7, 9]);
    expect(() => parseSeeds('a-b')).toThrow(/--seeds: expected e.g. 1-5/);
    expect(() => parseSeeds('1-100')).toThrow(/at most 50/);
  });

  it('tabulates each figure per seed with mean, min and max, n/a where a seed has none', () => {
    const run = (seed: number, footfall: number, capture: number | null): Evaluation => ({
      seed,
      storeId: 's',
      windowStart: 0,
      windowEnd: 1,
      figures: [
        { key: 'footfall_error_pct', label: 'footfall error', value: footfall, unit: '%', definition: 'd' },
        { key: 'capture_rate_error_pp', label: 'capture rate error', value: capture, unit: 'pp', definition: 'd' },
      ],
    });
    const table = formatTable([run(1, -4, null), run(2, 2, 3)], { durationMs: 3_600_000, visitorsPerHour: 120 });
    expect(table).toContain('2 seeds, 60 min each at 120 visitors/h');
    expect(table).toContain('| footfall error (`footfall_error_pct`) | -4.0 % | 2.0 % | -1.0 % | -4.0 % | 2.0 % |');
    expect(table).toContain('| capture rate error (`capture_rate_error_pp`) | n/a | 3.0 pp | 3.0 pp | 3.0 pp | 3.0 pp |');
  });
});
