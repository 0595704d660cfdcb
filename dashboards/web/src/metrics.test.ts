import { describe, expect, it } from 'vitest';

import type { MetricSeries } from './api';
import { intervalStarts, mergeByLabel, valuesAt } from './metrics';

const series = (labels: Record<string, string>, total: Record<string, number | null>, points: [string, Record<string, number | null>][]): MetricSeries => ({
  measurement: 'm',
  labels,
  definition: null,
  params: [],
  total,
  points: points.map(([time, values]) => ({ time, values })),
});

describe('reading metric answers', () => {
  it('puts the figures of one touchpoint from several measurements together', () => {
    const merged = mergeByLabel(
      [
        series({ touchpoint: 'kiosk' }, { exposures: 4 }, [['2026-12-01T09:00:00.000Z', { exposures: 4 }]]),
        series({ touchpoint: 'kiosk' }, { interactions: 7 }, [
          ['2026-12-01T09:00:00.000Z', { interactions: 5 }],
          ['2026-12-01T10:00:00.000Z', { interactions: 2 }],
        ]),
        series({ touchpoint: 'qr' }, { interactions: 1 }, []),
        series({ zone: 'x' }, { interactions: 9 }, []),
      ],
      'touchpoint',
    );
    expect(merged.map((s) => [s.labels, s.total])).toEqual([
      [{ touchpoint: 'kiosk' }, { exposures: 4, interactions: 7 }],
      [{ touchpoint: 'qr' }, { interactions: 1 }],
    ]);
    const times = intervalStarts(Date.parse('2026-12-01T09:00:00Z'), Date.parse('2026-12-01T11:00:00Z'), 3_600_000);
    expect(valuesAt(merged[0], 'interactions', times)).toEqual([5, 2]);
    expect(valuesAt(merged[0], 'exposures', times)).toEqual([4, null]);
  });

  it('shifts a week-before series onto this period', () => {
    const before = series({}, {}, [['2026-11-24T09:00:00.000Z', { count: 3 }]]);
    const times = [Date.parse('2026-12-01T09:00:00Z')];
    expect(valuesAt(before, 'count', times, 7 * 86_400_000)).toEqual([3]);
  });
});
