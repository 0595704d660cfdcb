import { describe, expect, it } from 'vitest';

import { csvCell, metricsCsv } from './metrics-csv.js';
import type { MetricsResponse } from './metrics-reader.js';

const answer: MetricsResponse = {
  store: 'demo-store',
  metric: 'dwell',
  definition: '…',
  from: '2026-01-01T09:00:00.000Z',
  to: '2026-01-01T11:00:00.000Z',
  interval: '1h',
  intervalMs: 3_600_000,
  buckets: 2,
  emptyBuckets: '…',
  fields: [
    { name: 'count', measurement: 'zone_stay', empty: 'zero', description: '' },
    { name: 'mean_dwell_s', measurement: 'zone_stay', empty: 'null', description: '' },
  ],
  series: [
    {
      measurement: 'zone_stay',
      labels: { zone: 'checkout' },
      definition: 'zone-stay/1',
      params: [],
      total: { count: 3, mean_dwell_s: 130 },
      points: [
        { time: '2026-01-01T09:00:00.000Z', values: { count: 3, mean_dwell_s: 130 } },
        { time: '2026-01-01T10:00:00.000Z', values: { count: 0, mean_dwell_s: null } },
      ],
    },
    {
      measurement: 'visit',
      labels: { path: 'entrance > checkout, again' },
      definition: null,
      params: [],
      total: {},
      points: [{ time: '2026-01-01T09:00:00.000Z', values: { count: 1 } }],
    },
  ],
  unavailable: [],
  influxql: [],
};

describe('metricsCsv', () => {
  it('has a header, then one row per series and interval, labels as columns, null as an empty cell', () => {
    expect(metricsCsv(answer).split('\r\n')).toEqual([
      'store,metric,measurement,definition,path,zone,time,count,mean_dwell_s',
      'demo-store,dwell,zone_stay,zone-stay/1,,checkout,2026-01-01T09:00:00.000Z,3,130',
      'demo-store,dwell,zone_stay,zone-stay/1,,checkout,2026-01-01T10:00:00.000Z,0,',
      'demo-store,dwell,visit,,"entrance > checkout, again",,2026-01-01T09:00:00.000Z,1,',
      '',
    ]);
  });

  it('quotes what needs quoting and defuses what a spreadsheet would run as a formula', () => {
    expect([csvCell('a"b'), csvCell('x\ny'), csvCell('=SUM(A1)'), csvCell(-2), csvCell(Number.NaN)]).toEqual(['"a""b"', '"x\ny"', "'=SUM(A1)", '-2', '']);
  });
});
