import { describe, expect, it } from 'vitest';

import { dwellByZone, mergeSpells, MINUTE_MS, minuteZones, stays, trackSegments, type Stay } from './segments.js';

const M = MINUTE_MS;
const T0 = 1_750_000_000_000 - (1_750_000_000_000 % M);
const S = 1000;

describe('minuteZones', () => {
  it('gives each minute the zone the device spent most of it in', () => {
    const minutes = minuteZones([
      { zone: 'a', from: T0, to: T0 + 40 * S },
      { zone: 'b', from: T0 + 40 * S, to: T0 + M + 20 * S },
      { zone: 'c', from: T0 + M + 20 * S, to: T0 + 2 * M + 10 * S },
    ]);
    expect([...minutes]).toEqual([
      [T0, 'a'],
      [T0 + M, 'c'], // b 20 s, c 40 s
    ]);
  });

  it('leaves out a minute spent less than half inside and keeps one spent exactly half', () => {
    expect([...minuteZones([{ zone: 'a', from: T0 + 31 * S, to: T0 + M }])]).toEqual([]);
    expect([...minuteZones([{ zone: 'a', from: T0 + 30 * S, to: T0 + M }])]).toEqual([[T0, 'a']]);
  });

  it('takes the zone first seen in the minute on a tie', () => {
    const minutes = minuteZones([
      { zone: 'b', from: T0, to: T0 + 30 * S },
      { zone: 'a', from: T0 + 30 * S, to: T0 + M },
    ]);
    expect(minutes.get(T0)).toBe('b');
  });
});

describe('stays', () => {
  it('merges consecutive segments of a zone, flags passing ones and leaves imputed time out of dwell', () => {
    const list = stays([
      { zone: 'entrance', from: T0 - 2 * M, to: T0, imputed: true },
      { zone: 'entrance', from: T0, to: T0 + 20 * S },
      { zone: 'a', from: T0 + 20 * S, to: T0 + M },
      { zone: 'a', from: T0 + M, to: T0 + 3 * M },
      { zone: 'b', from: T0 + 3 * M, to: T0 + 4 * M },
      { zone: 'a', from: T0 + 4 * M, to: T0 + 5 * M },
    ]);
    expect(list.map((s) => [s.zone, s.dwellMs, s.passing ?? false])).toEqual([
      ['entrance', 20 * S, true],
      ['a', 3 * M - 20 * S, false],
      ['b', M, false],
      ['a', M, false],
    ]);
    expect([...dwellByZone(list)]).toEqual([
      ['a', 4 * M - 20 * S],
      ['b', M],
    ]);
  });
});

describe('mergeSpells', () => {
  const stay = (zone: string, from: number, to: number): Stay => ({
    zone,
    enter: T0 + from * S,
    exit: T0 + to * S,
    dwellMs: (to - from) * S,
    ...(to - from < 30 ? { passing: true as const } : {}),
  });
  const shape = (list: readonly Stay[]) => list.map((s) => [s.zone, (s.enter - T0) / S, (s.exit - T0) / S, s.passing ?? false]);

  it('merges a spell of another zone up to the limit into the stays of one zone around it', () => {
    const list = [stay('a', 0, 60), stay('b', 60, 100), stay('a', 100, 200), stay('c', 200, 260)];
    expect(shape(mergeSpells(list, 45 * S))).toEqual([
      ['a', 0, 200, false],
      ['c', 200, 260, false],
    ]);
    expect([...dwellByZone(mergeSpells(list, 45 * S))]).toEqual([
      ['a', 200 * S],
      ['c', 60 * S],
    ]);
  });

  it('keeps a spell longer than the limit, one across a gap and every spell when off', () => {
    const long = [stay('a', 0, 60), stay('b', 60, 110), stay('a', 110, 200)];
    expect(shape(mergeSpells(long, 45 * S))).toEqual(shape(long));
    const gap = [stay('a', 0, 60), stay('b', 70, 100), stay('a', 100, 200)];
    expect(shape(mergeSpells(gap, 45 * S))).toEqual(shape(gap));
    const short = [stay('a', 0, 60), stay('b', 60, 80), stay('a', 80, 200)];
    expect(shape(mergeSpells(short, 0))).toEqual(shape(short));
  });

  it('merges a spell of several zones, and passing stays on both sides into a stay that is not', () => {
    const list = [stay('a', 0, 20), stay('b', 20, 35), stay('c', 35, 50), stay('a', 50, 70)];
    expect(shape(mergeSpells(list, 45 * S))).toEqual([['a', 0, 70, false]]);
  });

  it('chains merges: a stay merged with the one before can merge again with the next', () => {
    const list = [stay('a', 0, 60), stay('b', 60, 90), stay('a', 90, 120), stay('c', 120, 150), stay('a', 150, 300)];
    expect(shape(mergeSpells(list, 45 * S))).toEqual([['a', 0, 300, false]]);
  });
});

