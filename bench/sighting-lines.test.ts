import { Point } from '@influxdata/influxdb-client';
import { describe, expect, it } from 'vitest';

import { SightingLines } from './sighting-lines.js';
import { beaconId, BENCH_STORE_ID } from './traffic.js';

const START_MS = 1_790_000_000_000;

describe('SightingLines', () => {
  it('writes the line the gateway builds with the client Point for the same sighting', () => {
    const lines = new SightingLines([{ id: 'bench-p0-s0', zone: 'entrance' }], START_MS);
    const expected = new Point('sighting')
      .tag('store', BENCH_STORE_ID)
      .tag('zone', 'entrance')
      .tag('sensor', 'bench-p0-s0')
      .tag('source', 'ble')
      .tag('id_type', 'ibeacon')
      .intField('rssi', -40)
      .stringField('visitor', beaconId(0))
      .intField('tx', -59)
      .timestamp(`${START_MS}000000`)
      .toLineProtocol();
    expect(lines.batch(1)).toBe(expected);
  });

  it('gives every point its own timestamp and rotates over the sensors', () => {
    const lines = new SightingLines(
      [
        { id: 's-a', zone: 'z1' },
        { id: 's-b', zone: 'z2' },
      ],
      START_MS,
    );
    const batch = lines.batch(2_001).split('\n');
    const stamps = batch.map((line) => line.slice(line.lastIndexOf(' ') + 1));
    expect(new Set(stamps).size).toBe(2_001);
    expect(stamps[1]).toBe(`${START_MS}001000`);
    expect(stamps[2_000]).toBe(`${START_MS + 2}000000`);
    expect(batch[1]).toContain('sensor=s-b');
    expect(lines.count).toBe(2_001);
  });

  it('refuses ids that would need escaping', () => {
    expect(() => new SightingLines([{ id: 'a b', zone: 'z' }], START_MS)).toThrow(/escaping/);
  });
});
