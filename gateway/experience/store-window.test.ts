import { describe, expect, it } from 'vitest';

import { StoreWindow, type StoreWindowOptions } from './store-window.js';

const WEEK = { mon: 'closed', tue: 'closed', wed: 'closed', thu: 'closed', fri: 'closed', sat: 'closed', sun: 'closed' };

const MIN = 60_000;
const OPTIONS: StoreWindowOptions = { finalizeEveryMs: 5 * MIN, maxGapMs: 15 * MIN, maxSourceLagMs: 30 * MIN, lateToleranceMs: MIN, maxVisitMs: 180 * MIN };
const T0 = Date.UTC(2026, 10, 30, 10);

/** A device heard by scanner `sensor` every 5 s from `from` to `to` (minutes after T0). */
function hear(window: StoreWindow, device: string, from: number, to: number, sensor = 'ble-a'): void {
  for (let ts = T0 + from * MIN; ts <= T0 + to * MIN; ts += 5000) {
    window.heard(sensor, ts, true);
    window.addReport(sensor, ts);
    expect(window.addSighting({ ts, sensor, device, rssi: -70 })).toBeUndefined();
  }
}

/** Processes every boundary the watermark allows; returns the devices closed at each. */
function drain(window: StoreWindow): Array<{ at: number; devices: string[]; statics: string[]; staff: string[] }> {
  const out = [];
  for (let b = window.nextBoundary(); b !== null; b = window.nextBoundary()) {
    const closed = window.close(b);
    out.push({ at: (b - T0) / MIN, devices: closed.devices, statics: closed.statics, staff: closed.staff });
  }
  return out;
}

