/**
 * A store's floor plan in the config (`stores[].layout`) and its opening hours (`stores[].openingHours`):
 * the zod schemas, and the checks that need the rest of the store (its zones, sensors and touchpoints).
 * The plane geometry lives in store-layout.ts.
 */
import { z } from 'zod';

import {
  adjacencyFromPairs,
  DEFAULT_MIN_SHARED_EDGE_M,
  deriveAdjacency,
  isPointInRect,
  isPointOnRectEdge,
  isRectInside,
  overlapAreaM2,
  reachableZones,
  type Point,
  type Rect,
  type ZoneOutline,
} from './store-layout.js';

/** RSSI a scanner reads from a reference transmitter 1 m away when its `rssiAt1m` is not given, dBm. */
export const DEFAULT_RSSI_AT_1M_DBM = {
  /** A phone advertising iBeacon at the power most apps use (the iBeacon "measured power" default). */
  ble: -59,
  /** A phone's wifi probe request (phones transmit louder than beacons). */
  wifi: -45,
} as const;

/** A floor is at most a kilometre across: a bigger number is a unit mistake (centimetres, millimetres). */
const MAX_FLOOR_M = 1000;
const MetresSchema = z.number().min(0).max(MAX_FLOOR_M);
const LengthSchema = z.number().positive().max(MAX_FLOOR_M);

export const PointSchema = z.strictObject({ x: MetresSchema, y: MetresSchema });
export const RectSchema = z.strictObject({ x: MetresSchema, y: MetresSchema, width: LengthSchema, height: LengthSchema });
/** A zone's outline: a rectangle for now (`polygon` may join `rect` later). */
export const ZoneLayoutSchema = z.strictObject({ rect: RectSchema });
export const SensorLayoutSchema = z.strictObject({
  x: MetresSchema,
  y: MetresSchema,
  /** What this scanner reads at 1 m from a reference transmitter, dBm; default DEFAULT_RSSI_AT_1M_DBM of its type. */
  rssiAt1m: z.number().int().min(-127).max(0).optional(),
});
export const DoorSchema = z.strictObject({ x: MetresSchema, y: MetresSchema, zone: z.string().min(1), name: z.string().min(1).max(100).optional() });

export const LayoutSchema = z.strictObject({
  widthM: LengthSchema,
  depthM: LengthSchema,
  /** Zone id → outline; every zone of the store needs one. */
  zones: z.record(z.string(), ZoneLayoutSchema),
  /** Sensor id → where it hangs; every ble and wifi sensor of the store needs one. */
  sensors: z.record(z.string(), SensorLayoutSchema).default({}),
  /** Touchpoint id → where it stands; every touchpoint of the store needs one. */
  touchpoints: z.record(z.string(), PointSchema).default({}),
  doors: z.array(DoorSchema).min(1, 'a store needs at least one door'),
  /** Zones a visitor walks between, as pairs; replaces the adjacency derived from shared walls. */
  adjacency: z.array(z.tuple([z.string(), z.string()])).optional(),
  /** Zones sharing at least this much wall are adjacent (when `adjacency` is not declared). */
  minSharedEdgeM: LengthSchema.default(DEFAULT_MIN_SHARED_EDGE_M),
});

export type Layout = z.infer<typeof LayoutSchema>;

export const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
export type Weekday = (typeof WEEKDAYS)[number];

/** One opening of a day, in minutes after local midnight; `toMin` may be 1440 (24:00). */
export interface OpeningRange {
  fromMin: number;
  toMin: number;
}

const HHMM = /^([01]\d|2[0-4]):([0-5]\d)$/;

/** Minutes after midnight of `HH:MM` (00:00 to 24:00), or undefined. */
function minutesOf(text: string): number | undefined {
  const m = HHMM.exec(text.trim());
  if (!m) return undefined;
  const minutes = Number(m[1]) * 60 + Number(m[2]);
  return minutes <= 24 * 60 ? minutes : undefined;
}

/**
 * Parses one day's hours: `closed`, or ranges `HH:MM-HH:MM` separated by commas, ascending and not
 * overlapping. Returns the ranges or a message saying what is wrong.
 */
export function parseDayHours(text: string): OpeningRange[] | string {
  if (text.trim() === 'closed') return [];
  const ranges: OpeningRange[] = [];
  for (const part of text.split(',')) {
    const [from, to, ...rest] = part.split('-');
    const fromMin = minutesOf(from ?? '');
    const toMin = minutesOf(to ?? '');
    if (fromMin === undefined || toMin === undefined || rest.length > 0)
      return `'${part.trim()}' is not a range: expected 'closed' or HH:MM-HH:MM ranges separated by commas, e.g. '09:00-20:00' or '09:00-12:30,14:00-19:00'`;
    if (toMin <= fromMin) return `'${part.trim()}' ends before it starts (a range past midnight ends at 24:00 and goes on the next day from 00:00)`;
    const last = ranges[ranges.length - 1];
    if (last && fromMin < last.toMin) return `'${part.trim()}' starts before the range before it ends: list ranges in order, without overlap`;
    ranges.push({ fromMin, toMin });
  }
  return ranges;
}

const DayHoursSchema = z.string().superRefine((text, ctx) => {
  const parsed = parseDayHours(text);
  if (typeof parsed === 'string') ctx.addIssue({ code: 'custom', message: parsed });
});

/** Opening hours per weekday in the store's time zone; every day is given, `closed` when it does not open. */
export const OpeningHoursSchema = z.strictObject(Object.fromEntries(WEEKDAYS.map((d) => [d, DayHoursSchema])) as Record<Weekday, typeof DayHoursSchema>);
export type OpeningHours = z.infer<typeof OpeningHoursSchema>;

