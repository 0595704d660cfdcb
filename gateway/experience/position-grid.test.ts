import { describe, expect, it } from 'vitest';

import { gridTransitions, gridZonePosteriors, type GridModel } from './position-grid.js';

// a corridor of three zones A | B | C, 3 m each, one cell per metre; A–B and B–C adjacent
const cells = Array.from({ length: 9 }, (_, i) => ({ x: i + 0.5, y: 0.5, zone: Math.floor(i / 3) }));
const MODEL: GridModel = {
  cells,
  zones: ['A', 'B', 'C'],
  adjacency: { A: ['B'], B: ['A', 'C'], C: ['B'] },
  entrances: new Set(['A']),
  stay: 0.8,
  reachM: 2,
  nonEntrancePrior: 0,
};
/** Log-likelihood per cell peaking at cell `at`. */
const near = (at: number, strength = 2) => Float64Array.from(cells, (_, i) => -strength * Math.abs(i - at));

describe('gridTransitions', () => {
  it('stays, moves within reach and crosses only into adjacent zones', () => {
    const { to, p } = gridTransitions({ ...MODEL, adjacency: { A: [], B: ['C'], C: ['B'] } });
    for (const row of p) expect(row.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 9);
    expect(p[4]?.[0]).toBeCloseTo(0.8, 9);
    expect([...(to[4] as Int32Array)].sort()).toEqual([2, 3, 4, 5, 6].filter((j) => j !== 2));
    // cell 2 (zone A) cannot reach B: A is not adjacent to it
    expect([...(to[2] as Int32Array)].sort()).toEqual([0, 1, 2]);
  });
});

describe('gridZonePosteriors', () => {
  it('gives a probability per zone per step, sure where the evidence is clear', () => {
    const posteriors = gridZonePosteriors(MODEL, [near(1), near(1), near(1), near(7), near(7), near(7)]);
    expect(posteriors).toHaveLength(6);
    for (const row of posteriors) expect(row.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 9);
    expect(posteriors[0]?.[0]).toBeGreaterThan(0.9);
    expect(posteriors[5]?.[2]).toBeGreaterThan(0.9);
  });

  it('spreads the position over a silence by walking reach', () => {
    const emissions = [near(0, 6), undefined, undefined, undefined, undefined, undefined];
    const posteriors = gridZonePosteriors({ ...MODEL, nonEntrancePrior: 0 }, emissions);
    expect(posteriors[1]?.[0]).toBeGreaterThan(0.95);
    expect(posteriors[5]?.[0]).toBeLessThan(posteriors[1]?.[0] as number);
    expect(posteriors[5]?.[1]).toBeGreaterThan(0);
  });

  it('keeps a position near a border: weak evidence each step adds up at the same cell', () => {
    // cell 3 (B, at the A border) slightly favoured every step vs cell 2 (A)
    const weak = Float64Array.from(cells, (_, i) => (i === 3 ? 0 : i === 2 ? -0.3 : -3));
    const posteriors = gridZonePosteriors(
      MODEL,
      Array.from({ length: 10 }, () => weak),
    );
    expect(posteriors[5]?.[1]).toBeGreaterThan(posteriors[5]?.[0] as number);
  });

  it('is empty for an empty track', () => {
    expect(gridZonePosteriors(MODEL, [])).toEqual([]);
  });
});
