import { describe, expect, it } from 'vitest';

import { dwellByEndsFigures, heardAt, zonesHeardAtBothEnds } from './dwell-by-ends.js';

const t0 = Date.UTC(2026, 10, 30, 12);
const s = (seconds: number) => t0 + seconds * 1000;
const RULES = { edgeMs: 120_000, passThroughMs: 10_000 };

/** Women's aisle for 100 s, then the checkout for 200 s; the app advertises in `advertising`. */
function visit(visitor: string, advertising: Array<{ from: number; to: number }> | undefined) {
  return {
    visitor,
    app: true,
    enteredAt: s(0),
    leftAt: s(300),
    path: [
      { zone: 'aisle-women', from: s(0), to: s(100) },
      { zone: 'checkout', from: s(100), to: s(300) },
    ],
    ...(advertising === undefined ? {} : { advertising }),
    minutes: { start: s(0), zones: ['aisle-women', 'aisle-women', 'checkout', 'checkout', 'checkout'] },
    stays: [
      { zone: 'aisle-women', enter: s(0), exit: s(100), dwellMs: 100_000 },
      { zone: 'checkout', enter: s(100), exit: s(300), dwellMs: 200_000 },
    ],
  } as never;
}

const always = visit('always', [{ from: s(0), to: s(300) }]);
// silent from 60 to 200 s: the change at 100 s falls in the silence
const gappy = visit('gappy', [
  { from: s(0), to: s(60) },
  { from: s(200), to: s(300) },
]);

describe('the dwell error split by whether the radio could time a stay’s ends', () => {
  it('counts an end as heard within one scan interval of the app advertising', () => {
    const ads = [{ from: s(0), to: s(60) }];
    expect(heardAt(s(65), ads)).toBe(true);
    expect(heardAt(s(66), ads)).toBe(false);
    expect(heardAt(s(-5), ads)).toBe(true);
    expect(heardAt(s(-6), ads)).toBe(false);
  });

  it('puts a zone among the heard ones only when every stay in it has both ends heard', () => {
    expect([...zonesHeardAtBothEnds(always)].sort()).toEqual(['aisle-women', 'checkout']);
    expect([...zonesHeardAtBothEnds(gappy)]).toEqual([]);
    const noAdvertising = visit('never', undefined);
    expect([...zonesHeardAtBothEnds(noAdvertising)]).toEqual([]);
  });

  it('gives the engine’s and the perfect radio’s error on each side', () => {
    const estimates = [
      new Map([
        ['aisle-women', 90_000],
        ['checkout', 200_000],
      ]),
      new Map([
        ['aisle-women', 50_000],
        ['checkout', 200_000],
      ]),
    ];
    const figures = dwellByEndsFigures(['entrance'], [always, gappy], estimates, RULES);
    const value = (key: string) => figures.find((f) => f.key === key);
    // heard: the engine 10 % and 0 %, the perfect radio exact
    expect(value('engine_dwell_heard_ends_mdape_pct')).toMatchObject({ value: 5, detail: '2 visit-zone stays' });
    expect(value('dwell_perfect_radio_heard_ends_mdape_pct')).toMatchObject({ value: 0 });
    // silent: the engine 50 % and 0 %; the perfect radio changes at the silence's middle (130 s): 30 % and 15 %
    expect(value('engine_dwell_silent_end_mdape_pct')).toMatchObject({ value: 25, detail: '2 visit-zone stays' });
    expect(value('dwell_perfect_radio_silent_end_mdape_pct')?.value).toBeCloseTo(22.5, 6);
    expect(figures.every((f) => f.reason === undefined)).toBe(true);
  });

  it('says why a side has no figure', () => {
    const noRules = dwellByEndsFigures(['entrance'], [always], [new Map([['checkout', 200_000]])], undefined);
    expect(noRules.find((f) => f.key === 'dwell_perfect_radio_heard_ends_mdape_pct')).toMatchObject({
      value: null,
      reason: "the engine's silence rules were not given",
    });
    expect(noRules.find((f) => f.key === 'engine_dwell_silent_end_mdape_pct')).toMatchObject({ value: null, reason: 'no compared stay in this class' });
    const oldTruth = dwellByEndsFigures(['entrance'], [visit('old', undefined)], [new Map()], RULES);
    expect(oldTruth.every((f) => f.value === null && f.reason?.includes('no advertising interval') === true)).toBe(true);
  });
});
