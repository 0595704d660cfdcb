/**
 * Zone walls between two points on the floor plan: a wall is crossed where the straight line from one
 * to the other leaves one zone rectangle and enters another. Stretches outside every zone do not
 * count (leaving a zone into a gap and entering the next is one wall); overlapping zones count as the
 * first in the store's order.
 */
import type { Point, ZoneRect } from './floor-plan.js';

const EPSILON = 1e-9;

/** Number of zone walls the segment a–b crosses. */
export function wallsBetween(zones: readonly ZoneRect[], a: Point, b: Point): number {
  const dx = b.x - a.x;
  const dy = b.y - a.y;
  // every parameter t in (0, 1) where the segment meets the line of some rectangle edge
  const cuts = [0, 1];
  for (const z of zones) {
    if (Math.abs(dx) > EPSILON) for (const x of [z.x, z.x + z.width]) cuts.push((x - a.x) / dx);
    if (Math.abs(dy) > EPSILON) for (const y of [z.y, z.y + z.height]) cuts.push((y - a.y) / dy);
  }
  const ts = cuts.filter((t) => t >= 0 && t <= 1).sort((p, q) => p - q);
  let walls = 0;
  let current: string | undefined;
  for (let i = 1; i < ts.length; i += 1) {
    const t0 = ts[i - 1] as number;
    const t1 = ts[i] as number;
    if (t1 - t0 < EPSILON) continue;
    const mid = (t0 + t1) / 2;
    const zone = zoneAt(zones, { x: a.x + mid * dx, y: a.y + mid * dy });
    if (zone === undefined) continue;
    if (current !== undefined && zone !== current) walls += 1;
    current = zone;
  }
  return walls;
}

function zoneAt(zones: readonly ZoneRect[], p: Point): string | undefined {
  return zones.find((z) => p.x >= z.x && p.x <= z.x + z.width && p.y >= z.y && p.y <= z.y + z.height)?.id;
}
