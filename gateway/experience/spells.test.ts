import { describe, expect, it } from 'vitest';

import { mergeUnsureSpells } from './spells.js';

/** A posterior row over three zones giving `chance` to `zone` and the rest evenly to the others. */
const row = (zone: number, chance: number) => [0, 1, 2].map((z) => (z === zone ? chance : (1 - chance) / 2));

describe('mergeUnsureSpells', () => {
  it('gives a short unsure spell of another zone back to the stay around it', () => {
    const path = [0, 0, 0, 1, 1, 0, 0, 0];
    const posteriors = path.map((z, t) => row(z, t === 3 || t === 4 ? 0.55 : 0.95));
    expect(mergeUnsureSpells(path, posteriors, 3, 0.6)).toEqual([0, 0, 0, 0, 0, 0, 0, 0]);
  });

  it('keeps a spell the posterior is sure of, one longer than the limit, and one between two other zones', () => {
    const sure = [0, 0, 1, 1, 0, 0];
    expect(
      mergeUnsureSpells(
        sure,
        sure.map((z) => row(z, 0.9)),
        3,
        0.6,
      ),
    ).toEqual(sure);
    const long = [0, 1, 1, 1, 1, 0];
    expect(
      mergeUnsureSpells(
        long,
        long.map((z) => row(z, 0.5)),
        3,
        0.6,
      ),
    ).toEqual(long);
    const walk = [0, 0, 1, 2, 2];
    expect(
      mergeUnsureSpells(
        walk,
        walk.map((z) => row(z, 0.4)),
        3,
        0.6,
      ),
    ).toEqual(walk);
  });

  it('merges nothing when off, and leaves its input alone', () => {
    const path = [0, 1, 0];
    const posteriors = path.map((z) => row(z, 0.4));
    expect(mergeUnsureSpells(path, posteriors, 0, 0.6)).toEqual(path);
    mergeUnsureSpells(path, posteriors, 3, 0.6);
    expect(path).toEqual([0, 1, 0]);
  });

  it('merges spells in turn: one merge can make the stay around the next', () => {
    const path = [0, 0, 1, 0, 2, 0, 0];
    const posteriors = path.map((z) => row(z, z === 0 ? 0.9 : 0.4));
    expect(mergeUnsureSpells(path, posteriors, 2, 0.6)).toEqual([0, 0, 0, 0, 0, 0, 0]);
  });
});
