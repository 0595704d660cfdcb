import { describe, expect, it } from 'vitest';

import { MODEL, favour } from './corridor.fixtures.js';
import { viterbi } from './viterbi.js';

const names = (path: number[]) => path.map((i) => MODEL.zones[i]).join('');

describe('viterbi', () => {
  it('keeps a zone through a single outlier step (hysteresis)', () => {
    const emissions = ['A', 'A', 'A', 'A', 'B', 'A', 'A', 'A'].map((z) => favour(z as 'A' | 'B', 2));
    expect(names(viterbi(MODEL, emissions))).toBe('AAAAAAAA');
  });

  it('follows a move that the evidence sustains', () => {
    const emissions = ['A', 'A', 'A', 'B', 'B', 'B', 'B', 'B'].map((z) => favour(z as 'A' | 'B'));
    expect(names(viterbi(MODEL, emissions))).toBe('AAABBBBB');
  });

  it('passes the zone between on a move between non-adjacent zones, for at least the minimum stay', () => {
    const emissions = ['A', 'A', 'A', 'A', 'C', 'C', 'C', 'C'].map((z) => favour(z as 'A' | 'C', 6));
    const path = names(viterbi(MODEL, emissions));
    expect(path).toMatch(/^A+B{2,}C+$/);
  });

  it('never steps between non-adjacent zones', () => {
    const order: Array<'A' | 'B' | 'C'> = ['C', 'A', 'C', 'A', 'C', 'A', 'B', 'C', 'A'];
    const path = viterbi(
      MODEL,
      order.map((z) => favour(z, 10)),
    );
    for (let t = 1; t < path.length; t += 1) expect(Math.abs((path[t] as number) - (path[t - 1] as number))).toBeLessThanOrEqual(1);
  });

  it('carries the state through silence', () => {
    const emissions = [favour('B'), favour('B'), ...Array.from({ length: 20 }, () => undefined), favour('B')];
    expect(names(viterbi(MODEL, emissions))).toBe('B'.repeat(23));
  });

  it('moves through silence only as far as the adjacency allows', () => {
    const emissions = [favour('A', 6), favour('A', 6), ...Array.from({ length: 10 }, () => undefined), favour('C', 6), favour('C', 6)];
    const path = names(viterbi(MODEL, emissions));
    expect(path).toMatch(/^A+B{2,}C+$/);
  });

  it('prefers to start and end in an entrance zone when the evidence is even', () => {
    const withPrior = { ...MODEL, nonEntrancePrior: -2 };
    const flat = Array.from({ length: 4 }, () => Float64Array.from([0, 0, 0]));
    expect(names(viterbi(withPrior, flat))).toBe('AAAA');
  });

  it('returns nothing for no steps', () => {
    expect(viterbi(MODEL, [])).toEqual([]);
  });
});
