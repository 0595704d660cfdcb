import { describe, expect, it } from 'vitest';

import { DEMO_STORE } from './demo-store.js';
import { parseDayHours } from './layout-schema.js';
import { StoreSchema, type ConfigInput } from './schema.js';

type StoreInput = NonNullable<ConfigInput['stores']>[number];

/** Two zones side by side on a 10 m × 5 m floor, a scanner and a kiosk in each, the door in front of the first. */
function store(layout: Record<string, unknown> = {}, extra: Partial<StoreInput> = {}): StoreInput {
  return {
    id: 's1',
    zones: [
      { id: 'front', kind: 'entrance' },
      { id: 'back', kind: 'aisle' },
    ],
    sensors: [
      { id: 'ble-front', type: 'ble', zone: 'front' },
      { id: 'ble-back', type: 'ble', zone: 'back' },
    ],
    touchpoints: [{ id: 'kiosk', type: 'kiosk', zone: 'back' }],
    layout: {
      widthM: 10,
      depthM: 5,
      zones: { front: { rect: { x: 0, y: 0, width: 5, height: 5 } }, back: { rect: { x: 5, y: 0, width: 5, height: 5 } } },
      sensors: { 'ble-front': { x: 2.5, y: 2.5 }, 'ble-back': { x: 7.5, y: 2.5, rssiAt1m: -62 } },
      touchpoints: { kiosk: { x: 9, y: 1 } },
      doors: [{ x: 2.5, y: 0, zone: 'front' }],
      ...layout,
    },
    ...extra,
  } as StoreInput;
}

/** The messages of every issue, each prefixed with its path. */
function problems(input: StoreInput): string[] {
  const result = StoreSchema.safeParse(input);
  return result.success ? [] : result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
}

describe('store layout in the config', () => {
  it('accepts the demo store and a sound small layout, with the documented defaults', () => {
    expect(problems(DEMO_STORE)).toEqual([]);
    const parsed = StoreSchema.parse(store());
    expect(parsed.layout?.minSharedEdgeM).toBe(1);
    expect(parsed.layout?.sensors['ble-front']?.rssiAt1m).toBeUndefined();
    expect(StoreSchema.parse(store({}, { layout: undefined })).layout).toBeUndefined();
  });

  it('needs a rect for every zone, and knows no other zone', () => {
    expect(problems(store({ zones: { front: { rect: { x: 0, y: 0, width: 5, height: 5 } }, attic: { rect: { x: 5, y: 0, width: 1, height: 1 } } } }))).toEqual(
      expect.arrayContaining([
        "layout.zones.attic: unknown zone 'attic' (zones: front, back)",
        "layout.zones: zone 'back' has no rect: every zone of the store needs one when a layout is given",
      ]),
    );
  });

  it('refuses a zone outside the floor and zones that overlap', () => {
    const zones = { front: { rect: { x: 0, y: 0, width: 6, height: 5 } }, back: { rect: { x: 5, y: 0, width: 6, height: 5 } } };
    expect(problems(store({ zones }))).toEqual([
      "layout.zones.back.rect: zone 'back' (x 5-11, y 0-5) reaches outside the floor (10 × 5 m)",
      "layout.zones.back.rect: zone 'back' overlaps zone 'front' by 5 m² (zones may share walls, not floor)",
    ]);
  });

  it('refuses negative or zero sizes, naming the key', () => {
    expect(problems(store({ widthM: 0 }))[0]).toMatch(/^layout\.widthM: /);
    expect(problems(store({ zones: { front: { rect: { x: -1, y: 0, width: 5, height: 5 } } } }))[0]).toMatch(/^layout\.zones\.front\.rect\.x: /);
  });

  it('needs a position for every sensor and touchpoint, inside its own zone', () => {
    expect(problems(store({ sensors: { 'ble-front': { x: 7, y: 2 } }, touchpoints: { kiosk: { x: 11, y: 1 } } }))).toEqual([
      "layout.sensors.ble-front: sensor 'ble-front' at (7, 2) is outside its zone 'front' (x 0-5, y 0-5)",
      "layout.sensors: sensor 'ble-back' has no position: every sensor needs one when a layout is given",
      "layout.touchpoints.kiosk: touchpoint 'kiosk' at (11, 1) is outside the floor (10 × 5 m)",
    ]);
    expect(problems(store({ touchpoints: { kiosk: { x: 9, y: 1 }, mirror: { x: 1, y: 1 } } }))).toEqual([
      "layout.touchpoints.mirror: unknown touchpoint 'mirror' (touchpoints: kiosk)",
    ]);
    expect(problems(store({ sensors: { 'ble-front': { x: 2.5, y: 2.5, rssiAt1m: 5 }, 'ble-back': { x: 7.5, y: 2.5 } } }))[0]).toMatch(
      /^layout\.sensors\.ble-front\.rssiAt1m: /,
    );
  });

  it('needs a door on the floor edge, in the wall of the zone it opens into', () => {
    expect(problems(store({ doors: [] }))).toEqual(['layout.doors: a store needs at least one door']);
    expect(problems(store({ doors: [{ x: 2.5, y: 2, zone: 'front' }] }))).toEqual([
      'layout.doors.0: door at (2.5, 2) is not on the edge of the floor (10 × 5 m)',
    ]);
    expect(problems(store({ doors: [{ x: 7, y: 0, zone: 'front' }] }))).toEqual([
      "layout.doors.0: door at (7, 0) is not on the wall of its zone 'front' (x 0-5, y 0-5)",
    ]);
    expect(problems(store({ doors: [{ x: 2.5, y: 0, zone: 'lobby' }] }))).toEqual(["layout.doors.0.zone: unknown zone 'lobby' (zones: front, back)"]);
  });

  it('refuses zones no visitor can reach from a door, by shared walls or declared adjacency', () => {
    expect(problems(store({ minSharedEdgeM: 6 }))).toEqual([
      'layout: zones no visitor can reach from a door: back (no shared wall of at least 6 m on the way)',
    ]);
    expect(problems(store({ adjacency: [] }))).toEqual(['layout: zones no visitor can reach from a door: back (not linked through layout.adjacency)']);
    expect(problems(store({ adjacency: [['front', 'cellar']] }))).toEqual(["layout.adjacency.0.1: unknown zone 'cellar' (zones: front, back)"]);
    expect(problems(store({ adjacency: [['front', 'back']] }))).toEqual([]);
  });
});

