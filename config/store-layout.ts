/**
 * Plane geometry of a store's floor plan, in metres: what the config's `layout` validation needs and
 * what anything placing people or radios on the floor (the simulator, later the experience engine)
 * can share without importing the simulator. Origin at a front corner of the floor, x along its
 * width, y into its depth.
 */

export interface Point {
  x: number;
  y: number;
}

export interface Rect {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** A rectangle with the id of the zone it outlines. */
export interface ZoneOutline extends Rect {
  id: string;
}

/** Zones sharing at least this much wall are adjacent, unless the layout declares its adjacency. */
export const DEFAULT_MIN_SHARED_EDGE_M = 1;
/** Slack for float comparisons of coordinates given to the centimetre. */
const EPSILON_M = 1e-6;

/** Whether the point lies inside the rectangle or on its border. */
export function isPointInRect(p: Point, r: Rect): boolean {
  return p.x >= r.x - EPSILON_M && p.x <= r.x + r.width + EPSILON_M && p.y >= r.y - EPSILON_M && p.y <= r.y + r.height + EPSILON_M;
}

/** Whether the point lies on the border of the rectangle (a door on the floor's edge, a door into a zone). */
export function isPointOnRectEdge(p: Point, r: Rect): boolean {
  if (!isPointInRect(p, r)) return false;
  const near = (a: number, b: number) => Math.abs(a - b) <= EPSILON_M;
  return near(p.x, r.x) || near(p.x, r.x + r.width) || near(p.y, r.y) || near(p.y, r.y + r.height);
}

/** Whether `inner` lies wholly inside `outer` (borders may touch). */
export function isRectInside(inner: Rect, outer: Rect): boolean {
  return isPointInRect({ x: inner.x, y: inner.y }, outer) && isPointInRect({ x: inner.x + inner.width, y: inner.y + inner.height }, outer);
}

/** Area two rectangles have in common, m² (0 when they only share a wall or a corner). */
export function overlapAreaM2(a: Rect, b: Rect): number {
  const w = Math.min(a.x + a.width, b.x + b.width) - Math.max(a.x, b.x);
  const h = Math.min(a.y + a.height, b.y + b.height) - Math.max(a.y, b.y);
  return w > EPSILON_M && h > EPSILON_M ? w * h : 0;
}

/** Length of the wall two rectangles share (0 when they only touch at a corner or not at all). */
export function sharedEdgeM(a: Rect, b: Rect): number {
  const overlap = (a0: number, a1: number, b0: number, b1: number) => Math.max(0, Math.min(a1, b1) - Math.max(a0, b0));
  const touchX = Math.abs(a.x + a.width - b.x) < EPSILON_M || Math.abs(b.x + b.width - a.x) < EPSILON_M;
  const touchY = Math.abs(a.y + a.height - b.y) < EPSILON_M || Math.abs(b.y + b.height - a.y) < EPSILON_M;
  if (touchX) return overlap(a.y, a.y + a.height, b.y, b.y + b.height);
  if (touchY) return overlap(a.x, a.x + a.width, b.x, b.x + b.width);
  return 0;
}

/** Zone id → ids of the zones sharing at least `minSharedEdgeM` of wall with it, in the given order. */
export function deriveAdjacency(zones: readonly ZoneOutline[], minSharedEdgeM = DEFAULT_MIN_SHARED_EDGE_M): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const a of zones) out[a.id] = zones.filter((b) => b.id !== a.id && sharedEdgeM(a, b) >= minSharedEdgeM - EPSILON_M).map((b) => b.id);
  return out;
}

/** Zone id → ids of its neighbours from declared pairs (both directions), in the order of `zoneIds`. */
export function adjacencyFromPairs(zoneIds: readonly string[], pairs: ReadonlyArray<readonly [string, string]>): Record<string, string[]> {
  const linked = new Set(pairs.flatMap(([a, b]) => [`${a}\n${b}`, `${b}\n${a}`]));
  const out: Record<string, string[]> = {};
  for (const a of zoneIds) out[a] = zoneIds.filter((b) => b !== a && linked.has(`${a}\n${b}`));
  return out;
}

/** Zones reachable from `from` by walking between adjacent zones (`from` included). */
export function reachableZones(adjacency: Readonly<Record<string, readonly string[]>>, from: readonly string[]): Set<string> {
  const seen = new Set(from);
  const queue = [...from];
  for (let i = 0; i < queue.length; i += 1) {
    for (const next of adjacency[queue[i] as string] ?? []) {
      if (seen.has(next)) continue;
      seen.add(next);
      queue.push(next);
    }
  }
  return seen;
}

/** Middle of a rectangle. */
export function rectCentre(r: Rect): Point {
  return { x: r.x + r.width / 2, y: r.y + r.height / 2 };
}
