import { describe, expect, it } from 'vitest';

import { DEMO_STORE, parseConfig } from '../../config/index.js';
import { closedAt, isOpenAt, localDay, StaffDays, type StoreHours } from './staff-days.js';

const STORE: StoreHours = parseConfig({ stores: [DEMO_STORE] }).stores[0] ?? { timezone: 'UTC' };

const MIN = 60_000;
/** Local time in Paris (UTC+1) on `day` of November 2026 (31: 1 December). On Monday 30 November the demo store opens 10:00-19:30. */
const paris = (hh: number, mm = 0, day = 30) => Date.UTC(2026, 10, day, hh - 1, mm);
const OPTIONS = { maxVisitMs: 180 * MIN, minTrackMs: MIN };

describe('opening hours', () => {
  it("reads the local day, weekday and minute in the store's time zone", () => {
    expect(localDay(paris(0, 30), STORE.timezone)).toEqual({ day: '2026-11-30', weekday: 'mon', minute: 30 });
    expect(localDay(Date.UTC(2026, 10, 30, 23, 30), STORE.timezone)).toMatchObject({ day: '2026-12-01', weekday: 'tue' }); // 00:30 in Paris
  });

  it('is open within the ranges, closed outside them with a margin, unknown without hours', () => {
    expect(isOpenAt(STORE, paris(10))).toBe(true);
    expect(isOpenAt(STORE, paris(9, 59))).toBe(false);
    expect(closedAt(STORE, paris(9, 54))).toBe(true);
    expect(closedAt(STORE, paris(9, 56))).toBe(false); // within 5 min of opening
    expect(closedAt(STORE, paris(19, 33))).toBe(false); // within 5 min of closing
    expect(closedAt(STORE, paris(19, 40))).toBe(true);
    expect(closedAt(STORE, paris(12, 0, 29))).toBe(true); // Sunday: closed all day
    expect(isOpenAt({ timezone: 'UTC' }, paris(3))).toBeUndefined();
    expect(closedAt({ timezone: 'UTC' }, paris(3))).toBe(false);
  });
});

describe('StaffDays', () => {
  it('takes a track of a minute or more that starts while the store is closed for staff, and the rest of the day with it', () => {
    const days = new StaffDays(STORE, OPTIONS);
    expect(days.closeTrack('passer', paris(9, 20), paris(9, 20) + 30_000)).toBeNull(); // 30 s from the pavement
    expect(days.closeTrack('staff', paris(9, 35), paris(12, 5))).toBe('hours'); // in 25 min before opening
    expect(days.closeTrack('staff', paris(12, 50), paris(13, 10))).toBe('hours'); // back from the break
    expect(days.closeTrack('customer', paris(9, 57), paris(10, 20))).toBeNull(); // let in at opening, a clock a little off
    expect(days.closeTrack('staff', paris(10, 0, 31), paris(10, 30, 31))).toBeNull(); // the next day: a visit unless caught again
    expect(days.staffDevices).toBe(0);
  });

  it("adds a device's tracks of the day up: over maxVisitMs in all, this track and the later ones are staff's, the earlier ones stay visits", () => {
    const days = new StaffDays({ timezone: 'Europe/Paris' }, OPTIONS); // hours not known: the day rule alone
    expect(days.closeTrack('staff', paris(10), paris(12))).toBeNull();
    expect(days.closeTrack('staff', paris(12, 45), paris(13, 30))).toBeNull(); // 2 h 45 min in all
    expect(days.closeTrack('staff', paris(14), paris(14, 20))).toBe('day'); // 3 h 05 min
    expect(days.closeTrack('staff', paris(15), paris(15, 2))).toBe('day');
    expect(days.closeTrack('customer', paris(10), paris(11))).toBeNull();
  });

  it('remembers a static device for the rest of its day', () => {
    const days = new StaffDays(STORE, OPTIONS);
    days.markStatic('tablet', paris(14));
    expect(days.closeTrack('tablet', paris(15), paris(15, 10))).toBe('static');
    expect(days.staffDevices).toBe(1);
  });

  it('forgets the days before the one it is told, and comes back from its state as it was', () => {
    const days = new StaffDays(STORE, OPTIONS);
    days.closeTrack('staff', paris(9, 30), paris(11));
    days.closeTrack('customer', paris(11), paris(11, 30));
    days.markStatic('tablet', paris(23, 0, 29));
    const state = days.toState();
    expect(state).toEqual([
      ['staff', '2026-11-30', 90 * MIN, 'hours'],
      ['customer', '2026-11-30', 30 * MIN, null],
      ['tablet', '2026-11-29', 0, 'static'],
    ]);
    const back = StaffDays.fromState(STORE, OPTIONS, JSON.parse(JSON.stringify(state)) as typeof state);
    expect(back.toState()).toEqual(state);
    expect(back.closeTrack('staff', paris(15), paris(15, 5))).toBe('hours');
    back.prune(paris(0, 10, 31)); // 00:10 on 1 December
    expect(back.toState()).toEqual([]);
    expect(StaffDays.fromState(STORE, OPTIONS, undefined).toState()).toEqual([]); // a state written before the rule
  });
});
