import { describe, expect, it } from 'vitest';

import { linkCost, WifiTracks, type ClosedWifiTrack, type WifiLinkParams, type WifiObservationRow, type WifiRow } from './wifi-tracks.js';

const S = 1000;
const MIN = 60_000;
const T0 = Date.UTC(2026, 10, 30, 12);
const PARAMS: WifiLinkParams = { linkGapMs: 90 * S, edgeMs: 60 * S, maxRssiDiffDb: 8, minLinkMs: 30 * S, maxGapMs: 15 * MIN, maxVisitMs: 180 * MIN };
const ENTRANCE = new Set(['wifi-front']);

/** A phone probing under `id` every 20 s from `from` to `to`, heard by each sensor at its RSSI. */
function probes(id: string, from: number, to: number, rssi: Record<string, number>, randomized = true): WifiObservationRow[] {
  const out: WifiObservationRow[] = [];
  for (let ts = from; ts <= to; ts += 20 * S) for (const [sensor, r] of Object.entries(rssi)) out.push({ ts, sensor, id, rssi: r, randomized });
  return out;
}

const INSIDE = { 'wifi-front': -72, 'wifi-back': -60 };

/** Feeds each 5-minute stretch of rows (in the order given) before its boundary and processes the boundaries up to `until`. */
function run(rows: readonly WifiObservationRow[], until: number, tracks = new WifiTracks(PARAMS, ENTRANCE), from = T0 + 5 * MIN): ClosedWifiTrack[] {
  const out: ClosedWifiTrack[] = [];
  for (let boundary = from; boundary <= until; boundary += 5 * MIN) {
    for (const r of rows) if (r.ts >= boundary - 5 * MIN && r.ts < boundary) tracks.add(r);
    out.push(...tracks.close(boundary));
  }
  return out;
}

describe('linkCost', () => {
  const tail = (rssi: Record<string, number>) => probes('a', T0, T0 + 40 * S, rssi).map((o) => [o.ts, o.sensor, o.id, o.rssi, 1] as WifiRow);
  const head = (from: number, rssi: Record<string, number>) => probes('b', from, from + 40 * S, rssi).map((o) => [o.ts, o.sensor, o.id, o.rssi, 1] as WifiRow);

  it('is the gap in linkGaps plus the RSSI difference in maxRssiDiffs, per sensor that heard both', () => {
    expect(linkCost(tail(INSIDE), head(T0 + 70 * S, { 'wifi-front': -74, 'wifi-back': -62 }), PARAMS, ENTRANCE)).toBeCloseTo(30 / 90 + 2 / 8);
  });

  it('is null when the gap is too long, the track went on after the piece began, the RSSI differs or the end is at the door only', () => {
    expect(linkCost(tail(INSIDE), head(T0 + 140 * S, INSIDE), PARAMS, ENTRANCE)).toBeNull();
    expect(linkCost(tail(INSIDE), head(T0 + 30 * S, INSIDE), PARAMS, ENTRANCE)).toBeNull();
    expect(linkCost(tail(INSIDE), head(T0 + 60 * S, { 'wifi-front': -55, 'wifi-back': -80 }), PARAMS, ENTRANCE)).toBeNull();
    expect(linkCost(tail({ 'wifi-front': -60 }), head(T0 + 60 * S, { 'wifi-front': -60 }), PARAMS, ENTRANCE)).toBeNull();
  });
});

