import { describe, expect, it } from 'vitest';

import { DEMO_STORE, parseConfig } from '../../config/index.js';
import { MetricsError } from './metrics-errors.js';
import { MAX_BUCKETS, parseInterval, parseTime, validateMetricsRequest, type RawMetricsRequest } from './metrics-request.js';

const STORES = parseConfig({ stores: [DEMO_STORE] }).stores;
const BASE: RawMetricsRequest = { store: 'demo-store', metric: 'dwell', from: '2026-01-01T09:00:00Z', to: '2026-01-01T12:00:00Z', interval: '1h' };

function refusal(raw: Partial<RawMetricsRequest>): MetricsError {
  try {
    validateMetricsRequest({ ...BASE, ...raw }, STORES);
  } catch (err) {
    if (err instanceof MetricsError) return err;
    throw err;
  }
  throw new Error('not refused');
}

describe('metrics request validation', () => {
  it('turns a valid request into epoch ms, the interval and its bucket count', () => {
    const req = validateMetricsRequest({ ...BASE, zone: 'checkout', interval: '25m' }, STORES);
    expect(req).toMatchObject({
      metric: 'dwell',
      fromMs: Date.UTC(2026, 0, 1, 9),
      toMs: Date.UTC(2026, 0, 1, 12),
      intervalMs: 1_500_000,
      buckets: 8,
      zone: 'checkout',
    });
    expect(req.store.id).toBe('demo-store');
    expect(req).not.toHaveProperty('touchpoint');
  });

  it('reads ISO 8601 with an offset, a date, and epoch milliseconds', () => {
    expect(parseTime('from', '2026-01-01T10:00:00+01:00')).toBe(Date.UTC(2026, 0, 1, 9));
    expect(parseTime('from', '2026-01-01T09:00:00.250Z')).toBe(Date.UTC(2026, 0, 1, 9) + 250);
    expect(parseTime('from', '2026-01-01')).toBe(Date.UTC(2026, 0, 1));
    expect(parseTime('to', '1767261600000')).toBe(1767261600000);
    for (const bad of ['2026-01-01T09:00:00', 'yesterday', '2026-13-40T00:00:00Z', '-5', '1e12']) {
      expect(() => parseTime('from', bad), bad).toThrow(/from '.*' is neither an ISO 8601 time/);
    }
  });

  it('reads intervals in s, m, h and d and refuses the rest', () => {
    expect(parseInterval('30s')).toBe(30_000);
    expect(parseInterval('5m')).toBe(300_000);
    expect(parseInterval('1h')).toBe(3_600_000);
    expect(parseInterval('1d')).toBe(86_400_000);
    for (const bad of ['0m', '1w', '1.5h', 'h', '5 m', '1h30m', '-1h'])
      expect(() => parseInterval(bad), bad).toThrow(/interval '.*' is not a whole number with a unit/);
  });

  it('answers 404 for an unknown store, naming the known ones', () => {
    const err = refusal({ store: 'nowhere' });
    expect(err.status).toBe(404);
    expect(err.code).toBe('SL_ERR_METRICS_STORE_UNKNOWN');
    expect(err.message).toBe("unknown store 'nowhere' (stores: demo-store)");
  });

  it('answers 400 for an unknown zone or touchpoint, listing the known ones', () => {
    const zone = refusal({ zone: 'garden' });
    expect([zone.status, zone.code]).toEqual([400, 'SL_ERR_METRICS_ZONE_UNKNOWN']);
    expect(zone.message).toBe("unknown zone 'garden' in store 'demo-store' (zones: entrance, aisle-women, aisle-men, aisle-shoes, fitting-rooms, checkout)");
    const touchpoint = refusal({ metric: 'engagement', touchpoint: "kiosk-1' OR 1=1" });
    expect([touchpoint.status, touchpoint.code]).toEqual([400, 'SL_ERR_METRICS_TOUCHPOINT_UNKNOWN']);
    expect(touchpoint.message).toContain('(touchpoints: kiosk-1, mirror-1, qr-shoes, feedback-1)');
  });

  it('refuses a filter the metric does not take', () => {
    expect(refusal({ metric: 'footfall', zone: 'entrance' }).message).toBe("the metric 'footfall' takes no zone filter (it is per store)");
    expect(refusal({ metric: 'dwell', touchpoint: 'kiosk-1' }).message).toBe("the metric 'dwell' takes no touchpoint filter (it is filtered by zone)");
    expect(refusal({ metric: 'dwell', touchpoint: 'kiosk-1' }).code).toBe('SL_ERR_METRICS_FILTER');
  });

  it('refuses an empty or reversed range', () => {
    expect(refusal({ to: BASE.from }).message).toMatch(/^to \(.*\) must be after from/);
    expect(refusal({ from: BASE.to, to: BASE.from }).code).toBe('SL_ERR_METRICS_TIME');
  });

  it(`refuses more than ${MAX_BUCKETS} intervals, naming the limit, and takes exactly ${MAX_BUCKETS}`, () => {
    const from = Date.UTC(2026, 0, 1);
    const err = refusal({ from: String(from), to: String(from + (MAX_BUCKETS + 1) * 60_000), interval: '1m' });
    expect([err.status, err.code]).toEqual([400, 'SL_ERR_METRICS_TOO_MANY_BUCKETS']);
    expect(err.message).toContain(`is ${MAX_BUCKETS + 1} intervals: at most ${MAX_BUCKETS} per series`);
    expect(validateMetricsRequest({ ...BASE, from: String(from), to: String(from + MAX_BUCKETS * 60_000), interval: '1m' }, STORES).buckets).toBe(MAX_BUCKETS);
  });
});
