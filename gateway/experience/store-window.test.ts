import { describe, expect, it } from 'vitest';

import { StoreWindow, type StoreWindowOptions } from './store-window.js';

const MIN = 60_000;
const OPTIONS: StoreWindowOptions = { finalizeEveryMs: 5 * MIN, maxGapMs: 15 * MIN, maxSourceLagMs: 30 * MIN, lateToleranceMs: MIN, maxVisitMs: 180 * MIN };
const T0 = Date.UTC(2026, 10, 30, 10);

/** A device heard by scanner `sensor` every 5 s from `from` to `to` (minutes after T0). */
function hear(window: StoreWindow, device: string, from: number, to: number, sensor = 'ble-a'): void {
  for (let ts = T0 + from * MIN; ts <= T0 + to * MIN; ts += 5000) {
    window.heard(sensor, ts, true);
    expect(window.addSighting({ ts, sensor, device, rssi: -70 })).toBeUndefined();
  }
}

/** Processes every boundary the watermark allows; returns the devices closed at each. */
function drain(window: StoreWindow): Array<{ at: number; devices: string[]; statics: string[] }> {
  const out = [];
  for (let b = window.nextBoundary(); b !== null; b = window.nextBoundary()) {
    const closed = window.close(b);
    out.push({ at: (b - T0) / MIN, devices: closed.devices, statics: closed.statics });
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

  it('classes a device heard longer than maxVisitMs as static, forgets it once it has been gone maxGapMs, and then counts it again', () => {
    const window = new StoreWindow({ ...OPTIONS, maxVisitMs: 30 * MIN });
    hear(window, 'left-behind', 0, 40);
    hear(window, 'clock', 0, 120, 'ble-b');
    const closes = drain(window);
    expect(closes.flatMap((c) => c.statics)).toEqual(['clock', 'left-behind']);
    expect(closes.flatMap((c) => c.devices)).not.toContain('left-behind');
    expect(window.staticDevices).toBe(1); // the clock; the phone was collected at 40
    hear(window, 'left-behind', 130, 135); // its owner came back with it: a visit again
    hear(window, 'clock', 120, 160, 'ble-b');
    window.heard('ble-a', T0 + 160 * MIN, true); // its scanner reports on (an empty batch, a status)
    expect(drain(window).flatMap((c) => c.devices)).toContain('left-behind');
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
