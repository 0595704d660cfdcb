import { describe, expect, it } from 'vitest';

import { DEMO_STORE, parseConfig } from '../../config/index.js';
import { feedbackParts, feedbackScoresStatement } from './feedback-queries.js';
import { engagementRate, planQueries } from './metric-queries.js';
import { paramsStatement, partStatement } from './metric-statements.js';
import { validateMetricsRequest, type RawMetricsRequest } from './metrics-request.js';

const STORES = parseConfig({ stores: [DEMO_STORE] }).stores;
// 09:10 UTC: not on an hour, so the intervals need an offset to start at `from`
const FROM = Date.UTC(2026, 0, 1, 9, 10);
const RANGE = `time >= ${FROM}ms AND time < ${FROM + 3 * 3_600_000}ms`;
const GROUP_TIME = `time(3600000ms, ${FROM % 3_600_000}ms)`;

function request(raw: Partial<RawMetricsRequest>, stores = STORES) {
  return validateMetricsRequest(
    { store: 'demo-store', metric: 'visits', from: String(FROM), to: String(FROM + 3 * 3_600_000), interval: '1h', ...raw },
    stores,
  );
}

function statements(raw: Partial<RawMetricsRequest>): string[] {
  const req = request(raw);
  return planQueries(req).parts.flatMap((part) => [
    partStatement(part, req, true),
    partStatement(part, req, false),
    ...(part.derived ? [paramsStatement(part, req)] : []),
  ]);
}

