import { describe, expect, it } from 'vitest';

import { posteriorChanges, posteriorMinutes, stayConfidence, zonePosteriors } from './posterior.js';
import type { ZoneSegment } from './segments.js';
import { MODEL, favour } from './corridor.fixtures.js';
import { viterbi } from './viterbi.js';

const STEP = 5000;
const steps = (posteriors: Float64Array[], evidence = true) => posteriors.map((zones, i) => ({ centre: i * STEP, zones, evidence }));

describe('zonePosteriors', () => {
  it('gives a probability per zone per step, sure where the evidence is clear', () => {
    const emissions = ['A', 'A', 'A', 'A', 'B', 'B', 'B', 'B'].map((z) => favour(z as 'A' | 'B', 6));
    const posteriors = zonePosteriors(MODEL, emissions);
    expect(posteriors).toHaveLength(8);
    for (const p of posteriors) expect(p.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 9);
    expect(posteriors[1]?.[0]).toBeGreaterThan(0.99);
    expect(posteriors[6]?.[1]).toBeGreaterThan(0.99);
  });

  it('agrees with Viterbi on a clear walk and is unsure in the middle of a silence between two zones', () => {
    const emissions: Array<Float64Array | undefined> = [
      favour('A'),
      favour('A'),
      favour('A'),
      undefined,
      undefined,
      undefined,
      undefined,
      favour('B'),
      favour('B'),
    ];
    const posteriors = zonePosteriors(MODEL, emissions);
    const argmax = posteriors.map((p) => p.indexOf(Math.max(...p)));
    expect(argmax[0]).toBe(viterbi(MODEL, emissions)[0]);
    expect(argmax[8]).toBe(1);
    expect(Math.max(...(posteriors[5] as Float64Array))).toBeLessThan(0.8);
  });

  it('is empty for an empty track', () => {
    expect(zonePosteriors(MODEL, [])).toEqual([]);
  });
});

describe('stayConfidence', () => {
  it('is high for a stay the sightings show clearly and lower for one made of ambiguous steps', () => {
    const clear = zonePosteriors(
      MODEL,
      Array.from({ length: 10 }, () => favour('A', 6)),
    );
    const ambiguous = zonePosteriors(
      MODEL,
      Array.from({ length: 10 }, (_, i) => (i % 2 === 0 ? favour('A', 0.3) : favour('B', 0.3))),
    );
    const stay = { enter: -STEP / 2, exit: 10 * STEP - STEP / 2 };
    const high = stayConfidence(stay, 0, steps(clear));
    const low = stayConfidence(stay, 0, steps(ambiguous));
    expect(high).toBeGreaterThan(0.95);
    expect(low).toBeLessThan(0.8);
    expect(low).toBeGreaterThanOrEqual(0);
  });

  it('takes the step nearest the middle of a stay too short to hold a step centre', () => {
    const posteriors = steps([Float64Array.from([0.2, 0.8, 0]), Float64Array.from([0.6, 0.4, 0])]);
    expect(stayConfidence({ enter: 4000, exit: 4500 }, 0, posteriors)).toBe(0.6);
    expect(stayConfidence({ enter: 0, exit: 10_000 }, 1, posteriors)).toBeCloseTo(0.6, 9);
  });
});

describe('posteriorMinutes', () => {
  const MINUTE = 60_000;
  it('gives a minute with evidence the zone of the largest summed posterior, and keeps a minute without any', () => {
    // minute 0: 12 steps, 5 sure of B, 7 leaning weakly to A; minute 1: silent steps leaning to C
    const first = Array.from({ length: 12 }, (_, i) => (i < 5 ? Float64Array.from([0, 1, 0]) : Float64Array.from([0.45, 0.4, 0.15])));
    const list = [
      ...steps(first),
      ...Array.from({ length: 12 }, (_, i) => ({ centre: MINUTE + i * STEP, zones: Float64Array.from([0, 0.2, 0.8]), evidence: false })),
    ];
    const minutes = posteriorMinutes(
      new Map([
        [0, 'A'],
        [MINUTE, 'B'],
      ]),
      list,
      MODEL.zones,
      MINUTE,
    );
    expect([...minutes]).toEqual([
      [0, 'B'],
      [MINUTE, 'B'],
    ]);
  });
});

