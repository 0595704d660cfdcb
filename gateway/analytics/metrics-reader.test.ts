import { describe, expect, it } from 'vitest';

import { DEMO_STORE, parseConfig } from '../../config/index.js';
import type { QuerySeries } from '../influx/influx-query.js';
import { MetricsError } from './metrics-errors.js';
import { MAX_FEEDBACK_SCORES, readMetric, type InfluxQueryRunner } from './metrics-reader.js';
import { validateMetricsRequest } from './metrics-request.js';

const STORES = parseConfig({ stores: [DEMO_STORE] }).stores;
const FROM = Date.UTC(2026, 0, 1, 9);
const feedback = validateMetricsRequest(
  { store: 'demo-store', metric: 'feedback', from: String(FROM), to: String(FROM + 3_600_000), interval: '1h', touchpoint: 'feedback-1' },
  STORES,
);

/** InfluxDB as a table from statement fragments to answers; records the statements asked. */
function influx(answers: Array<[RegExp, QuerySeries[]]>): InfluxQueryRunner & { asked: string[] } {
  const asked: string[] = [];
  return {
    asked,
    query: (q) => {
      asked.push(q);
      return Promise.resolve(answers.find(([pattern]) => pattern.test(q))?.[1] ?? []);
    },
  };
}

const scores = (...values: number[]): QuerySeries[] => [
  { name: 'interaction', tags: { touchpoint: 'feedback-1' }, columns: ['time', 'distinct'], values: values.map((v) => [FROM, v]) },
];

describe('reading a metric', () => {
  it('feedback: finds the scores, then counts each one per touchpoint, in the order it asked', async () => {
    const db = influx([
      [/^SELECT DISTINCT\("value"\)/, scores(5, 4)],
      [/"value" = 4 .*GROUP BY time/, [{ name: 'interaction', tags: { touchpoint: 'feedback-1' }, columns: ['time', 'count'], values: [[FROM, 2]] }]],
      [/"value" = 5 .*GROUP BY time/, [{ name: 'interaction', tags: { touchpoint: 'feedback-1' }, columns: ['time', 'count'], values: [[FROM, 1]] }]],
    ]);
    const body = await readMetric(feedback, db);
    expect(body.series.map((s) => [s.labels, s.definition, s.points.map((p) => p.values)])).toEqual([
      [{ score: '4', touchpoint: 'feedback-1' }, null, [{ count: 2 }]],
      [{ score: '5', touchpoint: 'feedback-1' }, null, [{ count: 1 }]],
    ]);
    expect(body.influxql).toEqual(db.asked);
    expect(db.asked.map((q) => /"value" = (\d)|DISTINCT/.exec(q)?.[1] ?? 'scores')).toEqual(['scores', '4', '4', '5', '5']);
  });

  it(`feedback: refuses more than ${MAX_FEEDBACK_SCORES} distinct values, and a value InfluxQL cannot compare`, async () => {
    const many = influx([[/^SELECT DISTINCT/, scores(...Array.from({ length: MAX_FEEDBACK_SCORES + 1 }, (_, i) => i))]]);
    await expect(readMetric(feedback, many)).rejects.toThrow(
      new MetricsError(
        'SL_ERR_METRICS_INFLUX',
        `feedback holds 51 distinct values in the range, more than 50: not a score scale, so no distribution is computed`,
      ),
    );
    expect(many.asked).toHaveLength(1);
    await expect(readMetric(feedback, influx([[/^SELECT DISTINCT/, scores(1e-7)]]))).rejects.toThrow(/the value 1e-7, which InfluxQL cannot compare/);
  });

  it('occupancy: gives no people before the engine has made any BLE visit of the range final, and says why', async () => {
    const occupancy = validateMetricsRequest(
      { store: 'demo-store', metric: 'occupancy', from: String(FROM), to: String(FROM + 3_600_000), interval: '1h' },
      STORES,
    );
    const devices: QuerySeries[] = [
      {
        name: 'occupancy',
        tags: { zone: 'checkout', definition: 'occupancy-ble/1' },
        columns: ['time', 'mean_devices', 'max_devices'],
        values: [[FROM, 2, 3]],
      },
    ];
    const db = influx([
      [/^SELECT LAST\("devices"\) FROM "occupancy"/, []],
      [/FROM "occupancy"/, devices],
    ]);
    const body = await readMetric(occupancy, db);
    expect(body.series.some((s) => s.labels['unit'] === 'people')).toBe(false);
    expect(body.unavailable).toEqual([{ labels: { unit: 'people' }, reason: expect.stringMatching(/^people need BLE visits made final in the range/) }]);
    // the frontier was asked for, and no footfall for a scale that cannot be had
    expect(db.asked.some((q) => q.startsWith('SELECT LAST("devices") FROM "occupancy"'))).toBe(true);
    expect(db.asked.some((q) => q.includes("'people_count'"))).toBe(false);
  });

  it('wraps an InfluxDB failure in a 502 naming the metric, with the statement in its context', async () => {
    const failing: InfluxQueryRunner = { query: () => Promise.reject(new Error('connection refused')) };
    const err = await readMetric(feedback, failing).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MetricsError);
    expect(err).toMatchObject({ status: 502, message: 'the feedback query could not be answered: connection refused' });
    expect((err as MetricsError).context['influxql']).toMatch(/^SELECT DISTINCT\("value"\)/);
  });
});