describe('the InfluxQL of each metric', () => {
  it('footfall: the door counters\' SUM("in") and reports, and the BLE and wifi visits by definition', () => {
    const doors = `"event" = 'people_count' AND ("device" = 'counter-door')`;
    expect(statements({ metric: 'footfall' })).toEqual([
      `SELECT SUM("in") AS "count", COUNT("in") AS "reports" FROM "telemetry" WHERE "store" = 'demo-store' AND ${doors} AND ${RANGE} GROUP BY ${GROUP_TIME} fill(none)`,
      `SELECT SUM("in") AS "count", COUNT("in") AS "reports" FROM "telemetry" WHERE "store" = 'demo-store' AND ${doors} AND ${RANGE}`,
      `SELECT COUNT("count") AS "count" FROM "visit" WHERE "store" = 'demo-store' AND "method" = 'ble' AND ${RANGE} GROUP BY ${GROUP_TIME}, "definition" fill(none)`,
      `SELECT COUNT("count") AS "count" FROM "visit" WHERE "store" = 'demo-store' AND "method" = 'ble' AND ${RANGE} GROUP BY "definition"`,
      `SELECT DISTINCT("params") FROM "visit" WHERE "store" = 'demo-store' AND "method" = 'ble' AND ${RANGE} GROUP BY "definition"`,
      `SELECT COUNT("count") AS "count" FROM "wifi_visit" WHERE "store" = 'demo-store' AND "method" = 'wifi' AND ${RANGE} GROUP BY ${GROUP_TIME}, "definition" fill(none)`,
      `SELECT COUNT("count") AS "count" FROM "wifi_visit" WHERE "store" = 'demo-store' AND "method" = 'wifi' AND ${RANGE} GROUP BY "definition"`,
      `SELECT DISTINCT("params") FROM "wifi_visit" WHERE "store" = 'demo-store' AND "method" = 'wifi' AND ${RANGE} GROUP BY "definition"`,
    ]);
    expect(planQueries(request({ metric: 'footfall' })).unavailable).toEqual([]);
  });

  it('footfall: only counters at a door count footfall; several are summed', () => {
    const devices = [
      { id: 'counter-front', type: 'people_counter', zone: 'entrance' },
      { id: 'counter-side', type: 'people_counter' },
      { id: 'counter-fitting', type: 'people_counter', zone: 'fitting-rooms' },
    ];
    const stores = parseConfig({ stores: [{ ...DEMO_STORE, devices }] }).stores;
    const [bucketed] = planQueries(request({ metric: 'footfall' }, stores)).parts.map((p) => partStatement(p, request({ metric: 'footfall' }, stores), true));
    expect(bucketed).toContain(`("device" = 'counter-front' OR "device" = 'counter-side')`);
    expect(bucketed).not.toContain('counter-fitting');
  });

  it('footfall: a store without a door counter has the counter method unavailable, and no counter query', () => {
    const devices = [{ id: 'counter-fitting', type: 'people_counter', zone: 'fitting-rooms' }];
    const stores = parseConfig({ stores: [{ ...DEMO_STORE, devices }] }).stores;
    const plan = planQueries(request({ metric: 'footfall' }, stores));
    expect(plan.parts.map((p) => p.labels)).toEqual([{ method: 'ble' }, { method: 'wifi' }]);
    expect(plan.unavailable.map((u) => [u.labels, u.reason.slice(0, 40)])).toEqual([[{ method: 'counter' }, "the store 'demo-store' has no people_cou"]]);
  });

  it('visits: count, mean duration and distinct visitors per method and definition', () => {
    expect(statements({ metric: 'visits' })[0]).toBe(
      `SELECT COUNT("count") AS "count", MEAN("duration_s") AS "mean_duration_s", COUNT(DISTINCT("visitor")) AS "visitors" FROM "visit" WHERE "store" = 'demo-store' AND ${RANGE} GROUP BY ${GROUP_TIME}, "method", "definition" fill(none)`,
    );
  });

  it('capture: the BLE visits and passers-by, each by its definition', () => {
    expect(statements({ metric: 'capture' }).filter((q) => !q.startsWith('SELECT DISTINCT') && q.includes('GROUP BY time'))).toEqual([
      `SELECT COUNT("count") AS "visits" FROM "visit" WHERE "store" = 'demo-store' AND "method" = 'ble' AND ${RANGE} GROUP BY ${GROUP_TIME}, "definition" fill(none)`,
      `SELECT COUNT("count") AS "passers_by" FROM "passer_by" WHERE "store" = 'demo-store' AND "method" = 'ble' AND ${RANGE} GROUP BY ${GROUP_TIME}, "definition" fill(none)`,
    ]);
  });

  it('dwell: non-passing stays per zone, one zone when asked', () => {
    const [bucketed, total, params] = statements({ metric: 'dwell', zone: 'checkout' });
    const where = `WHERE "store" = 'demo-store' AND "passing" = 'false' AND "zone" = 'checkout' AND ${RANGE}`;
    expect(bucketed).toBe(
      `SELECT COUNT("dwell_s") AS "count", MEAN("dwell_s") AS "mean_dwell_s", MEDIAN("dwell_s") AS "median_dwell_s" FROM "zone_stay" ${where} GROUP BY ${GROUP_TIME}, "zone", "definition" fill(none)`,
    );
    expect(total).toBe(
      `SELECT COUNT("dwell_s") AS "count", MEAN("dwell_s") AS "mean_dwell_s", MEDIAN("dwell_s") AS "median_dwell_s" FROM "zone_stay" ${where} GROUP BY "zone", "definition"`,
    );
    expect(params).toBe(`SELECT DISTINCT("params") FROM "zone_stay" ${where} GROUP BY "zone", "definition"`);
    expect(statements({ metric: 'dwell' })[0]).not.toContain('"zone" =');
  });

  it('occupancy: mean and max devices per zone', () => {
    expect(statements({ metric: 'occupancy' })[0]).toBe(
      `SELECT MEAN("devices") AS "mean_devices", MAX("devices") AS "max_devices" FROM "occupancy" WHERE "store" = 'demo-store' AND ${RANGE} GROUP BY ${GROUP_TIME}, "zone", "definition" fill(none)`,
    );
  });

  it('engagement: exposures, those with an interaction, and all interactions, per touchpoint', () => {
    const all = statements({ metric: 'engagement', touchpoint: 'kiosk-1' });
    const tp = `"touchpoint" = 'kiosk-1'`;
    expect(all.filter((s) => s.includes('fill(none)'))).toEqual([
      `SELECT COUNT("count") AS "exposures" FROM "exposure" WHERE "store" = 'demo-store' AND ${tp} AND ${RANGE} GROUP BY ${GROUP_TIME}, "touchpoint", "definition" fill(none)`,
      `SELECT COUNT("count") AS "linked_interactions" FROM "exposure" WHERE "store" = 'demo-store' AND "interacted" = true AND ${tp} AND ${RANGE} GROUP BY ${GROUP_TIME}, "touchpoint", "definition" fill(none)`,
      `SELECT SUM("count") AS "interactions", COUNT("beacon") AS "beacon_interactions" FROM "interaction" WHERE "store" = 'demo-store' AND ${tp} AND ${RANGE} GROUP BY ${GROUP_TIME}, "touchpoint" fill(none)`,
    ]);
    expect(all).toHaveLength(8); // the raw interactions have no params
  });

  it('engagement rate: linked ÷ exposures, null without exposures (never NaN or Infinity)', () => {
    expect(engagementRate({ exposures: 4, linked_interactions: 1 })).toEqual({ exposures: 4, linked_interactions: 1, engagement_rate: 0.25 });
    expect(engagementRate({ exposures: 0, linked_interactions: 0 }).engagement_rate).toBeNull();
    expect(engagementRate({ exposures: 0, linked_interactions: 3 }).engagement_rate).toBeNull();
    expect(engagementRate({ exposures: null, linked_interactions: null }).engagement_rate).toBeNull();
  });

  it('feedback: the scores found first, then one count per score and touchpoint', () => {
    const req = request({ metric: 'feedback', touchpoint: 'feedback-1' });
    expect(planQueries(req).parts).toEqual([]);
    expect(feedbackScoresStatement(req)).toBe(
      `SELECT DISTINCT("value") FROM "interaction" WHERE "store" = 'demo-store' AND "action" = 'feedback' AND "touchpoint" = 'feedback-1' AND ${RANGE} GROUP BY "touchpoint"`,
    );
    const parts = feedbackParts(req, [5, 2.5, 5, 1]);
    expect(parts.map((p) => p.labels)).toEqual([{ score: '1' }, { score: '2.5' }, { score: '5' }]);
    expect(partStatement(parts[1]!, req, true)).toBe(
      `SELECT COUNT("value") AS "count" FROM "interaction" WHERE "store" = 'demo-store' AND "action" = 'feedback' AND "touchpoint" = 'feedback-1' AND "value" = 2.5 AND ${RANGE} GROUP BY ${GROUP_TIME}, "touchpoint" fill(none)`,
    );
  });

  it('starts the intervals at from: an aligned from needs no offset', () => {
    const req = request({ from: '2026-01-01T09:00:00Z', to: '2026-01-02T09:00:00Z', interval: '1d' });
    expect(partStatement(planQueries(req).parts[0]!, req, true)).toContain('GROUP BY time(86400000ms, 32400000ms), "method", "definition"');
    const hourly = request({ from: '2026-01-01T09:00:00Z', to: '2026-01-01T10:00:00Z', interval: '5m' });
    expect(partStatement(planQueries(hourly).parts[0]!, hourly, true)).toContain('GROUP BY time(300000ms, 0ms)');
  });
});

