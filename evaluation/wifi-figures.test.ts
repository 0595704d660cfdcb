import { describe, expect, it } from 'vitest';

import type { EvaluationTruth } from './evaluate.js';
import { wifiFigures } from './wifi-figures.js';

const H = 3_600_000;
const MIN = 60_000;
const T0 = Date.UTC(2026, 10, 30, 12);
type Visit = EvaluationTruth['visits'][number];

function visitor(enteredAt: number, phone: boolean, pseudonyms: string[] = []): Visit {
  return { enteredAt, leftAt: enteredAt + 10 * MIN, phone, wifiPseudonyms: pseudonyms } as unknown as Visit;
}

describe('wifiFigures', () => {
  const truth = {
    windowStart: T0,
    windowEnd: T0 + 2 * H,
    visits: [
      visitor(T0 + 5 * MIN, true, ['a1', 'a2', 'a3']),
      visitor(T0 + 20 * MIN, true, ['b1']),
      visitor(T0 + 30 * MIN, false),
      visitor(T0 + H + 5 * MIN, true, ['c1', 'c2']),
      visitor(T0 + 2 * H - 20 * MIN, true, ['late']), // left after the settle cut: not compared
    ],
  };

  it('compares the wifi visits per hour with the visitors with a phone, and counts pseudonyms before linking', () => {
    const visits = [
      { start: T0 + 6 * MIN, end: T0 + 14 * MIN },
      { start: T0 + H + 6 * MIN, end: T0 + H + 14 * MIN },
      { start: T0 + H + 20 * MIN, end: T0 + H + 30 * MIN },
      { start: T0 + 2 * H - 19 * MIN, end: T0 + 2 * H - 5 * MIN }, // ended after the cut
    ];
    const heard = new Set(['a1', 'a2', 'a3', 'b1', 'c1']); // c2 never heard
    const figures = Object.fromEntries(wifiFigures(truth, visits, heard, 25 * MIN).map((f) => [f.key, f.value]));
    expect(figures).toEqual({
      wifi_footfall_error_pct: 0, // 3 made, 3 true
      wifi_footfall_hourly_error_pct: 75, // hour 1: 1 of 2 (50 %); hour 2: 2 of 1 (100 %)
      wifi_phone_share_pct: 75,
      wifi_pseudonyms_per_visit: 5 / 3,
      wifi_visits_per_visit: 1,
    });
  });

  it('has no error without a visitor with a phone, and says why', () => {
    const figures = wifiFigures({ ...truth, visits: [visitor(T0 + 5 * MIN, false)] }, [], new Set(), 25 * MIN);
    expect(figures[0]).toMatchObject({ value: null, reason: expect.stringContaining('no visitor with a phone') as unknown });
  });

  it('says so when the window holds no whole clock hour (no negative count of hours)', () => {
    const half = { ...truth, windowStart: T0 + 10 * MIN, windowEnd: T0 + 40 * MIN };
    const [total] = wifiFigures(half, [], new Set(), 25 * MIN);
    expect(total).toMatchObject({
      value: null,
      reason: 'the window holds no whole clock hour',
      detail: 'engine 0, true 0; the window holds no whole clock hour',
    });
  });
});