/** The parts of a parsed store the layout checks read. */
interface StoreParts {
  zones: ReadonlyArray<{ id: string }>;
  sensors: ReadonlyArray<{ id: string; zone: string }>;
  touchpoints: ReadonlyArray<{ id: string; zone: string }>;
  layout?: Layout | undefined;
}

type Issue = { path: Array<string | number>; message: string };

const fmt = (n: number) => `${Math.round(n * 100) / 100}`;
const describeRect = (r: Rect) => `x ${fmt(r.x)}-${fmt(r.x + r.width)}, y ${fmt(r.y)}-${fmt(r.y + r.height)}`;

/** Every problem of the store's layout against its zones, sensors and touchpoints (paths under the store). */
export function checkLayout(store: StoreParts): Issue[] {
  const layout = store.layout;
  if (!layout) return [];
  const floor: Rect = { x: 0, y: 0, width: layout.widthM, height: layout.depthM };
  const floorName = `the floor (${fmt(layout.widthM)} × ${fmt(layout.depthM)} m)`;
  const zoneIds = store.zones.map((z) => z.id);
  const issues: Issue[] = [];
  const add = (path: Array<string | number>, message: string) => issues.push({ path: ['layout', ...path], message });

  for (const id of Object.keys(layout.zones)) if (!zoneIds.includes(id)) add(['zones', id], `unknown zone '${id}' (zones: ${zoneIds.join(', ')})`);
  const outlines: ZoneOutline[] = [];
  for (const id of zoneIds) {
    const rect = layout.zones[id]?.rect;
    if (!rect) {
      add(['zones'], `zone '${id}' has no rect: every zone of the store needs one when a layout is given`);
      continue;
    }
    if (!isRectInside(rect, floor)) add(['zones', id, 'rect'], `zone '${id}' (${describeRect(rect)}) reaches outside ${floorName}`);
    for (const other of outlines) {
      const area = overlapAreaM2(rect, other);
      if (area > 0) add(['zones', id, 'rect'], `zone '${id}' overlaps zone '${other.id}' by ${fmt(area)} m² (zones may share walls, not floor)`);
    }
    outlines.push({ id, ...rect });
  }
  const rectOf = (zone: string) => layout.zones[zone]?.rect;

  const placeAll = (list: 'sensors' | 'touchpoints', items: StoreParts['sensors'], positions: Readonly<Record<string, Point>>) => {
    const noun = list === 'sensors' ? 'sensor' : 'touchpoint';
    const ids = items.map((i) => i.id);
    for (const id of Object.keys(positions)) if (!ids.includes(id)) add([list, id], `unknown ${noun} '${id}' (${list}: ${ids.join(', ') || 'none'})`);
    for (const item of items) {
      const at = positions[item.id];
      if (!at) {
        add([list], `${noun} '${item.id}' has no position: every ${noun} needs one when a layout is given`);
        continue;
      }
      const rect = rectOf(item.zone);
      if (!isPointInRect(at, floor)) add([list, item.id], `${noun} '${item.id}' at (${fmt(at.x)}, ${fmt(at.y)}) is outside ${floorName}`);
      // its zone is the zone tag of its points: placed elsewhere, it would report a zone it does not see
      else if (rect && !isPointInRect(at, rect))
        add([list, item.id], `${noun} '${item.id}' at (${fmt(at.x)}, ${fmt(at.y)}) is outside its zone '${item.zone}' (${describeRect(rect)})`);
    }
  };
  placeAll('sensors', store.sensors, layout.sensors);
  placeAll('touchpoints', store.touchpoints, layout.touchpoints);

  layout.doors.forEach((door, i) => {
    const rect = rectOf(door.zone);
    if (!zoneIds.includes(door.zone)) add(['doors', i, 'zone'], `unknown zone '${door.zone}' (zones: ${zoneIds.join(', ')})`);
    else if (!isPointOnRectEdge(door, floor)) add(['doors', i], `door at (${fmt(door.x)}, ${fmt(door.y)}) is not on the edge of ${floorName}`);
    else if (rect && !isPointOnRectEdge(door, rect))
      add(['doors', i], `door at (${fmt(door.x)}, ${fmt(door.y)}) is not on the wall of its zone '${door.zone}' (${describeRect(rect)})`);
  });

  layout.adjacency?.forEach((pair, i) => {
    pair.forEach((zone, j) => {
      if (!zoneIds.includes(zone)) add(['adjacency', i, j], `unknown zone '${zone}' (zones: ${zoneIds.join(', ')})`);
    });
    if (pair[0] === pair[1]) add(['adjacency', i], `zone '${pair[0]}' is paired with itself`);
  });

  // with no door, the schema already says so
  if (issues.length === 0 && layout.doors.length > 0) {
    const reached = reachableZones(
      layoutAdjacency(layout, zoneIds),
      layout.doors.map((d) => d.zone),
    );
    const cut = zoneIds.filter((id) => !reached.has(id));
    const how = layout.adjacency ? 'not linked through layout.adjacency' : `no shared wall of at least ${fmt(layout.minSharedEdgeM)} m on the way`;
    if (cut.length > 0) add([], `zones no visitor can reach from a door: ${cut.join(', ')} (${how})`);
  }
  return issues;
}

/** Zone id → adjacent zone ids: the declared pairs, else zones sharing at least `minSharedEdgeM` of wall. */
export function layoutAdjacency(layout: Layout, zoneIds: readonly string[]): Record<string, string[]> {
  if (layout.adjacency) return adjacencyFromPairs(zoneIds, layout.adjacency);
  const outlines = zoneIds.flatMap((id) => {
    const rect = layout.zones[id]?.rect;
    return rect ? [{ id, ...rect }] : [];
  });
  return deriveAdjacency(outlines, layout.minSharedEdgeM);
}