describe("the InfluxQL of the dashboards' metrics", () => {
  it('dwell_distribution: one COUNT per band, lower bound inclusive, upper exclusive, the last open', () => {
    const bucketed = statements({ metric: 'dwell_distribution', zone: 'checkout' }).filter((q) => q.includes('fill(none)'));
    const where = (band: string) =>
      `SELECT COUNT("dwell_s") AS "count" FROM "zone_stay" WHERE "store" = 'demo-store' AND "passing" = 'false' AND ${band} AND "zone" = 'checkout' AND ${RANGE} GROUP BY ${GROUP_TIME}, "zone", "definition" fill(none)`;
    expect(bucketed).toEqual([
      where(`"dwell_s" >= 30 AND "dwell_s" < 60`),
      where(`"dwell_s" >= 60 AND "dwell_s" < 120`),
      where(`"dwell_s" >= 120 AND "dwell_s" < 300`),
      where(`"dwell_s" >= 300 AND "dwell_s" < 600`),
      where(`"dwell_s" >= 600 AND "dwell_s" < 1200`),
      where(`"dwell_s" >= 1200`),
    ]);
    expect(planQueries(request({ metric: 'dwell_distribution' })).parts.map((p) => p.labels['band'])).toEqual(['0.5-1', '1-2', '2-5', '5-10', '10-20', '20+']);
  });

  it('shelf: SUM("qty") of pick-ups and of put-backs per device, one series', () => {
    const parts = planQueries(request({ metric: 'shelf' })).parts;
    expect(new Set(parts.map((p) => p.group)).size).toBe(1);
    expect(statements({ metric: 'shelf' }).filter((q) => q.includes('fill(none)'))).toEqual([
      `SELECT SUM("qty") AS "pick_ups" FROM "telemetry" WHERE "store" = 'demo-store' AND "event" = 'shelf' AND "action" = 'pick_up' AND ${RANGE} GROUP BY ${GROUP_TIME}, "device" fill(none)`,
      `SELECT SUM("qty") AS "put_backs" FROM "telemetry" WHERE "store" = 'demo-store' AND "event" = 'shelf' AND "action" = 'put_back' AND ${RANGE} GROUP BY ${GROUP_TIME}, "device" fill(none)`,
    ]);
  });

  it('environment: the mean readings and the LAST battery level per device', () => {
    expect(statements({ metric: 'environment' })[0]).toBe(
      `SELECT MEAN("temperature_c") AS "mean_temperature_c", MEAN("humidity_pct") AS "mean_humidity_pct", MEAN("co2_ppm") AS "mean_co2_ppm", LAST("battery_pct") AS "last_battery_pct" FROM "telemetry" WHERE "store" = 'demo-store' AND "event" = 'environment' AND ${RANGE} GROUP BY ${GROUP_TIME}, "device" fill(none)`,
    );
  });

  it('funnel: exposures, linked and identified interactions, and the CRM stage unavailable', () => {
    const plan = planQueries(request({ metric: 'funnel', touchpoint: 'kiosk-1' }));
    expect(plan.parts.map((p) => [p.measurement, p.aggregates.map((a) => a.as), p.where])).toEqual([
      ['exposure', ['exposures'], [`"touchpoint" = 'kiosk-1'`]],
      ['exposure', ['linked_interactions'], ['"interacted" = true', `"touchpoint" = 'kiosk-1'`]],
      ['interaction', ['identified_interactions'], ['"identified" = true', `"touchpoint" = 'kiosk-1'`]],
    ]);
    expect(plan.unavailable.map((u) => u.labels)).toEqual([{ stage: 'crm_forwarded' }]);
  });
});
