import { describe, expect, it } from 'vitest';

import { posteriorMinutes, stayConfidence, zonePosteriors } from './posterior.js';
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
