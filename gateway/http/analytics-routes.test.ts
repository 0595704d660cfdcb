import { describe, expect, it, onTestFinished } from 'vitest';

import type { QuerySeries } from '../influx/influx-query.js';
import { InfluxQueryError } from '../influx/influx-errors.js';
import { buildTestApi, type TestApi } from './http-api.fixtures.js';

const FROM = '2026-01-01T09:00:00.000Z';
const FROM_MS = Date.parse(FROM);

/** A test API whose InfluxDB answers `answer(statement)` and records what it was asked. */
async function api(answer: (influxql: string) => QuerySeries[] | Error = () => []): Promise<TestApi & { asked: string[] }> {
  const asked: string[] = [];
  const built = await buildTestApi({
    influxQuery: {
      query: (influxql) => {
        asked.push(influxql);
        const result = answer(influxql);
        return result instanceof Error ? Promise.reject(result) : Promise.resolve(result);
      },
    },
  });
  onTestFinished(() => built.close());
  return Object.assign(built, { asked });
}

const url = (query: string, store = 'demo-store') => `/api/v1/stores/${store}/metrics?${query}`;

describe('GET /api/v1/stores/{store}/metrics', () => {
  it('answers dwell per zone and interval with its definition, fields, the empty-interval rule and the InfluxQL run', async () => {
    const t = await api((q) =>
      q.startsWith('SELECT DISTINCT')
        ? [{ name: 'zone_stay', tags: { zone: 'checkout', definition: 'zone-stay/1' }, columns: ['time', 'distinct'], values: [[FROM_MS, 'passing=30s']] }]
        : [
            {
              name: 'zone_stay',
              tags: { zone: 'checkout', definition: 'zone-stay/1' },
              columns: ['time', 'count', 'mean_dwell_s', 'median_dwell_s'],
              values: [[FROM_MS, 2, 45, 45]],
            },
          ],
    );
    const res = await t.inject({ method: 'GET', url: url(`metric=dwell&from=${FROM}&to=2026-01-01T09:10:00Z&interval=5m&zone=checkout`) });
    expect(res.statusCode).toBe(200);
    const body = res.json<Record<string, unknown>>();
    expect(body).toMatchObject({
      store: 'demo-store',
      metric: 'dwell',
      from: FROM,
      to: '2026-01-01T09:10:00.000Z',
      interval: '5m',
      intervalMs: 300_000,
      buckets: 2,
      unavailable: [],
      series: [
        {
          measurement: 'zone_stay',
          labels: { zone: 'checkout' },
          definition: 'zone-stay/1',
          params: ['passing=30s'],
          total: { count: 2, mean_dwell_s: 45, median_dwell_s: 45 },
          points: [
            { time: FROM, values: { count: 2, mean_dwell_s: 45, median_dwell_s: 45 } },
            { time: '2026-01-01T09:05:00.000Z', values: { count: 0, mean_dwell_s: null, median_dwell_s: null } },
          ],
        },
      ],
    });
    expect(body['definition']).toMatch(/^Time visitors stayed in a zone/);
    expect(body['emptyBuckets']).toMatch(/counts and sums 0 and means, medians, maxima and rates null/);
    expect((body['fields'] as Array<{ name: string; empty: string }>).map((f) => [f.name, f.empty])).toEqual([
      ['count', 'zero'],
      ['mean_dwell_s', 'null'],
      ['median_dwell_s', 'null'],
    ]);
    expect(body['influxql']).toEqual(t.asked);
    expect(t.asked).toHaveLength(3);
  });

  it('lists a method without data (BLE, wifi visits) under unavailable instead of a zero', async () => {
    const t = await api((q) =>
      q.includes('FROM "telemetry"') && !q.startsWith('SELECT DISTINCT')
        ? [{ name: 'telemetry', columns: ['time', 'count', 'reports'], values: [[FROM_MS, 12, 60]] }]
        : [],
    );
    const res = await t.inject({ method: 'GET', url: url(`metric=footfall&from=${FROM_MS}&to=${FROM_MS + 3_600_000}&interval=1h`) });
    expect(res.statusCode).toBe(200);
    const body = res.json<{
      series: Array<{ labels: Record<string, string>; definition: string | null; total: Record<string, number> }>;
      unavailable: Array<{ labels: Record<string, string>; reason: string }>;
    }>();
    expect(body.series.map((s) => [s.labels, s.definition, s.total['count']])).toEqual([
      [{ method: 'counter' }, null, 12],
      [{ method: 'fused' }, 'footfall-fused/1', Math.round((12 / (247 / 263)) * 10) / 10],
    ]);
    expect(body.unavailable.map((u) => [u.labels['method'], u.reason])).toEqual([
      ['ble', 'no visit points for the store in the range'],
      ['wifi', 'no wifi_visit points for the store in the range'],
    ]);
  });

  it.each([
    [
      'an unknown store',
      url('metric=visits&from=0&to=1000&interval=1s', 'nowhere'),
      404,
      'SL_ERR_METRICS_STORE_UNKNOWN',
      /unknown store 'nowhere' \(stores: demo-store\)/,
    ],
    ['an unknown zone', url('metric=occupancy&from=0&to=60000&interval=1m&zone=roof'), 400, 'SL_ERR_METRICS_ZONE_UNKNOWN', /zones: entrance, aisle-women/],
    [
      'an unknown touchpoint',
      url('metric=feedback&from=0&to=60000&interval=1m&touchpoint=x'),
      400,
      'SL_ERR_METRICS_TOUCHPOINT_UNKNOWN',
      /touchpoints: kiosk-1/,
    ],
    ['a bad interval', url('metric=visits&from=0&to=60000&interval=1w'), 400, 'SL_ERR_METRICS_INTERVAL', /interval '1w'/],
    ['too many intervals', url('metric=visits&from=0&to=86400000&interval=1s'), 400, 'SL_ERR_METRICS_TOO_MANY_BUCKETS', /at most 5000 per series/],
    ['an unknown metric', url('metric=happiness&from=0&to=60000&interval=1m'), 400, 'FST_ERR_VALIDATION', /metric/],
    ['a missing range', url('metric=visits&interval=1m'), 400, 'FST_ERR_VALIDATION', /from/],
  ])('answers %s with its status and a message saying what is wrong, asking InfluxDB nothing', async (_what, path, status, code, message) => {
    const t = await api();
    const res = await t.inject({ method: 'GET', url: path });
    expect(res.statusCode).toBe(status);
    expect(res.json()).toEqual({ error: expect.stringMatching(message) as unknown, code });
    expect(t.asked).toEqual([]);
  });

  it('answers 502 naming InfluxDB when a query fails', async () => {
    const t = await api(() => new InfluxQueryError('InfluxDB query request failed'));
    const res = await t.inject({ method: 'GET', url: url('metric=occupancy&from=0&to=60000&interval=1m') });
    expect(res.statusCode).toBe(502);
    expect(res.json()).toEqual({ error: 'the occupancy query could not be answered: InfluxDB query request failed', code: 'SL_ERR_METRICS_INFLUX' });
  });

  it('needs the analyst scope: 401 without a token, 403 for a token without it, 200 for an analyst', async () => {
    const t = await api();
    const path = url('metric=visits&from=0&to=60000&interval=1m');
    expect((await t.app.inject({ method: 'GET', url: path })).statusCode).toBe(401);
    const integration = t.tokens.add({ name: 'crm', scopes: ['integration'] }).token;
    const refused = await t.app.inject({ method: 'GET', url: path, headers: { authorization: `Bearer ${integration}` } });
    expect(refused.statusCode).toBe(403);
    expect(refused.json()).toMatchObject({ scope: 'analyst' });
    const analyst = t.tokens.add({ name: 'dash', scopes: ['analyst'] }).token;
    expect((await t.app.inject({ method: 'GET', url: path, headers: { authorization: `Bearer ${analyst}` } })).statusCode).toBe(200);
  });

  it('documents the route in OpenAPI with its parameters and response', async () => {
    const t = await api();
    const doc = (await t.app.inject({ method: 'GET', url: '/openapi.json' })).json<{
      paths: Record<
        string,
        { get: { parameters: Array<{ name: string; in: string; required?: boolean }>; responses: Record<string, unknown>; description: string } }
      >;
    }>();
    const route = doc.paths['/api/v1/stores/{store}/metrics']?.get;
    expect(route?.parameters.map((p) => `${p.in}:${p.name}${p.required ? '' : '?'}`).sort()).toEqual(
      ['path:store', 'query:metric', 'query:from', 'query:to', 'query:interval', 'query:zone?', 'query:touchpoint?', 'query:format?'].sort(),
    );
    const metric = route?.parameters.find((p) => p.name === 'metric') as { schema?: { enum?: string[] } } | undefined;
    expect(metric?.schema?.enum).toEqual(expect.arrayContaining(['dwell_distribution', 'paths', 'funnel', 'shelf', 'environment']));
    expect(Object.keys(route?.responses ?? {})).toEqual(['200', '400', '404', '502']);
    expect(route?.description).toContain('Needs the scope `analyst`');
  });
});

