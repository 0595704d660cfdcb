import { describe, expect, it } from 'vitest';

import {
  adjacencyFromPairs,
  deriveAdjacency,
  isPointInRect,
  isPointOnRectEdge,
  isRectInside,
  overlapAreaM2,
  reachableZones,
  sharedEdgeM,
  type ZoneOutline,
} from './store-layout.js';

const r = (id: string, x: number, y: number, width: number, height: number): ZoneOutline => ({ id, x, y, width, height });

describe('store layout geometry', () => {
  it('counts a shared wall but not a shared corner', () => {
    expect(sharedEdgeM(r('a', 0, 0, 4, 4), r('b', 4, 1, 4, 4))).toBe(3);
    expect(sharedEdgeM(r('a', 0, 0, 4, 4), r('b', 1, 4, 2, 4))).toBe(2);
    expect(sharedEdgeM(r('a', 0, 0, 4, 4), r('b', 4, 4, 4, 4))).toBe(0);
    expect(sharedEdgeM(r('a', 0, 0, 4, 4), r('b', 5, 0, 4, 4))).toBe(0);
  });

  it('makes zones adjacent from a shared wall of at least the minimum, 1 m by default', () => {
    const zones = [r('a', 0, 0, 4, 4), r('b', 4, 3.5, 4, 4), r('c', 0, 4, 4, 4), r('d', 8, 8, 1, 1)];
    expect(deriveAdjacency(zones)).toEqual({ a: ['c'], b: ['c'], c: ['a', 'b'], d: [] });
    expect(deriveAdjacency(zones, 0.5)).toEqual({ a: ['b', 'c'], b: ['a', 'c'], c: ['a', 'b'], d: [] });
  });

  it('builds adjacency from declared pairs in both directions, in zone order', () => {
    expect(
      adjacencyFromPairs(
        ['a', 'b', 'c'],
        [
          ['c', 'a'],
          ['b', 'c'],
        ],
      ),
    ).toEqual({ a: ['c'], b: ['c'], c: ['a', 'b'] });
  });

  it('finds the zones reachable from the door zones', () => {
    expect([...reachableZones({ a: ['b'], b: ['a'], c: [] }, ['a'])].sort()).toEqual(['a', 'b']);
  });

  it('tells points inside, on the edge of and outside a rectangle', () => {
    const rect = r('a', 2, 2, 4, 3);
    expect(isPointInRect({ x: 2, y: 5 }, rect)).toBe(true);
    expect(isPointInRect({ x: 6.01, y: 3 }, rect)).toBe(false);
    expect(isPointOnRectEdge({ x: 4, y: 2 }, rect)).toBe(true);
    expect(isPointOnRectEdge({ x: 4, y: 3 }, rect)).toBe(false);
    expect(isPointOnRectEdge({ x: 4, y: 1 }, rect)).toBe(false);
  });

  it('measures overlap and containment of rectangles', () => {
    expect(overlapAreaM2(r('a', 0, 0, 4, 4), r('b', 3, 3, 4, 4))).toBe(1);
    expect(overlapAreaM2(r('a', 0, 0, 4, 4), r('b', 4, 0, 4, 4))).toBe(0);
    expect(isRectInside(r('a', 0, 0, 4, 4), r('floor', 0, 0, 4, 4))).toBe(true);
    expect(isRectInside(r('a', 1, 0, 4, 4), r('floor', 0, 0, 4, 4))).toBe(false);
  });
});