describe('WifiTracks', () => {
  it("links a rotated phone's pseudonyms into one track, closed once unheard for maxGap", () => {
    const rows = [
      ...probes('p1', T0 + MIN, T0 + 5 * MIN, INSIDE),
      ...probes('p2', T0 + 5 * MIN + 30 * S, T0 + 11 * MIN, { 'wifi-front': -70, 'wifi-back': -63 }),
    ];
    const closed = run(rows, T0 + 40 * MIN);
    expect(closed).toEqual([
      {
        key: 'p1',
        start: T0 + MIN,
        end: T0 + 10 * MIN + 50 * S,
        pseudonyms: 2,
        heard: { 'wifi-front': { n: 30, maxRssi: -70 }, 'wifi-back': { n: 30, maxRssi: -60 } },
        static: false,
      },
    ]);
  });

  it('does not link two phones: one heard while the other still was, one elsewhere in the store, or a fixed MAC', () => {
    const rows = [
      ...probes('a', T0 + MIN, T0 + 5 * MIN, INSIDE),
      ...probes('b', T0 + 4 * MIN, T0 + 9 * MIN, INSIDE), // began while a was heard
      ...probes('c', T0 + 9 * MIN + 30 * S, T0 + 14 * MIN, { 'wifi-front': -88, 'wifi-back': -45 }), // after b, but elsewhere
      ...probes('d', T0 + 14 * MIN + 30 * S, T0 + 18 * MIN, { 'wifi-front': -88, 'wifi-back': -45 }, false), // after c, same place, fixed MAC
    ];
    const closed = run(rows, T0 + 60 * MIN);
    expect(closed.map((t) => [t.key, t.pseudonyms])).toEqual([
      ['a', 1],
      ['b', 1],
      ['c', 1],
      ['d', 1],
    ]);
  });

  it('does not link a pseudonym heard for under minLink (a passer-by) to the phone heard after it', () => {
    const rows = [...probes('passer', T0 + MIN, T0 + MIN + 20 * S, INSIDE), ...probes('visitor', T0 + MIN + 50 * S, T0 + 8 * MIN, INSIDE)];
    expect(run(rows, T0 + 40 * MIN).map((t) => t.key)).toEqual(['passer', 'visitor']);
  });

  it('classes a track heard for longer than maxVisit static', () => {
    const rows = probes('staff', T0, T0 + 200 * MIN, INSIDE);
    const closed = run(rows, T0 + 230 * MIN);
    expect(closed).toHaveLength(1);
    expect(closed[0]).toMatchObject({ key: 'staff', static: true });
  });

  it('gives the same tracks whatever the order and batches the observations came in, and across a restart from its state', () => {
    const rows = [
      ...probes('a1', T0 + MIN, T0 + 6 * MIN, INSIDE),
      ...probes('a2', T0 + 6 * MIN + 40 * S, T0 + 12 * MIN, INSIDE),
      ...probes('b1', T0 + 3 * MIN, T0 + 9 * MIN, { 'wifi-front': -50, 'wifi-back': -85 }),
      ...probes('b2', T0 + 9 * MIN + 20 * S, T0 + 16 * MIN, { 'wifi-front': -52, 'wifi-back': -84 }),
      ...probes('x', T0 + 7 * MIN, T0 + 7 * MIN + 10 * S, INSIDE),
    ].sort((p, q) => p.ts - q.ts);
    const reference = run(rows, T0 + 60 * MIN);
    expect(reference.map((t) => [t.key, t.pseudonyms])).toEqual([
      ['x', 1], // closes first: its last probe is the earliest
      ['a1', 2],
      ['b1', 2],
    ]);
    const shuffled = [...rows].sort((p, q) => (p.id < q.id ? 1 : p.id > q.id ? -1 : q.ts - p.ts)); // newest first, by pseudonym
    expect(run(shuffled, T0 + 60 * MIN)).toEqual(reference);
    // a restart after 10 minutes: the state written then, read back, goes on as if nothing happened
    const first = new WifiTracks(PARAMS, ENTRANCE);
    const before = run(rows, T0 + 10 * MIN, first);
    const restored = WifiTracks.fromState(PARAMS, JSON.parse(JSON.stringify(first.toState())) as ReturnType<WifiTracks['toState']>, ENTRANCE);
    expect([...before, ...run(rows, T0 + 60 * MIN, restored, T0 + 15 * MIN)]).toEqual(reference);
  });

  it('drops an observation stamped before a boundary it has processed (late)', () => {
    const tracks = new WifiTracks(PARAMS, ENTRANCE);
    tracks.close(T0 + 5 * MIN);
    expect(tracks.add({ ts: T0 + 4 * MIN, sensor: 'wifi-back', id: 'late', rssi: -60, randomized: true })).toBe('late_wifi');
    expect(tracks.add({ ts: T0 + 5 * MIN, sensor: 'wifi-back', id: 'ok', rssi: -60, randomized: true })).toBeUndefined();
  });

  it('holds at most maxOpen pseudonyms open: a flood of new ones is dropped, the open ones still heard, room again once they close', () => {
    const tracks = new WifiTracks(PARAMS, ENTRANCE, 3);
    const at = (ts: number, id: string) => tracks.add({ ts, sensor: 'wifi-back', id, rssi: -60, randomized: true });
    expect(at(T0 + MIN, 'phone')).toBeUndefined();
    const flood = Array.from({ length: 20 }, (_, i) => at(T0 + MIN, `spam${i}`));
    expect(flood.filter((r) => r === undefined)).toHaveLength(2);
    expect(flood.filter((r) => r === 'window_full')).toHaveLength(18);
    expect(at(T0 + 2 * MIN, 'phone')).toBeUndefined(); // waiting for the boundary, still its own
    tracks.close(T0 + 5 * MIN); // the three become pieces: still full
    expect(at(T0 + 6 * MIN, 'other')).toBe('window_full');
    expect(at(T0 + 6 * MIN, 'spam0')).toBeUndefined();
    // 15 minutes unheard, the tracks close and make room
    for (let b = T0 + 10 * MIN; b <= T0 + 25 * MIN; b += 5 * MIN) tracks.close(b);
    expect(tracks.openTracks).toBe(0);
    expect(at(T0 + 26 * MIN, 'other')).toBeUndefined();
  });
});
