import { describe, expect, it } from 'vitest';

import { DEMO_STORE, parseConfig } from '../../config/index.js';
import type { QuerySeries } from '../influx/influx-query.js';
import { planQueries } from './metric-queries.js';
import { validateMetricsRequest, type RawMetricsRequest } from './metrics-request.js';
import { shapeSeries, type PartResult } from './result-shaping.js';

const STORES = parseConfig({ stores: [DEMO_STORE] }).stores;
const FROM = Date.UTC(2026, 0, 1, 9);
const H = 3_600_000;

function request(raw: Partial<RawMetricsRequest>) {
  return validateMetricsRequest({ store: 'demo-store', metric: 'visits', from: String(FROM), to: String(FROM + 3 * H), interval: '1h', ...raw }, STORES);
}

function series(name: string, tags: Record<string, string>, columns: string[], values: unknown[][]): QuerySeries {
  return { name, tags, columns, values };
}

const iso = (hour: number) => new Date(FROM + hour * H).toISOString();

describe('shaping InfluxDB answers into series', () => {
  it('fills every interval (counts 0, means null), keeps two definitions apart, with their params and totals, and derives the repeat visits', () => {
    const req = request({ metric: 'visits' });
    const [part] = planQueries(req).parts;
    const cols = ['time', 'count', 'mean_duration_s', 'visitors'];
    const result: PartResult = {
      part: part!,
      bucketed: [
        series('visit', { method: 'ble', definition: 'visit-ble/1' }, cols, [[FROM, 2, 90, 1]]),
        series('visit', { method: 'ble', definition: 'visit-ble/2' }, cols, [[FROM + 2 * H, 1, 30, 1]]),
      ],
      total: [
        series('visit', { method: 'ble', definition: 'visit-ble/1' }, cols, [[FROM, 2, 90, 1]]),
        series('visit', { method: 'ble', definition: 'visit-ble/2' }, cols, [[FROM, 1, 30, 1]]),
      ],
      params: [
        series(
          'visit',
          { method: 'ble', definition: 'visit-ble/1' },
          ['time', 'distinct'],
          [
            [FROM, 'step=5s'],
            [FROM, 'step=10s'],
          ],
        ),
        series('visit', { method: 'ble', definition: 'visit-ble/2' }, ['time', 'distinct'], [[FROM, 'engine=hmm']]),
      ],
    };
    expect(shapeSeries(req, [result])).toEqual([
      {
        measurement: 'visit',
        labels: { method: 'ble' },
        definition: 'visit-ble/1',
        params: ['step=10s', 'step=5s'],
        total: { count: 2, mean_duration_s: 90, visitors: 1, repeat_visits: 1 },
        points: [
          { time: iso(0), values: { count: 2, mean_duration_s: 90, visitors: 1, repeat_visits: 1 } },
          { time: iso(1), values: { count: 0, mean_duration_s: null, visitors: 0, repeat_visits: 0 } },
          { time: iso(2), values: { count: 0, mean_duration_s: null, visitors: 0, repeat_visits: 0 } },
        ],
      },
      {
        measurement: 'visit',
        labels: { method: 'ble' },
        definition: 'visit-ble/2',
        params: ['engine=hmm'],
        total: { count: 1, mean_duration_s: 30, visitors: 1, repeat_visits: 0 },
        points: [
          { time: iso(0), values: { count: 0, mean_duration_s: null, visitors: 0, repeat_visits: 0 } },
          { time: iso(1), values: { count: 0, mean_duration_s: null, visitors: 0, repeat_visits: 0 } },
          { time: iso(2), values: { count: 1, mean_duration_s: 30, visitors: 1, repeat_visits: 0 } },
        ],
      },
    ]);
  });

  it('merges the parts of one group (exposures and linked ones) and derives the rate; raw interactions stay a series of their own', () => {
    const req = request({ metric: 'engagement', interval: '3h' });
    const [exposures, linked, interactions] = planQueries(req).parts;
    const tags = { touchpoint: 'kiosk-1', definition: 'exposure-ble/1' };
    const results: PartResult[] = [
      {
        part: exposures!,
        bucketed: [
          series('exposure', tags, ['time', 'exposures'], [[FROM, 4]]),
          series('exposure', { ...tags, touchpoint: 'mirror-1' }, ['time', 'exposures'], [[FROM, 2]]),
        ],
        total: [
          series('exposure', tags, ['time', 'exposures'], [[FROM, 4]]),
          series('exposure', { ...tags, touchpoint: 'mirror-1' }, ['time', 'exposures'], [[FROM, 2]]),
        ],
        params: [series('exposure', tags, ['time', 'distinct'], [[FROM, 'minExposure=10s']])],
      },
      {
        part: linked!,
        bucketed: [series('exposure', tags, ['time', 'linked_interactions'], [[FROM, 1]])],
        total: [series('exposure', tags, ['time', 'linked_interactions'], [[FROM, 1]])],
        params: [series('exposure', tags, ['time', 'distinct'], [[FROM, 'minExposure=10s']])],
      },
      {
        part: interactions!,
        bucketed: [series('interaction', { touchpoint: 'qr-shoes' }, ['time', 'interactions', 'beacon_interactions'], [[FROM, 7, null]])],
        total: [series('interaction', { touchpoint: 'qr-shoes' }, ['time', 'interactions', 'beacon_interactions'], [[FROM, 7, null]])],
        params: [],
      },
    ];
    const shaped = shapeSeries(req, results);
    expect(shaped.map((s) => [s.measurement, s.labels, s.definition, s.params, s.total])).toEqual([
      ['exposure', { touchpoint: 'kiosk-1' }, 'exposure-ble/1', ['minExposure=10s'], { exposures: 4, linked_interactions: 1, engagement_rate: 0.25 }],
      ['exposure', { touchpoint: 'mirror-1' }, 'exposure-ble/1', [], { exposures: 2, linked_interactions: 0, engagement_rate: 0 }],
      // no interaction named a beacon: COUNT gives no value, which a count answers as 0
      ['interaction', { touchpoint: 'qr-shoes' }, null, [], { interactions: 7, beacon_interactions: 0 }],
    ]);
    expect(shaped[0]?.points).toEqual([{ time: iso(0), values: { exposures: 4, linked_interactions: 1, engagement_rate: 0.25 } }]);
  });

  it('answers null for a rate or mean of nothing, never NaN, and ignores rows off the interval grid', () => {
    const req = request({ metric: 'engagement' });
    const [exposures, linked] = planQueries(req).parts;
    const tags = { touchpoint: 'kiosk-1', definition: 'exposure-ble/1' };
    const shaped = shapeSeries(req, [
      {
        part: exposures!,
        bucketed: [
          series(
            'exposure',
            tags,
            ['time', 'exposures'],
            [
              [FROM + H, 3],
              [FROM + 30_000, 9],
              [FROM + 5 * H, 9],
            ],
          ),
        ],
        total: [],
        params: [],
      },
      { part: linked!, bucketed: [series('exposure', tags, ['time', 'linked_interactions'], [[FROM + H, Number.NaN]])], total: [], params: [] },
    ]);
    expect(shaped[0]?.points.map((p) => p.values)).toEqual([
      { exposures: 0, linked_interactions: 0, engagement_rate: null },
      { exposures: 3, linked_interactions: 0, engagement_rate: 0 },
      { exposures: 0, linked_interactions: 0, engagement_rate: null },
    ]);
    expect(shaped[0]?.total).toEqual({ exposures: 0, linked_interactions: 0, engagement_rate: null });
  });

  it('answers no series when InfluxDB has no data', () => {
    const req = request({ metric: 'dwell' });
    expect(shapeSeries(req, [{ part: planQueries(req).parts[0]!, bucketed: [], total: [], params: [] }])).toEqual([]);
  });
});