describe('trackSegments', () => {
  const step = 5 * S;
  const centres = (n: number) => Array.from({ length: n }, (_, i) => T0 + i * step);

  it('gives a silent run evenly to the zones the path passes through in it (no pass-through time given)', () => {
    // heard in a, 10 silent steps (50 s), heard in c: a, b and c share the silence
    const zones = ['a', ...Array.from({ length: 10 }, (_, i) => (i < 9 ? 'a' : 'b')), 'c'];
    const heard = zones.map((_, i) => i === 0 || i === 11);
    const segments = trackSegments({ centres: centres(12), zones, heard, stepMs: step });
    const start = T0 - step / 2;
    const silenceFrom = start + step;
    const third = (10 * step) / 3;
    expect(segments).toEqual([
      { zone: 'a', from: start, to: Math.round(silenceFrom + third) },
      { zone: 'b', from: Math.round(silenceFrom + third), to: Math.round(silenceFrom + 2 * third) },
      { zone: 'c', from: Math.round(silenceFrom + 2 * third), to: start + 12 * step },
    ]);
  });

  it('gives a zone only passed through in a silent run its pass-through time, the rest to the zones before and after', () => {
    const zones = ['a', ...Array.from({ length: 10 }, (_, i) => (i < 9 ? 'a' : 'b')), 'c'];
    const heard = zones.map((_, i) => i === 0 || i === 11);
    const segments = trackSegments({ centres: centres(12), zones, heard, stepMs: step }, 0, 10 * S);
    const silenceFrom = T0 - step / 2 + step;
    // 50 s of silence: b 10 s in the middle, a and c 20 s each
    expect(segments.map((s) => [s.zone, s.to - s.from])).toEqual([
      ['a', step + 20 * S],
      ['b', 10 * S],
      ['c', 20 * S + step],
    ]);
    expect(segments[1]?.from).toBe(silenceFrom + 20 * S);
  });

  it('gives an entrance zone (walked through) only its pass-through time of a silent run, the other zone the rest', () => {
    // heard at the entrance, 24 silent steps (2 min), heard in the aisle: they walked in and stayed
    const zones = ['entrance', ...Array.from({ length: 24 }, (_, i) => (i < 12 ? 'entrance' : 'aisle')), 'aisle'];
    const heard = zones.map((_, i) => i === 0 || i === 25);
    const walked = new Set(['entrance']);
    const inward = trackSegments({ centres: centres(26), zones, heard, stepMs: step }, 0, 10 * S, walked);
    expect(inward.map((s) => [s.zone, s.to - s.from])).toEqual([
      ['entrance', step + 10 * S],
      ['aisle', 110 * S + step],
    ]);
    // the way out: heard in the aisle, silent, heard at the entrance as they leave
    const outward = trackSegments({ centres: centres(26), zones: [...zones].reverse(), heard, stepMs: step }, 0, 10 * S, walked);
    expect(outward.map((s) => [s.zone, s.to - s.from])).toEqual([
      ['aisle', step + 110 * S],
      ['entrance', 10 * S + step],
    ]);
    // without the set, or between two entrance zones, the middle as before
    const even = trackSegments({ centres: centres(26), zones, heard, stepMs: step }, 0, 10 * S);
    expect(even.map((s) => s.to - s.from)).toEqual([step + 60 * S, 60 * S + step]);
    const both = trackSegments({ centres: centres(26), zones, heard, stepMs: step }, 0, 10 * S, new Set(['entrance', 'aisle']));
    expect(both.map((s) => s.to - s.from)).toEqual([step + 60 * S, 60 * S + step]);
  });

  it('gives an entrance zone at most half of a short silent run', () => {
    const zones = ['entrance', 'entrance', 'aisle', 'aisle'];
    const segments = trackSegments({ centres: centres(4), zones, heard: [true, false, false, true], stepMs: step }, 0, 10 * S, new Set(['entrance']));
    expect(segments.map((s) => [s.zone, s.to - s.from])).toEqual([
      ['entrance', step + 5 * S],
      ['aisle', 5 * S + step],
    ]);
  });

  it('keeps the zone through a silent run that starts and ends in it', () => {
    const zones = Array.from({ length: 6 }, () => 'a');
    const segments = trackSegments({ centres: centres(6), zones, heard: [true, false, false, false, false, true], stepMs: step });
    expect(segments).toEqual([{ zone: 'a', from: T0 - step / 2, to: T0 + 5.5 * step }]);
  });

  it('extends the track at both ends with imputed segments', () => {
    const segments = trackSegments({ centres: centres(2), zones: ['a', 'b'], heard: [true, true], stepMs: step }, M);
    expect(segments[0]).toEqual({ zone: 'a', from: T0 - step / 2 - M, to: T0 - step / 2, imputed: true });
    expect(segments[segments.length - 1]).toEqual({ zone: 'b', from: T0 + 1.5 * step, to: T0 + 1.5 * step + M, imputed: true });
  });
});