describe('StoreWindow', () => {
  it('holds the watermark at the slowest reporting source, not at touchpoints, and lets a source go after maxSourceLagMs', () => {
    const window = new StoreWindow(OPTIONS);
    window.heard('ble-a', T0 + 10 * MIN, true);
    window.heard('ble-b', T0 + 4 * MIN, true);
    window.heard('kiosk-1', T0, false); // sends only when used: does not hold it back
    expect(window.watermark()).toBe(T0 + 4 * MIN);
    window.heard('ble-a', T0 + 40 * MIN, true); // ble-b is now 36 minutes behind: left out
    expect(window.watermark()).toBe(T0 + 40 * MIN);
  });

  it('processes a boundary only once the watermark is the late tolerance past it', () => {
    const window = new StoreWindow(OPTIONS);
    window.heard('ble-a', T0, true);
    window.heard('ble-a', T0 + 5 * MIN + 59_999, true);
    expect(window.nextBoundary()).toBeNull();
    window.heard('ble-a', T0 + 6 * MIN, true);
    expect(window.nextBoundary()).toBe(T0 + 5 * MIN);
  });

  it('closes a device unheard for maxGapMs before a boundary; what it sent after the boundary starts its next visit', () => {
    const window = new StoreWindow(OPTIONS);
    hear(window, 'phone', 0, 10);
    hear(window, 'phone', 32, 33); // stamped after the boundary at 30 and in before it is processed
    hear(window, 'other', 0, 50, 'ble-b');
    const closes = drain(window);
    expect(closes.find((c) => c.devices.includes('phone'))?.at).toBe(30); // last heard at 10, + 15 min gap → boundary 30
    expect(window.openDevices).toBe(2); // the phone again (from 32) and the other
    const state = window.toState();
    expect(state.ble.filter(([, , device]) => device === 'phone').every(([ts]) => ts >= T0 + 30 * MIN)).toBe(true);
  });

  it('refuses a sighting stamped before a boundary already processed, and says why', () => {
    const window = new StoreWindow(OPTIONS);
    hear(window, 'phone', 0, 20);
    drain(window);
    expect(window.addSighting({ ts: T0 + 5 * MIN, sensor: 'ble-a', device: 'phone', rssi: -60 })).toBe('late_closed');
    expect(window.addInteraction({ ts: T0 + 5 * MIN, touchpoint: 'kiosk-1', device: 'phone' })).toBe(false);
    expect(window.addInteraction({ ts: T0 + 20 * MIN, touchpoint: 'kiosk-1', device: 'phone' })).toBe(true);
  });

  it('holds at most maxOpenDevices open: a flood of new ids is dropped and reported with the next boundary, known devices still heard', () => {
    const window = new StoreWindow({ ...OPTIONS, maxOpenDevices: 3 });
    hear(window, 'phone', 0, 1);
    window.heard('ble-a', T0 + 2 * MIN, true);
    const flood = Array.from({ length: 50 }, (_, i) => window.addSighting({ ts: T0 + 2 * MIN, sensor: 'ble-a', device: `dev:spam${i}`, rssi: -80 }));
    expect(flood.filter((r) => r === undefined)).toHaveLength(2); // two more fit beside the phone
    expect(flood.filter((r) => r === 'window_full')).toHaveLength(48);
    expect(window.openDevices).toBe(3);
    // the phone already open is still heard
    expect(window.addSighting({ ts: T0 + 2 * MIN, sensor: 'ble-a', device: 'phone', rssi: -60 })).toBeUndefined();
    hear(window, 'phone', 3, 40);
    const first = window.close(window.nextBoundary() as number);
    expect(first.droppedFull).toBe(48);
    // once the flood's devices have closed there is room again, and the count starts over
    drain(window);
    expect(window.addSighting({ ts: T0 + 41 * MIN, sensor: 'ble-a', device: 'new-phone', rssi: -60 })).toBeUndefined();
  });

  it('classes a device heard longer than maxVisitMs as static, forgets it once it has been gone maxGapMs, staff for the rest of that day, a visitor again the next', () => {
    const window = new StoreWindow({ ...OPTIONS, maxVisitMs: 30 * MIN });
    hear(window, 'left-behind', 0, 40);
    hear(window, 'clock', 0, 120, 'ble-b');
    const closes = drain(window);
    expect(closes.flatMap((c) => c.statics)).toEqual(['clock', 'left-behind']);
    expect(closes.flatMap((c) => c.devices)).not.toContain('left-behind');
    expect(window.staticDevices).toBe(1); // the clock; the phone was collected at 40
    hear(window, 'left-behind', 130, 135); // back the same day: staff's (or equipment), not a visit
    hear(window, 'clock', 120, 160, 'ble-b');
    window.heard('ble-a', T0 + 160 * MIN, true); // its scanner reports on (an empty batch, a status)
    const again = drain(window);
    expect(again.flatMap((c) => c.devices)).not.toContain('left-behind');
    expect(again.flatMap((c) => c.staff)).toEqual(['left-behind']);
    expect(window.staffDevices).toBe(2);
    hear(window, 'left-behind', 24 * 60, 24 * 60 + 5); // the next day: a visit again (the day before forgotten)
    window.heard('ble-a', T0 + (24 * 60 + 30) * MIN, true);
    window.heard('ble-b', T0 + (24 * 60 + 30) * MIN, true);
    expect(drain(window).flatMap((c) => c.devices)).toEqual(['left-behind']);
    expect(window.toState().staffDays).toEqual([['left-behind', '2026-12-01', 5 * MIN, null]]);
  });

  it("takes a track after a break for staff's once the device's day adds up to more than maxVisitMs; the track before it stays a visit", () => {
    const window = new StoreWindow(OPTIONS);
    hear(window, 'staff-phone', 0, 120); // 2 h on the floor: a visit (nothing says otherwise yet)
    hear(window, 'staff-phone', 165, 235); // back from a 45 min break: 3 h 10 min in all today
    hear(window, 'customer', 165, 235, 'ble-b'); // the same 70 min as the staff member's second stint
    window.heard('ble-a', T0 + 260 * MIN, true);
    window.heard('ble-b', T0 + 260 * MIN, true);
    const closes = drain(window);
    expect(closes.find((c) => c.at === 140)?.devices).toEqual(['staff-phone']);
    expect(closes.find((c) => c.at === 255)).toMatchObject({ devices: ['customer'], staff: ['staff-phone'] });
  });

  it('takes a device first heard while the store is closed for staff for the rest of the day (not a passer-by heard under a minute)', () => {
    // the demo store's Monday: 10:00-19:30 in Paris, 09:00-18:30 UTC; T0 = 10:00 UTC (11:00 in Paris)
    const window = new StoreWindow(OPTIONS, { timezone: 'Europe/Paris', openingHours: { ...WEEK, mon: '10:00-19:30' } });
    hear(window, 'early', -95, -94); // 09:25 in Paris: in before the doors open
    hear(window, 'street', -100, -99.5); // heard for 30 s from the pavement: a passer-by, not staff
    hear(window, 'first-customer', -62, -61); // 09:58 in Paris: within 5 min of opening, a customer let in
    hear(window, 'early', 0, 20, 'ble-b'); // back later (coffee): still staff
    hear(window, 'street', 10, 20, 'ble-b'); // the passer-by comes in: a visit
    window.heard('ble-a', T0 + 60 * MIN, true);
    window.heard('ble-b', T0 + 60 * MIN, true);
    const closes = drain(window);
    expect(closes.flatMap((c) => c.devices).sort()).toEqual(['first-customer', 'street', 'street']);
    expect(closes.flatMap((c) => c.staff)).toEqual(['early', 'early']);
  });

  it('decides the same after a restart from its state, the staff memory included, as without one', () => {
    const run = (restartAt: number | null) => {
      let window = new StoreWindow(OPTIONS);
      const decisions: string[] = [];
      const feed = (device: string, from: number, to: number) => hear(window, device, from, to);
      feed('staff-phone', 0, 120);
      feed('staff-phone', 165, 175);
      for (let b = window.nextBoundary(); b !== null; b = window.nextBoundary()) {
        const closed = window.close(b);
        decisions.push(...closed.devices.map((d) => `${(b - T0) / MIN} visit ${d}`), ...closed.staff.map((d) => `${(b - T0) / MIN} staff ${d}`));
        if (b === restartAt) window = StoreWindow.fromState(OPTIONS, JSON.parse(JSON.stringify(window.toState())) as ReturnType<StoreWindow['toState']>);
      }
      feed('staff-phone', 200, 260); // after the break: 3 h 10 min today
      window.heard('ble-a', T0 + 300 * MIN, true);
      for (let b = window.nextBoundary(); b !== null; b = window.nextBoundary()) {
        const closed = window.close(b);
        decisions.push(...closed.devices.map((d) => `${(b - T0) / MIN} visit ${d}`), ...closed.staff.map((d) => `${(b - T0) / MIN} staff ${d}`));
      }
      return decisions;
    };
    const straight = run(null);
    expect(straight).toEqual(['140 visit staff-phone', '195 visit staff-phone', '280 staff staff-phone']);
    expect(run(150)).toEqual(straight);
  });

  it("hands out every scanner's reports over a closed device's time (other devices' and empty ones too) and forgets those no open device needs", () => {
    const window = new StoreWindow(OPTIONS);
    hear(window, 'phone', 10, 12);
    hear(window, 'beacon', 0, 40, 'ble-b'); // another device, heard by another scanner
    for (let ts = T0; ts <= T0 + 40 * MIN; ts += 5000) window.addReport('ble-c', ts); // a scanner that heard nothing
    const closed = window.close(T0 + 30 * MIN); // the phone, last heard at 12, closes at 30
    expect(closed.devices).toEqual(['phone']);
    const from = T0 + 10 * MIN;
    const to = T0 + 30 * MIN;
    const expected = (sensor: string) => (sensor === 'ble-a' ? 2 * 12 + 1 : (to - from) / 5000);
    for (const sensor of ['ble-a', 'ble-b', 'ble-c']) {
      const stamps = closed.reports.filter((r) => r.sensor === sensor).map((r) => r.ts);
      expect(stamps.length, sensor).toBe(expected(sensor));
      expect(Math.min(...stamps), sensor).toBe(from);
      expect(Math.max(...stamps), sensor).toBeLessThan(to);
    }
    // kept: from the beacon's first sighting (still open), so not before T0; gone: nothing older
    const kept = window.toState().reports ?? [];
    expect(Math.min(...kept.flatMap(([, stamps]) => stamps))).toBe(T0);
    // a report stamped before the boundary, arriving after it, is late: not kept
    window.addReport('ble-c', T0 + 29 * MIN + 2500);
    expect(window.toState().reports?.find(([sensor]) => sensor === 'ble-c')?.[1]).not.toContain(T0 + 29 * MIN + 2500);
    // once the beacon closes, its reports are no longer needed beyond maxGap before the boundary
    window.close(T0 + 60 * MIN);
    const left = (window.toState().reports ?? []).flatMap(([, stamps]) => stamps);
    expect(Math.min(...left)).toBeGreaterThanOrEqual(T0 + 45 * MIN);
  });

  it('comes back from its state as it was', () => {
    const window = new StoreWindow(OPTIONS);
    hear(window, 'phone', 0, 12);
    hear(window, 'static', 0, 8, 'ble-b');
    window.addInteraction({ ts: T0 + 3 * MIN, touchpoint: 'kiosk-1', device: 'phone' });
    drain(window);
    window.occupancy.set(T0, new Map([['entrance', 2]]));
    const state = window.toState();
    expect(StoreWindow.fromState(OPTIONS, JSON.parse(JSON.stringify(state)) as typeof state).toState()).toEqual(state);
  });

  it('makes occupancy final up to the earliest open device, at most occupancyHold behind the boundary', () => {
    const window = new StoreWindow(OPTIONS);
    hear(window, 'early', 0, 100);
    hear(window, 'late', 50, 100, 'ble-b');
    window.close(T0 + 60 * MIN);
    expect(window.openFrom(2 * MIN, 30 * MIN)).toBe(T0 + 48 * MIN); // 'early' opened 60 min ago: no longer holds it; 'late' does, with its 2 min lead-in
    expect(window.openFrom(2 * MIN, 120 * MIN)).toBe(T0 - 2 * MIN);
  });
});
