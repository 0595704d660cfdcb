import { describe, expect, it } from 'vitest';

import { DEFAULT_PRESENCE_PARAMS } from './params.js';
import type { ZoneSegment } from './segments.js';
import { DEFINITIONS, DOOR_MAX_MS, DOOR_SHARE, entranceZones, MIN_VISIT_MS, passerByEvent, visitEvents, visitId, visitSegments } from './visit-events.js';

const T0 = Date.UTC(2026, 10, 30, 10);
const S = 1000;
const touchpoints = [
  { id: 'kiosk-1', zone: 'aisle-women' },
  { id: 'mirror-1', zone: 'fitting-rooms' },
  { id: 'feedback-1', zone: 'checkout' },
];

/** entrance 40 s, women 5 min, checkout 20 s (passing), heard between; 120 s imputed at each end. */
const SEGMENTS: ZoneSegment[] = [
  { zone: 'entrance', from: T0 - 120 * S, to: T0, imputed: true },
  { zone: 'entrance', from: T0, to: T0 + 40 * S },
  { zone: 'aisle-women', from: T0 + 40 * S, to: T0 + 340 * S },
  { zone: 'checkout', from: T0 + 340 * S, to: T0 + 360 * S },
  { zone: 'checkout', from: T0 + 360 * S, to: T0 + 480 * S, imputed: true },
];

describe('visit events', () => {
  it('makes the visit from first to last sighting, its stays with passing ones flagged, and the same ids every time', () => {
    const context = { params: DEFAULT_PRESENCE_PARAMS, touchpoints, interactions: [] };
    const events = visitEvents('demo', 'ibeacon:x:1:2', SEGMENTS, context);
    expect(events?.visit).toMatchObject({
      start: T0,
      end: T0 + 360 * S,
      path: ['entrance', 'aisle-women', 'checkout'],
      zones: 2,
      // the time in each zone over its stays that are not passing (the checkout's 20 s are)
      dwell: [
        { zone: 'entrance', seconds: 40 },
        { zone: 'aisle-women', seconds: 300 },
      ],
      definition: DEFINITIONS.visit,
    });
    expect(events?.visit.id).toBe(visitId('demo', 'ibeacon:x:1:2', T0));
    // the parameters the stays depend on are stored with them, the emission's weight among them
    expect(events?.visit.params).toContain(`emissionWeight=${DEFAULT_PRESENCE_PARAMS.emissionWeight}`);
    expect(events?.visit.params).toContain(`mergeSpell=${DEFAULT_PRESENCE_PARAMS.mergeSpellMs / 1000}s`);
    expect(events?.visit.params).toContain('listened=scan-reports');
    expect(events?.stays[0]?.params).toBe(events?.visit.params);
    expect(events?.stays.map((s) => [s.zone, (s.exit - s.enter) / S, s.passing])).toEqual([
      ['entrance', 40, false],
      ['aisle-women', 300, false],
      ['checkout', 20, true],
    ]);
    expect(events?.stays.map((s) => s.id)).toEqual([0, 1, 2].map((i) => `${events?.visit.id}/stay-${i}`));
    expect(visitEvents('demo', 'ibeacon:x:1:2', SEGMENTS, context)).toEqual(events);
    expect(visitId('demo', 'ibeacon:x:1:3', T0)).not.toBe(events?.visit.id);
    // minutes count the imputed lead-in and lead-out too
    expect(events?.minutes.get(T0 - 60_000)).toBe('entrance');
  });

  it('exposes a visitor to a touchpoint by a stay of 10 s or more in its zone, or by using it, and says which', () => {
    const used = [{ ts: T0 + 350 * S, touchpoint: 'feedback-1' }];
    const events = visitEvents('demo', 'dev:abc', SEGMENTS, { params: DEFAULT_PRESENCE_PARAMS, touchpoints, interactions: used });
    expect(events?.exposures.map((e) => [e.touchpoint, e.exposedMs / S, e.interacted, e.at - T0])).toEqual([
      ['kiosk-1', 300, false, 40 * S],
      ['feedback-1', 20, true, 340 * S], // walked through the checkout for 20 s, and used the terminal
    ]);
    const brief: ZoneSegment[] = [
      { zone: 'entrance', from: T0, to: T0 + 60 * S },
      { zone: 'checkout', from: T0 + 60 * S, to: T0 + 65 * S },
      { zone: 'entrance', from: T0 + 65 * S, to: T0 + 120 * S },
    ];
    const passed = visitEvents('demo', 'dev:b', brief, { params: DEFAULT_PRESENCE_PARAMS, touchpoints, interactions: [] });
    expect(passed?.exposures).toEqual([]); // 5 s in the checkout: too short to have seen the terminal
  });

  const context = { params: DEFAULT_PRESENCE_PARAMS, entrances: new Set(['entrance']) };

  it('takes a track heard for less than a minute as a passer-by, not a visit', () => {
    const short: ZoneSegment[] = [{ zone: 'aisle-women', from: T0, to: T0 + MIN_VISIT_MS - 5 * S }];
    expect(passerByEvent('demo', 'dev:p', short, context)).toMatchObject({
      type: 'passer_by',
      at: T0,
      heardMs: MIN_VISIT_MS - 5 * S,
      definition: DEFINITIONS.passerBy,
    });
    expect(passerByEvent('demo', 'dev:p', SEGMENTS, context)).toBeUndefined();
  });

  it('takes a track heard under two minutes, mostly in the entrance zones, as a passer-by', () => {
    const front = (heardMs: number, zone = 'entrance', atDoorMs = 40 * S): ZoneSegment[] => [
      { zone: 'entrance', from: T0 - 120 * S, to: T0, imputed: true }, // imputed edges do not count
      { zone: 'entrance', from: T0, to: T0 + atDoorMs },
      { zone, from: T0 + atDoorMs, to: T0 + heardMs },
      { zone: 'aisle-women', from: T0 + heardMs, to: T0 + heardMs + 120 * S, imputed: true },
    ];
    expect(passerByEvent('demo', 'dev:p', front(75 * S), context)).toMatchObject({ type: 'passer_by', heardMs: 75 * S });
    expect(passerByEvent('demo', 'dev:p', front(DOOR_MAX_MS - 5 * S), context)).toBeDefined();
    expect(passerByEvent('demo', 'dev:p', front(DOOR_MAX_MS), context)).toBeUndefined(); // long enough at the door: a visit
    expect(DOOR_SHARE).toBe(0.4);
    expect(passerByEvent('demo', 'dev:p', front(70 * S, 'checkout', 30 * S), context)).toBeDefined(); // 43 % at the door, the rest beside it
    expect(passerByEvent('demo', 'dev:p', front(75 * S, 'checkout', 25 * S), context)).toBeUndefined(); // 33 %: went in
    expect(passerByEvent('demo', 'dev:p', front(110 * S, 'aisle-women', 20 * S), context)).toBeUndefined();
    expect(passerByEvent('demo', 'dev:p', front(75 * S), { ...context, entrances: new Set(['front']) })).toBeUndefined();
    expect(entranceZones({ zones: [{ id: 'front', kind: 'entrance' }, { id: 'tills', kind: 'checkout' }, { id: 'x' }] })).toEqual(new Set(['front']));
  });

  it('splits a device’s segments into visits where they do not follow one another', () => {
    const later = SEGMENTS.map((s) => ({ ...s, from: s.from + 3_600_000, to: s.to + 3_600_000 }));
    expect(visitSegments([...SEGMENTS, ...later]).map((v) => v.length)).toEqual([5, 5]);
  });
});
