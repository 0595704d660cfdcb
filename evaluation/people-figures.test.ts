import { describe, expect, it } from 'vitest';

import { peopleFigures, trueMeanPeople } from './people-figures.js';

const H = 3_600_000;
const T0 = Date.UTC(2026, 10, 30, 12);

/** A visitor in `zone` for `n` minutes from the hour's start. */
function visitor(zone: string, n: number) {
  return { minutes: { start: T0, zones: Array.from({ length: n }, () => zone) } };
}

const truth = { visits: [visitor('checkout', 60), visitor('checkout', 30), visitor('aisle-women', 6)] } as never;

describe('occupancy of people against the truth', () => {
  it("averages the truth's customers per zone over each clock hour", () => {
    expect(trueMeanPeople(truth)).toEqual(
      new Map([
        [`checkout ${T0}`, 1.5],
        [`aisle-women ${T0}`, 0.1],
      ]),
    );
  });

  it('gives the error per zone-hour, the bias of the sums, and how often the range held', () => {
    const figures = peopleFigures(truth, [
      { zone: 'checkout', start: T0, people: 2, low: 1, high: 3 },
      { zone: 'aisle-women', start: T0, people: 0.5, low: 0.2, high: 0.9 },
      { zone: 'fitting-rooms', start: T0 + H, people: null, low: null, high: null },
    ]);
    const value = (key: string) => figures.find((f) => f.key === key)?.value;
    expect(value('people_occupancy_mae')).toBeCloseTo((0.5 + 0.4) / 2, 10);
    expect(value('people_occupancy_bias_pct')).toBeCloseTo(((2.5 - 1.6) / 1.6) * 100, 10);
    expect(value('people_occupancy_range_hit_pct')).toBe(50);
  });

  it('is n/a with a reason without a zone-hour to compare', () => {
    const figures = peopleFigures(truth, []);
    expect(figures.map((f) => f.value)).toEqual([null, null, null]);
    expect(figures[0]?.reason).toMatch(/no zone-hour/);
  });
});