describe('the entrance walked through (entranceSelfTransition)', () => {
  it('leaves the entrance sooner in a silence than another zone', () => {
    // heard at the entrance A, 12 silent steps, heard in B
    const emissions: Array<Float64Array | undefined> = [favour('A', 6), ...Array.from({ length: 12 }, () => undefined), favour('B', 6)];
    const even = zonePosteriors(MODEL, emissions);
    const walked = zonePosteriors({ ...MODEL, entranceSelfTransition: 0.8 }, emissions);
    // a third of the way into the silence the entrance is less likely than with one stay chance for all
    expect(walked[4]?.[0]).toBeLessThan((even[4]?.[0] as number) - 0.1);
    expect(walked[4]?.[1]).toBeGreaterThan(walked[4]?.[0] as number);
    for (const p of walked) expect(p.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 9);
  });

  it('lets Viterbi leave the entrance on weaker evidence', () => {
    // two steps mildly for B after the entrance, then silence: one stay chance keeps A, the entrance's lower one moves to B
    const emissions = [favour('A', 6), favour('A', 6), favour('B', 0.8), favour('B', 0.8), favour('B', 0.8)];
    expect(viterbi(MODEL, emissions)).toEqual([0, 0, 0, 0, 0]);
    expect(viterbi({ ...MODEL, entranceSelfTransition: 0.8 }, emissions)).toEqual([0, 0, 1, 1, 1]);
  });
});

describe('posteriorChanges', () => {
  const row = (a: number, b: number) => Float64Array.from([a, b, 1 - a - b]);
  // steps at 0, 5, …, 35 s; the path changes from A to B at 20 s
  const segments = [
    { zone: 'A', from: -STEP / 2, to: 20_000 - STEP / 2 },
    { zone: 'B', from: 20_000 - STEP / 2, to: 40_000 - STEP / 2 },
  ];

  it('leaves a change the posterior is sure of where the path put it', () => {
    const sure = steps(Array.from({ length: 8 }, (_, i) => (i < 4 ? row(1, 0) : row(0, 1))));
    expect(posteriorChanges(segments, sure, MODEL.zones, 60_000)).toEqual(segments);
  });

  it('gives each zone its expected share of the time around an unsure change', () => {
    // the first B steps are as likely A as B: A's expected time is 4 + 2 × 0.5 = 5 of the 8 steps
    const unsure = steps(Array.from({ length: 8 }, (_, i) => (i < 4 ? row(1, 0) : i < 6 ? row(0.5, 0.5) : row(0, 1))));
    const moved = posteriorChanges(segments, unsure, MODEL.zones, 60_000);
    expect(moved.map((s) => [s.zone, s.from, s.to])).toEqual([
      ['A', -2500, 22_500],
      ['B', 22_500, 37_500],
    ]);
    // over a window of 10 s either side (7.5–27.5 s) only the steps at 10–25 s count: A 1 + 1 + 0.5 + 0.5 of 4, so 15 of its 20 s
    expect(posteriorChanges(segments, unsure, MODEL.zones, 10_000).map((s) => s.to)).toEqual([22_500, 37_500]);
    // a change the posterior puts before the path's: the B side sure, the last A steps unsure
    const early = steps(Array.from({ length: 8 }, (_, i) => (i < 2 ? row(1, 0) : i < 4 ? row(0.5, 0.5) : row(0, 1))));
    expect(posteriorChanges(segments, early, MODEL.zones, 60_000).map((s) => s.to)).toEqual([12_500, 37_500]);
  });

  it('changes nothing when off, between imputed segments or between stays of one zone, and leaves its input alone', () => {
    const unsure = steps(Array.from({ length: 8 }, () => row(0.5, 0.5)));
    expect(posteriorChanges(segments, unsure, MODEL.zones, 0)).toEqual(segments);
    const imputed = [{ zone: 'A', from: -62_500, to: -2500, imputed: true as const }, segments[0] as ZoneSegment];
    expect(posteriorChanges(imputed, unsure, MODEL.zones, 60_000)).toEqual(imputed);
    const copy = structuredClone(segments);
    posteriorChanges(segments, unsure, MODEL.zones, 60_000);
    expect(segments).toEqual(copy);
  });
});
