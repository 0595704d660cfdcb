import { describe, expect, it } from 'vitest';

import type { DeviceReading } from './bluez-values.js';
import { toAdvertisement } from './bluez-values.js';
import { DeviceTracker } from './device-tracker.js';
import { RssiWindow } from './rssi-window.js';

const EDDYSTONE = '0000feaa-0000-1000-8000-00805f9b34fb';
const UID = [0, 238, 12, 170, 242, 74, 177, 160, 195, 52, 64, 192, 10, 11, 12, 13, 14, 15, 0, 0];
const TLM = [32, 0, 11, 134, 23, 128, 0, 18, 214, 135, 0, 13, 47, 5];
const IBEACON = [2, 21, 40, 225, 56, 148, 162, 173, 73, 179, 157, 3, 149, 196, 59, 91, 186, 124, 18, 52, 86, 120, 197];

function reading(rssi: number | undefined, md: Record<string, number[]> = {}, sd: Record<string, number[]> = {}): DeviceReading {
  return { address: 'C0:00:5E:00:53:B1', ...(rssi === undefined ? {} : { rssi }), advertisement: toAdvertisement(md, sd) };
}

describe('RssiWindow', () => {
  it('gives the median of the samples inside the window and forgets older ones', () => {
    const w = new RssiWindow(3000);
    w.add(0, -90);
    w.add(1000, -60);
    w.add(2000, -62);
    w.add(3000, -61);
    expect(w.median(3000)).toBe(-61); // four samples: (-62 + -61) / 2, rounded
    expect(w.median(3500)).toBe(-61); // the -90 of t=0 is out: -62 -61 -60
    w.clear();
    expect(w.median(3500)).toBeUndefined();
  });
});

describe('DeviceTracker', () => {
  const options = { smoothingWindowMs: 3000, departedAfterMs: 5000 };

  it('reports a device from its first poll with its RSSI', () => {
    const t = new DeviceTracker(options);
    t.observe('a', reading(-63), 0);
    expect(t.present(0)).toEqual([{ key: 'a', address: 'C0:00:5E:00:53:B1', rssi: -63, lastUpdateAt: 0 }]);
  });

  it('drops a device whose RSSI and data stay frozen longer than departedAfterMs, and brings it back when it changes', () => {
    const t = new DeviceTracker(options);
    for (let at = 0; at <= 5000; at += 1000) t.observe('a', reading(-63), at);
    expect(t.present(5000)).toHaveLength(1);
    t.observe('a', reading(-63), 6000);
    expect(t.present(6000)).toEqual([]);
    t.observe('a', reading(-80), 7000);
    // the frozen samples of its absence are cleared: the new reading alone
    expect(t.present(7000).map((d) => d.rssi)).toEqual([-80]);
  });

  it('counts a change of advertising data as an update even when RSSI is steady', () => {
    const t = new DeviceTracker(options);
    t.observe('a', reading(-70, {}, { [EDDYSTONE]: UID }), 0);
    t.observe('a', reading(-70, {}, { [EDDYSTONE]: TLM }), 4000);
    t.observe('a', reading(-70, {}, { [EDDYSTONE]: TLM }), 8000);
    expect(t.present(8000)).toHaveLength(1);
  });

  it('does not report a device without a current RSSI', () => {
    const t = new DeviceTracker(options);
    t.observe('a', reading(undefined, { 76: IBEACON }), 0);
    expect(t.present(0)).toEqual([]);
  });

  it('smooths RSSI with the median of the window', () => {
    const t = new DeviceTracker(options);
    t.observe('a', reading(-60), 0);
    t.observe('a', reading(-95), 1000);
    t.observe('a', reading(-62), 2000);
    expect(t.present(2000)[0]?.rssi).toBe(-62);
    t.observe('a', reading(-50), 3000);
    t.observe('a', reading(-51), 4000);
    t.observe('a', reading(-52), 5000);
    expect(t.present(5000)[0]?.rssi).toBe(-51);
  });

  it("keeps an Eddystone beacon's UID while BlueZ shows its TLM frame, and parses each new payload once", () => {
    const t = new DeviceTracker(options);
    expect(t.observe('a', reading(-70, {}, { [EDDYSTONE]: UID }), 0).newFrames).toHaveLength(1);
    expect(t.observe('a', reading(-71, {}, { [EDDYSTONE]: UID }), 1000).newFrames).toEqual([]);
    const tlm = t.observe('a', reading(-71, {}, { [EDDYSTONE]: TLM }), 2000).newFrames;
    expect(tlm.map((r) => r.ok && r.frame.format)).toEqual(['eddystone-tlm']);
    expect(t.identityOf('a')).toMatchObject({ format: 'eddystone-uid', namespaceId: '0caaf24ab1a0c33440c0', instanceId: '0a0b0c0d0e0f' });
  });

  it('forgets a device BlueZ removed', () => {
    const t = new DeviceTracker(options);
    t.observe('a', reading(-63), 0);
    t.forget('a');
    expect(t.present(0)).toEqual([]);
    expect(t.size).toBe(0);
  });
});
