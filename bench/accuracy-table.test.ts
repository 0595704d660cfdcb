import { describe, expect, it } from 'vitest';

import type { Evaluation } from '../evaluation/evaluate.js';
import { formatTable, parseEnd, parseSeeds } from './accuracy-table.js';

describe('accuracy runner', () => {
  it('reads seeds as a range or a list, and refuses anything else', () => {
    expect(parseSeeds('1-5')).toEqual([1, 2, 3, 4, 5]);
    expect(parseSeeds('7, 9')).toEqual([7, 9]);
    expect(() => parseSeeds('a-b')).toThrow(/--seeds: expected e.g. 1-5/);
    expect(() => parseSeeds('1-100')).toThrow(/at most 50/);
  });

  it('ends the last window at --end, a past ISO 8601 time, or now', () => {
    const now = Date.UTC(2026, 11, 1, 16, 0);
    expect(parseEnd(undefined, now)).toBe(now);
    expect(parseEnd('2026-11-30T15:18:00Z', now)).toBe(Date.UTC(2026, 10, 30, 15, 18));
    expect(parseEnd('2026-11-30T16:18:00+01:00', now)).toBe(Date.UTC(2026, 10, 30, 15, 18));
    expect(() => parseEnd('yesterday', now)).toThrow(/--end: expected an ISO 8601 time/);
    expect(() => parseEnd('1764515880000', now)).toThrow(/--end: expected an ISO 8601 time/);
    expect(() => parseEnd('2026-12-02T00:00:00Z', now)).toThrow(/in the future/);
  });

  it('tabulates each figure per seed with mean, min and max, n/a where a seed has none', () => {
    const run = (seed: number, footfall: number, capture: number | null): Evaluation => ({
      seed,
      storeId: 's',
      windowStart: Date.UTC(2026, 10, 30, 10, 14) + (seed - 1) * 3_660_000,
      windowEnd: Date.UTC(2026, 10, 30, 11, 14) + (seed - 1) * 3_660_000,
      figures: [
        { key: 'footfall_error_pct', label: 'footfall error', value: footfall, unit: '%', definition: 'd' },
        { key: 'capture_rate_error_pp', label: 'capture rate error', value: capture, unit: 'pp', definition: 'd' },
      ],
    });
    const table = formatTable([run(1, -4, null), run(2, 2, 3)], { durationMs: 3_600_000, visitorsPerHour: 120, timezone: 'Europe/Paris' });
    expect(table).toContain('2 seeds, 60 min each at 120 visitors/h');
    expect(table).toContain('- seed 1: 2026-11-30T10:14:00.000Z to 2026-11-30T11:14:00.000Z (Mon 30 Nov 2026 11:14–12:14 Europe/Paris)');
    expect(table).toContain('- seed 2: 2026-11-30T11:15:00.000Z to 2026-11-30T12:15:00.000Z (Mon 30 Nov 2026 12:15–13:15 Europe/Paris)');
    expect(table).toContain('| footfall error (`footfall_error_pct`) | -4.0 % | 2.0 % | -1.0 % | -4.0 % | 2.0 % |');
    expect(table).toContain('| capture rate error (`capture_rate_error_pp`) | n/a | 3.0 pp | 3.0 pp | 3.0 pp | 3.0 pp |');
  });
});
