import { describe, expect, it } from 'vitest';

import { perfectRadio, perfectRadioFigures, perfectRadioSegments } from './zone-oracle.js';

const t0 = Date.UTC(2026, 10, 30, 12);
const s = (seconds: number) => t0 + seconds * 1000;
const RULES = { edgeMs: 120_000, passThroughMs: 10_000 };

/** Zone A for 100 s, then B for 200 s; the app advertises in the first and the last 100 s only. */
function visit(first = 'aisle-women') {
  const path = [
    { zone: first, from: s(0), to: s(100) },
    { zone: 'checkout', from: s(100), to: s(300) },
  ];
  return {
    visitor: 'v1',
    app: true,
    enteredAt: s(0),
    leftAt: s(300),
    path,
    advertising: [
      { from: s(0), to: s(60) },
      { from: s(200), to: s(300) },
    ],
    // the truth's minutes: minute 1 (60-120 s) is 40 s A, 20 s B
    minutes: { start: s(0), zones: [first, first, 'checkout', 'checkout', 'checkout'] },
    stays: [
      { zone: first, enter: s(0), exit: s(100), dwellMs: 100_000 },
      { zone: 'checkout', enter: s(100), exit: s(300), dwellMs: 200_000 },
    ],
  } as never;
}

describe('a perfect radio with the engine’s silence rules', () => {
  it('knows the zone while the app advertises and changes at the middle of a silence between two zones', () => {
    const { heard, edges } = perfectRadioSegments(visit(), { ...RULES, entrances: new Set(['entrance']) });
    expect(heard).toEqual([
      { zone: 'aisle-women', from: s(0), to: s(60) },
      { zone: 'aisle-women', from: s(60), to: s(130) },
      { zone: 'checkout', from: s(130), to: s(200) },
      { zone: 'checkout', from: s(200), to: s(300) },
    ]);
    expect(edges).toEqual([
      { zone: 'aisle-women', from: s(-120), to: s(0) },
      { zone: 'checkout', from: s(300), to: s(420) },
    ]);
    const { minutes, dwell } = perfectRadio(visit(), { ...RULES, entrances: new Set(['entrance']) });
    expect([...minutes]).toEqual([
      [s(-120), 'aisle-women'],
      [s(-60), 'aisle-women'],
      [s(0), 'aisle-women'],
      [s(60), 'aisle-women'],
      [s(120), 'checkout'],
      [s(180), 'checkout'],
      [s(240), 'checkout'],
      [s(300), 'checkout'],
      [s(360), 'checkout'],
    ]);
    // dwell between the first and last advertising: 130 s against 100 s, 170 s against 200 s
    expect(dwell).toEqual(
      new Map([
        ['aisle-women', 130_000],
        ['checkout', 170_000],
      ]),
    );
  });

  it('walks through an entrance: it gets only the pass-through time of a silence next to it, so that minute is lost', () => {
    const { minutes } = perfectRadio(visit('entrance'), { ...RULES, entrances: new Set(['entrance']) });
    expect(minutes.get(s(60))).toBe('checkout');
    const [zone, dwell] = perfectRadioFigures({ floorPlan: { entrances: ['entrance'], touchpoints: [] } }, [visit('entrance')], RULES);
    // of the truth's 5 minutes, minute 1 (entrance 40 s) is placed in checkout
    expect(zone).toMatchObject({ key: 'zone_perfect_radio_pct', value: (4 / 5) * 100 });
    // entrance 70 s against 100 s, checkout 230 s against 200 s: errors 30 % and 15 %, median 22.5 %
    expect(dwell?.value).toBeCloseTo(22.5, 10);
  });

  it('places nothing for a visit that never advertised, and is n/a without the rules', () => {
    const silent = { ...(visit() as object), advertising: [] } as never;
    expect(perfectRadio(silent, { ...RULES, entrances: new Set() }).minutes.size).toBe(0);
    const figures = perfectRadioFigures({ floorPlan: { entrances: [], touchpoints: [] } }, [visit()], undefined);
    expect(figures.map((f) => [f.value, f.reason])).toEqual([
      [null, "the engine's silence rules were not given"],
      [null, "the engine's silence rules were not given"],
    ]);
  });
});
