import { describe, expect, it } from 'vitest';

import { dwellByLengthFigures } from './dwell-by-length.js';

const t0 = Date.UTC(2026, 10, 30, 12);
const s = (seconds: number) => t0 + seconds * 1000;

/** A visit with one stay per [zone, seconds], one after the other. */
function visit(stays: Array<[zone: string, seconds: number]>) {
  let at = 0;
  const out = stays.map(([zone, seconds]) => {
    const stay = { zone, enter: s(at), exit: s(at + seconds), dwellMs: seconds * 1000, ...(seconds < 30 ? { passing: true } : {}) };
    at += seconds;
    return stay;
  });
  return { visitor: 'v', app: true, enteredAt: s(0), leftAt: s(at), path: [], minutes: { start: s(0), zones: [] }, stays: out } as never;
}

const byKey = (figures: ReturnType<typeof dwellByLengthFigures>) => new Map(figures.map((f) => [f.key, f]));

describe('the dwell error split by how long the visitor truly stayed', () => {
  it('puts each visit-zone pair in the band of its true dwell and counts the pairs within 15 %', () => {
    // women 60 s (short), checkout 180 s (medium), men 600 s (long), the entrance walked through (passing: no pair)
    const visits = [
      visit([
        ['entrance', 10],
        ['aisle-women', 60],
        ['checkout', 180],
        ['aisle-men', 600],
      ]),
    ];
    const estimates = [
      new Map([
        ['aisle-women', 30_000], // 50 % short
        ['checkout', 171_000], // 5 % off
        ['aisle-men', 660_000], // 10 % off
        ['entrance', 40_000], // no true dwell to compare with: left out
      ]),
    ];
    const figures = byKey(dwellByLengthFigures(visits, estimates));
    expect(figures.get('engine_dwell_short_stays_mdape_pct')).toMatchObject({ value: 50, detail: '1 visit-zone stays, 0 within 15 %' });
    expect(figures.get('engine_dwell_medium_stays_mdape_pct')).toMatchObject({ value: 5, detail: '1 visit-zone stays, 1 within 15 %' });
    expect(figures.get('engine_dwell_long_stays_mdape_pct')?.value).toBeCloseTo(10, 9);
    expect(figures.get('engine_dwell_within_target_pct')?.value).toBeCloseTo((2 / 3) * 100, 9);
    expect(figures.get('engine_dwell_within_target_pct')?.detail).toBe('2 of 3 visit-zone stays');
  });

  it('sums a zone’s stays before choosing its band, and counts a zone the engine never gave as 100 %', () => {
    // two stays of 90 s in the women's aisle: 180 s, a medium pair; the engine gives none
    const visits = [
      visit([
        ['aisle-women', 90],
        ['aisle-shoes', 45],
        ['aisle-women', 90],
      ]),
    ];
    const figures = byKey(dwellByLengthFigures(visits, [new Map([['aisle-shoes', 45_000]])]));
    expect(figures.get('engine_dwell_medium_stays_mdape_pct')).toMatchObject({ value: 100, detail: '1 visit-zone stays, 0 within 15 %' });
    expect(figures.get('engine_dwell_short_stays_mdape_pct')).toMatchObject({ value: 0, detail: '1 visit-zone stays, 1 within 15 %' });
  });

  it('gives n/a with a reason for a band without pairs', () => {
    const figures = byKey(dwellByLengthFigures([visit([['aisle-women', 60]])], [new Map([['aisle-women', 60_000]])]));
    expect(figures.get('engine_dwell_long_stays_mdape_pct')).toMatchObject({ value: null, reason: 'no compared stay in this band' });
    expect(figures.get('engine_dwell_within_target_pct')?.value).toBe(100);
    const none = byKey(dwellByLengthFigures([], []));
    expect(none.get('engine_dwell_within_target_pct')).toMatchObject({ value: null, reason: 'no compared app carrier stayed in a zone' });
  });
});
