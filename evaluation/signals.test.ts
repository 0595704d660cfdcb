import { describe, expect, it } from 'vitest';

import type { QuerySeries } from '../gateway/influx/influx-query.js';
import { readSignals } from './signals.js';

const T0 = 1_750_000_000_000;

describe('readSignals', () => {
  it("reads the counters' entries, sightings in slices of the window and interactions, scoped to the store", async () => {
    const queries: string[] = [];
    const answer = (q: string): QuerySeries[] => {
      if (q.includes('FROM "telemetry"')) return [{ name: 'telemetry', tags: { device: 'counter-door' }, columns: ['time', 'entered'], values: [[0, 12]] }];
      if (q.includes('FROM "sighting"') && q.includes(`time >= ${T0}ms `))
        return [
          {
            name: 'sighting',
            columns: ['time', 'visitor', 'rssi', 'sensor', 'zone', 'source'],
            values: [
              [T0 + 5, 'ibeacon:x:1:1', -70, 'ble-a', 'a', 'ble'],
              [T0 + 6, 'w1', -60, 'wifi-front', 'entrance', 'wifi'],
              [T0 + 7, null, -60, 'wifi-front', 'entrance', 'wifi'], // no visitor: skipped
            ],
          },
        ];
      if (q.includes('FROM "interaction"'))
        return [
          {
            name: 'interaction',
            columns: ['time', 'count', 'beacon', 'touchpoint'],
            values: [
              [T0, 1, 'ibeacon:x:1:1', 'kiosk-1'],
              [T0, 1, null, 'kiosk-1'],
            ],
          },
        ];
      return [];
    };
    const signals = await readSignals(
      {
        query: (q: string) => {
          queries.push(q);
          return Promise.resolve(answer(q));
        },
      },
      "it's",
      T0,
      T0 + 25 * 60_000,
    );
    expect(signals.counterIn).toEqual(new Map([['counter-door', 12]]));
    expect(signals.sightings).toEqual([
      { ts: T0 + 5, visitor: 'ibeacon:x:1:1', rssi: -70, sensor: 'ble-a', zone: 'a', source: 'ble' },
      { ts: T0 + 6, visitor: 'w1', rssi: -60, sensor: 'wifi-front', zone: 'entrance', source: 'wifi' },
    ]);
    expect(signals.interactions).toEqual([{ touchpoint: 'kiosk-1', beacon: 'ibeacon:x:1:1' }, { touchpoint: 'kiosk-1' }]);
    // 25 minutes in 10-minute slices: 3 sighting queries; the store id quoted as a literal
    expect(queries.filter((q) => q.includes('FROM "sighting"'))).toHaveLength(3);
    expect(queries.every((q) => q.includes(`"store" = 'it\\'s'`))).toBe(true);
  });
});
