import { describe, expect, it } from 'vitest';

import { intervalTicks, publishTimeFor, simulatedTimeAt, simulationWindow } from './schedule.js';

const NOW = 1_750_000_000_000;
const HOUR = 3_600_000;

describe('simulation window', () => {
  it('is the last D before now when publishing flat out', () => {
    const w = simulationWindow(NOW, HOUR, 0);
    expect([w.startMs, w.endMs]).toEqual([NOW - HOUR, NOW]);
    expect(publishTimeFor(w, w.startMs)).toBe(NOW);
  });

  it('ends when the last message goes out with speed S, and publishes the first at the start of the run', () => {
    const w = simulationWindow(NOW, HOUR, 60);
    expect(w.endMs).toBe(NOW + HOUR / 60);
    expect(w.endMs - w.startMs).toBe(HOUR);
    expect(publishTimeFor(w, w.startMs)).toBe(NOW);
    expect(publishTimeFor(w, w.endMs)).toBe(w.endMs);
    expect(simulatedTimeAt(w, NOW + 30_000)).toBe(w.startMs + 30_000 * 60);
    expect(simulatedTimeAt(w, NOW + 10 * HOUR)).toBe(w.endMs);
  });

  it('runs in real time with speed 1: the window is the next D', () => {
    const w = simulationWindow(NOW, HOUR, 1);
    expect([w.startMs, w.endMs]).toEqual([NOW, NOW + HOUR]);
    expect(publishTimeFor(w, NOW + 1234)).toBe(NOW + 1234);
  });
});

describe('intervalTicks', () => {
  it('ticks after each full interval', () => {
    expect(intervalTicks(0, 20, 5)).toEqual([5, 10, 15, 20]);
    expect(intervalTicks(0, 22, 5)).toEqual([5, 10, 15, 20]);
    expect(intervalTicks(0, 3, 5)).toEqual([]);
  });

  it('closes a partial last interval at the end when asked', () => {
    expect(intervalTicks(0, 22, 5, true)).toEqual([5, 10, 15, 20, 22]);
    expect(intervalTicks(0, 20, 5, true)).toEqual([5, 10, 15, 20]);
    expect(intervalTicks(0, 3, 5, true)).toEqual([3]);
  });
});