describe('GET /api/v1/stores/{store}/metrics: CSV and the cache', () => {
  const dwell = (): QuerySeries[] => [
    {
      name: 'zone_stay',
      tags: { zone: 'checkout', definition: 'zone-stay/1' },
      columns: ['time', 'count', 'mean_dwell_s', 'median_dwell_s'],
      values: [[FROM_MS, 2, 45, 45]],
    },
  ];

  it('answers format=csv as text/csv: a header and one row per series and interval', async () => {
    const t = await api(dwell);
    const res = await t.inject({ method: 'GET', url: url(`metric=dwell&from=${FROM}&to=2026-01-01T09:10:00Z&interval=5m&format=csv`) });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('text/csv; charset=utf-8');
    expect(res.body.split('\r\n')).toEqual([
      'store,metric,measurement,definition,zone,time,count,mean_dwell_s,median_dwell_s',
      'demo-store,dwell,zone_stay,zone-stay/1,checkout,2026-01-01T09:00:00.000Z,2,45,45',
      'demo-store,dwell,zone_stay,zone-stay/1,checkout,2026-01-01T09:05:00.000Z,0,,',
      '',
    ]);
  });

  it('answers a past range asked again from memory, in either format, and a range ending now from InfluxDB each time', async () => {
    const t = await api(dwell);
    const past = `metric=dwell&from=${FROM}&to=2026-01-01T09:10:00Z&interval=5m`;
    const first = await t.inject({ method: 'GET', url: url(past) });
    const asked = t.asked.length;
    expect(asked).toBeGreaterThan(0);
    const again = await t.inject({ method: 'GET', url: url(past) });
    const csv = await t.inject({ method: 'GET', url: url(`${past}&format=csv`) });
    expect([again.json(), csv.statusCode, t.asked.length]).toEqual([first.json(), 200, asked]);
    const now = Date.now();
    const recent = `metric=dwell&from=${now - 3_600_000}&to=${now}&interval=1h`;
    await t.inject({ method: 'GET', url: url(recent) });
    await t.inject({ method: 'GET', url: url(recent) });
    expect(t.asked.length).toBe(asked + 6);
  });
});
