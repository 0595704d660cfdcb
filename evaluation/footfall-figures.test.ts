import { describe, expect, it } from 'vitest';

import { footfallFigures, wholeHours, type FusedHour } from './footfall-figures.js';

const H = 3_600_000;
const T0 = Date.UTC(2026, 10, 30, 12);

/** `n` visitors entering evenly through the hour starting at `start`. */
function entering(start: number, n: number) {
  return Array.from({ length: n }, (_, i) => ({ enteredAt: start + Math.floor((i * H) / n) }));
}

const truth = {
  windowStart: T0 - 20 * 60_000,
  windowEnd: T0 + 2 * H + 10 * 60_000,
  // 30 before the first whole hour do not count; 100 and 50 in the two whole hours
  visits: [...entering(T0 - H, 30), ...entering(T0, 100), ...entering(T0 + H, 50)],
} as unknown as Parameters<typeof footfallFigures>[0];

const hour = (i: number, h: Partial<FusedHour>): FusedHour => ({ start: T0 + i * H, count: null, low: null, high: null, estimated: 0, counted: null, ...h });

describe("the fused footfall's figures against the truth", () => {
  it('compares the whole clock hours of the window only', () => {
    expect(wholeHours(truth.windowStart, truth.windowEnd)).toEqual({ from: T0, to: T0 + 2 * H });
  });

  it('gives the signed error of the sum, the mean absolute error per hour, the counter as reported, and how often the range held', () => {
    const figures = footfallFigures(truth, [hour(0, { count: 104, low: 98, high: 110, counted: 96 }), hour(1, { count: 45, low: 40, high: 49, counted: 43 })]);
    const value = (key: string) => figures.find((f) => f.key === key)?.value;
    expect(value('fused_footfall_error_pct')).toBeCloseTo(((149 - 150) / 150) * 100, 5);
    expect(value('fused_footfall_hourly_error_pct')).toBeCloseTo((4 + 10) / 2, 5);
    expect(value('counter_footfall_hourly_error_pct')).toBeCloseTo((4 + 14) / 2, 5);
    expect(value('fused_footfall_range_hit_pct')).toBe(50);
    // 104 against 100 is within ±5 %, 45 against 50 is not
    expect(value('fused_footfall_hours_within_target_pct')).toBe(50);
    expect(figures.find((f) => f.key === 'fused_footfall_hours_within_target_pct')?.detail).toBe('1 of 2 hours');
  });

  it('gives the counter with a perfect audit: its entries times the ratio that makes the whole window right', () => {
    const figures = footfallFigures(truth, [hour(0, { count: 104, counted: 96 }), hour(1, { count: 45, counted: 43 })]);
    const perfect = figures.find((f) => f.key === 'counter_perfect_audit_hourly_error_pct');
    // 150 entered, 139 counted: 96 and 43 become 103.6 (3.6 % off) and 46.4 (7.2 % off)
    const ratio = 150 / 139;
    expect(perfect?.value).toBeCloseTo(((Math.abs(96 * ratio - 100) / 100 + Math.abs(43 * ratio - 50) / 50) / 2) * 100, 9);
    expect(perfect?.detail).toMatch(/^ratio 1\.079; largest 7\.2 %/);
    expect(figures.find((f) => f.key === 'counter_perfect_audit_hours_within_target_pct')).toMatchObject({ value: 50, detail: '1 of 2 hours' });
  });

  it('says why a figure is n/a: no hour with a figure, or no range without an audit', () => {
    const none = footfallFigures(truth, [hour(0, {}), hour(1, {})]);
    expect(none.map((f) => f.value)).toEqual([null, null, null, null, null, null, null]);
    expect(none[0]?.reason).toMatch(/no whole clock hour/);
    const unaudited = footfallFigures(truth, [hour(0, { count: 96, counted: 96 })]);
    expect(unaudited.find((f) => f.key === 'fused_footfall_range_hit_pct')?.reason).toMatch(/no audit/);
  });
});
