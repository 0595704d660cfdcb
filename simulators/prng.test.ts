import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

import { describe, expect, it } from 'vitest';

import { createRng, hashString } from './prng.js';

const draw = <T>(n: number, f: () => T): T[] => Array.from({ length: n }, f);
const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;

describe('seeded random streams', () => {
  it('gives the same numbers for the same seed and labels', () => {
    const a = createRng(42, 'visitor', 3);
    const b = createRng(42, 'visitor', 3);
    expect(draw(50, () => a.nextU32())).toEqual(draw(50, () => b.nextU32()));
  });

  it('gives different numbers for another seed or another label', () => {
    const base = draw(10, () => createRng(42, 'x').next());
    expect(draw(10, () => createRng(43, 'x').next())).not.toEqual(base);
    const x = createRng(42, 'x');
    const y = createRng(42, 'y');
    expect(draw(10, () => x.next())).not.toEqual(draw(10, () => y.next()));
    expect(hashString('a')).not.toBe(hashString('b'));
  });

  it('keeps draws inside their ranges', () => {
    const rng = createRng(1);
    for (let i = 0; i < 10_000; i += 1) {
      const u = rng.next();
      expect(u >= 0 && u < 1).toBe(true);
      const k = rng.int(-2, 3);
      expect(Number.isInteger(k) && k >= -2 && k <= 3).toBe(true);
    }
    expect(new Set(draw(2000, () => rng.int(0, 4)))).toEqual(new Set([0, 1, 2, 3, 4]));
    expect(rng.hex(6)).toMatch(/^[0-9a-f]{12}$/);
  });

  it('draws distributions with the moments asked for', () => {
    const rng = createRng(7, 'moments');
    const normals = draw(20_000, () => rng.normal(3, 2));
    const m = mean(normals);
    expect(m).toBeCloseTo(3, 1);
    expect(Math.sqrt(mean(normals.map((x) => (x - m) ** 2)))).toBeCloseTo(2, 1);
    expect(mean(draw(20_000, () => rng.exponential(5)))).toBeCloseTo(5, 0);
    expect(mean(draw(20_000, () => rng.poisson(2)))).toBeCloseTo(2, 1);
    const logs = draw(20_000, () => rng.logNormal(10, 0.6)).sort((a, b) => a - b);
    expect(logs[10_000]).toBeGreaterThan(9.5);
    expect(logs[10_000]).toBeLessThan(10.5);
    const picks = draw(10_000, () => rng.weighted(['a', 'b'], [1, 3]));
    expect(picks.filter((p) => p === 'b').length / picks.length).toBeCloseTo(0.75, 1);
  });

  it('shuffles into a permutation', () => {
    const rng = createRng(9);
    const items = [1, 2, 3, 4, 5, 6, 7, 8];
    const shuffled = rng.shuffle(items);
    expect([...shuffled].sort()).toEqual(items);
    expect(items).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
  });
});

describe('the simulator sources', () => {
  it('never call Math.random (every draw comes from the seed)', () => {
    const dir = fileURLToPath(new URL('.', import.meta.url));
    const sources = readdirSync(dir).filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'));
    expect(sources.length).toBeGreaterThan(10);
    for (const file of sources) expect(readFileSync(`${dir}/${file}`, 'utf8'), file).not.toMatch(/Math\.random/);
  });
});
