import { describe, expect, it } from 'vitest';

import { DEMO_STORE, parseConfig } from '../../config/index.js';
import type { QuerySeries } from '../influx/influx-query.js';
import { validateMetricsRequest } from './metrics-request.js';
import { MAX_PATHS, pathSeries, pathsStatement } from './visit-paths.js';

const STORES = parseConfig({ stores: [DEMO_STORE] }).stores;
const FROM = Date.UTC(2026, 0, 1, 9);
const HOUR = 3_600_000;
const req = validateMetricsRequest({ store: 'demo-store', metric: 'paths', from: String(FROM), to: String(FROM + 2 * HOUR), interval: '1h' }, STORES);

const visits = (definition: string, rows: Array<[offsetMs: number, path: string]>): QuerySeries => ({
  name: 'visit',
  tags: { definition },
  columns: ['time', 'path', 'params'],
  values: rows.map(([t, path]) => [FROM + t, path, `def=${definition}`]),
});

describe('visit paths', () => {
  it('reads the BLE visits of the range with their path, per definition', () => {
    expect(pathsStatement(req)).toBe(
      `SELECT "path", "params" FROM "visit" WHERE "store" = 'demo-store' AND "method" = 'ble' AND time >= ${FROM}ms AND time < ${FROM + 2 * HOUR}ms GROUP BY "definition"`,
    );
  });

  it('ranks the paths by count, then name, with their count and share per interval and over the range, each definition apart', () => {
    const series = pathSeries(req, [
      visits('visit-ble/3', [
        [0, 'a > b'],
        [1, 'a > c'],
        [HOUR, 'a > b'],
        [HOUR + 1, 'a'],
      ]),
      visits('visit-ble/2', [[0, 'z']]),
    ]);
    expect(series.map((s) => [s.definition, s.labels['path'], s.total, s.points.map((p) => p.values)])).toEqual([
      [
        'visit-ble/2',
        'z',
        { count: 1, share: 1 },
        [
          { count: 1, share: 1 },
          { count: 0, share: null },
        ],
      ],
      [
        'visit-ble/3',
        'a > b',
        { count: 2, share: 0.5 },
        [
          { count: 1, share: 0.5 },
          { count: 1, share: 0.5 },
        ],
      ],
      [
        'visit-ble/3',
        'a',
        { count: 1, share: 0.25 },
        [
          { count: 0, share: 0 },
          { count: 1, share: 0.5 },
        ],
      ],
      [
        'visit-ble/3',
        'a > c',
        { count: 1, share: 0.25 },
        [
          { count: 1, share: 0.5 },
          { count: 0, share: 0 },
        ],
      ],
    ]);
  });

  it(`keeps the top ${MAX_PATHS}, the shares still of all visits`, () => {
    const rows = Array.from({ length: 30 }, (_, i): [number, string] => [i, `p${String(i).padStart(2, '0')}`]);
    const series = pathSeries(req, [visits('visit-ble/3', rows)]);
    expect(series).toHaveLength(MAX_PATHS);
    expect(series[0]?.total).toEqual({ count: 1, share: 1 / 30 });
  });
});