describe('opening hours', () => {
  const week = {
    mon: '09:00-20:00',
    tue: '09:00-20:00',
    wed: '09:00-20:00',
    thu: '09:00-20:00',
    fri: '09:00-21:00',
    sat: '10:00-12:30,14:00-19:00',
    sun: 'closed',
  };

  it('accepts a week of ranges and closed days', () => {
    expect(problems(store({}, { openingHours: week }))).toEqual([]);
    expect(parseDayHours('10:00-12:30,14:00-24:00')).toEqual([
      { fromMin: 600, toMin: 750 },
      { fromMin: 840, toMin: 1440 },
    ]);
    expect(parseDayHours('closed')).toEqual([]);
  });

  it('refuses malformed days, naming the day', () => {
    const { sun: _sun, ...noSunday } = week;
    expect(problems(store({}, { openingHours: noSunday as typeof week }))[0]).toMatch(/^openingHours\.sun: /);
    expect(problems(store({}, { openingHours: { ...week, mon: '9-20' } }))).toEqual([
      "openingHours.mon: '9-20' is not a range: expected 'closed' or HH:MM-HH:MM ranges separated by commas, e.g. '09:00-20:00' or '09:00-12:30,14:00-19:00'",
    ]);
    expect(problems(store({}, { openingHours: { ...week, fri: '22:00-02:00' } }))[0]).toMatch(/^openingHours\.fri: '22:00-02:00' ends before it starts/);
    expect(problems(store({}, { openingHours: { ...week, sat: '10:00-14:00,13:00-19:00' } }))[0]).toMatch(/starts before the range before it ends/);
    expect(problems(store({}, { openingHours: { ...week, tue: '09:00-24:30' } }))[0]).toMatch(/is not a range/);
  });
});
