import { describe, expect, it } from 'vitest';

import { DEMO_STORE, parseConfig } from '../../config/index.js';
import { captureSeries } from './capture-rate.js';
import { validateMetricsRequest } from './metrics-request.js';
import type { MetricSeries } from './result-shaping.js';

const stores = parseConfig({ stores: [DEMO_STORE] }).stores;
const req = validateMetricsRequest(
  { store: 'demo-store', metric: 'capture', from: '2026-11-30T12:00:00Z', to: '2026-11-30T14:00:00Z', interval: '1h' },
  stores,
);

function series(measurement: string, field: string, counts: number[]): MetricSeries {
  return {
    measurement,
    labels: { method: 'ble' },
    definition: `${measurement}/1`,
    params: [],
    total: { [field]: counts.reduce((a, b) => a + b, 0) },
    points: counts.map((n, i) => ({ time: new Date(req.fromMs + i * req.intervalMs).toISOString(), values: { [field]: n } })),
  };
}

describe('the capture rate', () => {
  it('is visits ÷ (visits + passers-by), null for an interval with neither', () => {
    const capture = captureSeries(req, [series('visit', 'visits', [3, 0]), series('passer_by', 'passers_by', [1, 0])]);
    expect(capture?.points.map((p) => p.values['capture_rate'])).toEqual([0.75, null]);
    expect(capture?.total).toEqual({ visits: 3, passers_by: 1, capture_rate: 0.75 });
  });

  it('is absent when the range holds neither a visit nor a passer-by', () => {
    expect(captureSeries(req, [])).toBeNull();
  });
});
