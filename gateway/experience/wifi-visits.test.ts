import { describe, expect, it } from 'vitest';

import { DEMO_STORE, parseConfig } from '../../config/index.js';
import type { ClosedWifiTrack, WifiObservationRow } from './wifi-tracks.js';
import { DEFAULT_WIFI_PARAMS, entranceWifiSensors, WIFI_VISIT_DEFINITION, WifiVisits, wifiTrackKind, wifiVisitId } from './wifi-visits.js';

const store = parseConfig({ stores: [DEMO_STORE] }).stores[0]!;
const S = 1000;
const MIN = 60_000;
const T0 = Date.UTC(2026, 10, 30, 12); // 13:00 in Paris, open
const ENTRANCE = entranceWifiSensors(store);
const INSIDE = { 'wifi-front': { n: 10, maxRssi: -70 }, 'wifi-back': { n: 10, maxRssi: -60 } };
const context = { params: DEFAULT_WIFI_PARAMS, entranceSensors: ENTRANCE, since: T0 };

function track(start: number, heardMs: number, heard: ClosedWifiTrack['heard'] = INSIDE, isStatic = false): ClosedWifiTrack {
  return { key: 'k', start, end: start + heardMs, pseudonyms: 1, heard, static: isStatic };
}

describe('wifiTrackKind', () => {
  it("takes the demo store's front sensor for its entrance sensor", () => {
    expect([...ENTRANCE]).toEqual(['wifi-front']);
  });

  it('is a visit when heard for two minutes or more, or for a minute inside', () => {
    expect(wifiTrackKind(track(T0 + 10 * MIN, 5 * MIN), context)).toBe('visit');
    expect(wifiTrackKind(track(T0 + 10 * MIN, 90 * S), context)).toBe('visit');
    expect(wifiTrackKind(track(T0 + 10 * MIN, 3 * MIN, { 'wifi-front': { n: 8, maxRssi: -85 } }), context)).toBe('visit');
  });

  it('is a passer-by when heard under a minute, or under two at the front sensor only or weakly', () => {
    expect(wifiTrackKind(track(T0 + 10 * MIN, 40 * S), context)).toBe('passer_by');
    expect(wifiTrackKind(track(T0 + 10 * MIN, 90 * S, { 'wifi-front': { n: 5, maxRssi: -60 } }), context)).toBe('passer_by');
    expect(wifiTrackKind(track(T0 + 10 * MIN, 90 * S, { 'wifi-front': { n: 5, maxRssi: -84 }, 'wifi-back': { n: 2, maxRssi: -90 } }), context)).toBe(
      'passer_by',
    );
  });

  it('is static when heard for hours, and begun before the data within a minute of the first observation', () => {
    expect(wifiTrackKind(track(T0 + 10 * MIN, 200 * MIN, INSIDE, true), context)).toBe('static');
    expect(wifiTrackKind(track(T0 + 30 * S, 20 * MIN), context)).toBe('before_data');
    expect(wifiTrackKind(track(T0 + 30 * S, 20 * MIN), { ...context, since: null })).toBe('visit');
  });
});

/** A phone probing under `id` every 20 s from `from` to `to`. */
function probes(id: string, from: number, to: number, front: number, back: number): WifiObservationRow[] {
  const out: WifiObservationRow[] = [];
  for (let ts = from; ts <= to; ts += 20 * S) {
    out.push({ ts, sensor: 'wifi-front', id, rssi: front, randomized: true }, { ts, sensor: 'wifi-back', id, rssi: back, randomized: true });
  }
  return out;
}

describe('WifiVisits', () => {
  const options = { params: DEFAULT_WIFI_PARAMS, maxGapMs: 15 * MIN, maxVisitMs: 180 * MIN };
  const rows = [
    ...probes('early', T0, T0 + 8 * MIN, -70, -65), // there when the data began
    ...probes('rot-1', T0 + 5 * MIN, T0 + 9 * MIN, -72, -60),
    ...probes('rot-2', T0 + 9 * MIN + 30 * S, T0 + 14 * MIN, -71, -62), // the same phone rotated
    ...probes('street', T0 + 12 * MIN, T0 + 12 * MIN + 40 * S, -75, -90), // a passer-by
  ];

  function run(visits: WifiVisits, from: number, until: number) {
    const events = [];
    const counts = { visit: 0, passer_by: 0, static: 0, staff: 0, before_data: 0 };
    for (let boundary = from; boundary <= until; boundary += 5 * MIN) {
      for (const r of rows) if (r.ts >= boundary - 5 * MIN && r.ts < boundary) visits.add(r);
      const out = visits.close(boundary);
      events.push(...out.events);
      for (const [k, n] of Object.entries(out.counts)) counts[k as keyof typeof counts] += n;
    }
    return { events, counts };
  }

  it('makes one visit of a rotated phone, counted at its start, naming no pseudonym', () => {
    const { events, counts } = run(new WifiVisits(store.id, store, store, options), T0 + 5 * MIN, T0 + 60 * MIN);
    expect(counts).toEqual({ visit: 1, passer_by: 1, static: 0, staff: 0, before_data: 1 });
    expect(events).toEqual([
      {
        type: 'wifi_visit',
        id: wifiVisitId(store.id, 'rot-1', T0 + 5 * MIN),
        start: T0 + 5 * MIN,
        end: T0 + 13 * MIN + 50 * S,
        pseudonyms: 2,
        definition: WIFI_VISIT_DEFINITION,
        params: expect.stringContaining(
          'linkGap=90s;edge=60s;rssiDiff=8dB;minLink=30s;doorLink=off;maxGap=900s;minVisit=60s;doorPasser=120s@entrance-only-or-under-80dBm',
        ) as string,
      },
    ]);
    const written = JSON.stringify(events);
    for (const pseudonym of ['rot-1', 'rot-2', 'early', 'street']) expect(written).not.toContain(pseudonym);
  });

  it('goes on from its state after a restart with the same events', () => {
    const reference = run(new WifiVisits(store.id, store, store, options), T0 + 5 * MIN, T0 + 60 * MIN);
    const first = new WifiVisits(store.id, store, store, options);
    const before = run(first, T0 + 5 * MIN, T0 + 10 * MIN);
    const restored = new WifiVisits(store.id, store, store, options, JSON.parse(JSON.stringify(first.toState())) as ReturnType<WifiVisits['toState']>);
    const after = run(restored, T0 + 15 * MIN, T0 + 60 * MIN);
    expect([...before.events, ...after.events]).toEqual(reference.events);
  });

  it('takes a phone on the store wifi (one pseudonym) whose day adds up to more than maxVisit for staff', () => {
    const staffOptions = { ...options, maxVisitMs: 20 * MIN };
    const visits = new WifiVisits(store.id, store, store, staffOptions);
    const staffRows = [
      ...probes('first', T0, T0 + MIN, -70, -60),
      ...probes('staff', T0 + 5 * MIN, T0 + 20 * MIN, -70, -60),
      ...probes('staff', T0 + 40 * MIN, T0 + 50 * MIN, -70, -60),
    ];
    const counts = { visit: 0, passer_by: 0, static: 0, staff: 0, before_data: 0 };
    for (let boundary = T0 + 5 * MIN; boundary <= T0 + 80 * MIN; boundary += 5 * MIN) {
      for (const r of staffRows) if (r.ts >= boundary - 5 * MIN && r.ts < boundary) visits.add(r);
      for (const [k, n] of Object.entries(visits.close(boundary).counts)) counts[k as keyof typeof counts] += n;
    }
    expect(counts).toMatchObject({ visit: 1, staff: 1 }); // 15 min a visit; back from the break, 25 min in the day: staff
  });

  it('reports the observations of new pseudonyms it dropped with the window full once, at the next boundary', () => {
    const visits = new WifiVisits(store.id, store, store, { ...options, maxOpen: 2 });
    const flood = ['a', 'b', 'c', 'd'].map((id) => ({ ts: T0 + MIN, sensor: 'wifi-front', id, rssi: -70, randomized: true }));
    expect(flood.map((o) => visits.add(o))).toEqual([undefined, undefined, 'window_full', 'window_full']);
    expect(visits.close(T0 + 5 * MIN).droppedFull).toBe(2);
    expect(visits.close(T0 + 10 * MIN).droppedFull).toBe(0);
  });
});
