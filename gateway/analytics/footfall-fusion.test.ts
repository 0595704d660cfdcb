import { describe, expect, it } from 'vitest';

import { DEMO_STORE, parseConfig } from '../../config/index.js';
import { FUSED_FOOTFALL_DEFINITION, fusedFootfallSeries, fuseFootfall } from './footfall-fusion.js';
import { doorCounters } from './metric-queries.js';
import { validateMetricsRequest } from './metrics-request.js';
import type { MetricSeries } from './result-shaping.js';

const AUDIT = { counted: 247, actual: 263 };
const RATIO = 247 / 263;

describe('the fused footfall', () => {
  it('corrects the counters by their audit and gives a range around it', () => {
    const { points, params } = fuseFootfall(
      [
        { counterIn: 94, reports: 60, bleVisits: 30, bleFinal: true },
        { counterIn: 0, reports: 60, bleVisits: 0, bleFinal: true },
      ],
      AUDIT,
    );
    expect(points[0]?.count).toBeCloseTo(94 / RATIO, 1);
    expect(points[0]?.low).toBeLessThan(points[0]?.count ?? 0);
    expect(points[0]?.high).toBeGreaterThan(points[0]?.count ?? 0);
    expect(points[0]?.estimated).toBe(0);
    expect(points[0]?.ble_share).toBeCloseTo(30 / (94 / RATIO), 3);
    expect(points[1]).toMatchObject({ count: 0, estimated: 0, ble_share: null });
    expect(params).toMatchObject({ ratio: 0.9392, audited: true, audit: AUDIT });
  });

  it('estimates an interval without counter reports from its BLE visits, scaled by the people per visit of the range', () => {
    const { points, params } = fuseFootfall(
      [
        { counterIn: 100, reports: 60, bleVisits: 25, bleFinal: true },
        { counterIn: 140, reports: 60, bleVisits: 35, bleFinal: true },
        { counterIn: 0, reports: 0, bleVisits: 20, bleFinal: true },
        { counterIn: 0, reports: 0, bleVisits: 0, bleFinal: true },
      ],
      AUDIT,
    );
    const perVisit = 240 / RATIO / 60;
    expect(params.peoplePerBleVisit).toBeCloseTo(perVisit, 2);
    expect(points[2]).toMatchObject({ estimated: 1 });
    expect(points[2]?.count).toBeCloseTo(20 * perVisit, 1);
    // a BLE estimate is far less sure than a counted interval of the same size
    const width = (p: (typeof points)[number] | undefined) => ((p?.high ?? 0) - (p?.low ?? 0)) / (p?.count ?? 1);
    expect(width(points[2])).toBeGreaterThan(3 * width(points[1]));
    // nothing counted and nobody seen: nobody came, or nothing ran (a future hour): no figure
    expect(points[3]).toMatchObject({ count: null, low: null, high: null, estimated: 0 });
  });

  it('takes the people per BLE visit only from intervals whose BLE visits are final, and estimates only those', () => {
    const { points, params } = fuseFootfall(
      [
        { counterIn: 100, reports: 60, bleVisits: 25, bleFinal: true },
        // the last half hour: the counter has counted its people, the engine has not yet closed their visits
        { counterIn: 140, reports: 60, bleVisits: 10, bleFinal: false },
        { counterIn: 0, reports: 0, bleVisits: 20, bleFinal: true },
        { counterIn: 0, reports: 0, bleVisits: 4, bleFinal: false },
      ],
      AUDIT,
    );
    expect(params.peoplePerBleVisit).toBeCloseTo(100 / RATIO / 25, 2);
    expect(points[1]).toMatchObject({ estimated: 0 });
    expect(points[1]?.count).toBeCloseTo(140 / RATIO, 1);
    expect(points[2]?.count).toBeCloseTo(20 * (100 / RATIO / 25), 1);
    expect(points[3]).toMatchObject({ count: null, estimated: 0 });
  });

  it('without an audit takes the counters as they are and gives no range', () => {
    const { points, total, params } = fuseFootfall([{ counterIn: 94, reports: 60, bleVisits: 30, bleFinal: true }], null);
    expect(points[0]).toMatchObject({ count: 94, low: null, high: null });
    expect(total).toMatchObject({ count: 94, low: null, high: null });
    expect(params).toMatchObject({ ratio: 1, audited: false });
  });

  it('says nothing for an interval neither method speaks for', () => {
    expect(fuseFootfall([{ counterIn: 0, reports: 0, bleVisits: 3, bleFinal: true }], AUDIT).points[0]).toMatchObject({ count: null, low: null, high: null });
  });

  it("its 95 % range holds the true count about 95 % of the time when the counter misses at the audit's rate", () => {
    // a counter that misses each person with the audit's share; the audit itself drawn from the same counter
    let state = 42;
    const random = (): number => {
      state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
      return state / 2 ** 31;
    };
    const missed = (people: number) => Array.from({ length: people }, () => random() < 1 - RATIO).filter(Boolean).length;
    let held = 0;
    const trials = 400;
    for (let t = 0; t < trials; t += 1) {
      const audit = { counted: 263 - missed(263), actual: 263 };
      const truth = 80 + Math.floor(random() * 80);
      const { total } = fuseFootfall([{ counterIn: truth - missed(truth), reports: 60, bleVisits: 30, bleFinal: true }], audit);
      if ((total.low ?? Infinity) <= truth && truth <= (total.high ?? -Infinity)) held += 1;
    }
    expect(held / trials).toBeGreaterThan(0.9);
    expect(held / trials).toBeLessThan(0.99);
  });
});

describe('the fused series of a footfall answer', () => {
  const store = parseConfig({ stores: [DEMO_STORE] }).stores[0]!;
  const req = validateMetricsRequest({ store: 'demo-store', metric: 'footfall', from: '2026-11-30T12:00:00Z', to: '2026-11-30T14:00:00Z', interval: '1h' }, [
    store,
  ]);
  const series = (method: string, counts: number[], extra: Record<string, number[]> = {}, definition: string | null = null): MetricSeries => ({
    measurement: method === 'counter' ? 'telemetry' : 'visit',
    labels: { method },
    definition,
    params: [],
    total: {},
    points: counts.map((count, i) => ({
      time: new Date(req.fromMs + i * req.intervalMs).toISOString(),
      values: { count, ...Object.fromEntries(Object.entries(extra).map(([k, v]) => [k, v[i] ?? 0])) },
    })),
  });

  it('sums the BLE series of every definition, states its parameters, and covers each interval', () => {
    const fused = fusedFootfallSeries(
      req,
      doorCounters(store),
      [series('counter', [94, 0], { reports: [60, 0] }), series('ble', [20, 10], {}, 'visit-ble/1'), series('ble', [10, 5], {}, 'visit-ble/2')],
      req.toMs,
    );
    expect(fused?.definition).toBe(FUSED_FOOTFALL_DEFINITION);
    expect(fused?.points.map((p) => p.values['estimated'])).toEqual([0, 1]);
    expect(fused?.points[1]?.values['count']).toBeCloseTo(15 * (94 / RATIO / 30), 1);
    expect(JSON.parse(fused?.params[0] ?? '{}')).toMatchObject({ audited: true, bleDefinitions: ['visit-ble/1', 'visit-ble/2'] });
  });

  it('names the door counters without an audit, and gives no range then', () => {
    const unaudited = parseConfig({ stores: [{ ...DEMO_STORE, devices: [{ id: 'counter-door', type: 'people_counter', zone: 'entrance' }] }] }).stores[0]!;
    const fused = fusedFootfallSeries(req, doorCounters(unaudited), [series('counter', [94, 80], { reports: [60, 60] })], req.toMs);
    expect(fused?.points[0]?.values).toMatchObject({ count: 94, low: null, high: null });
    expect(JSON.parse(fused?.params[0] ?? '{}')).toMatchObject({ audited: false, unaudited: ['counter-door'] });
  });

  it('is absent for a store without a door counter', () => {
    expect(fusedFootfallSeries(req, [], [series('ble', [20, 10])], req.toMs)).toBeNull();
  });

  it('estimates no interval, and takes no scale, from BLE visits the engine has not made final (the frontier, from its last final occupancy minute)', () => {
    const inputs = [series('counter', [94, 0], { reports: [60, 0] }), series('ble', [20, 10], {}, 'visit-ble/3')];
    // the frontier inside the second hour: its visits are still coming in, so it gets no figure
    const early = fusedFootfallSeries(req, doorCounters(store), inputs, req.fromMs + 90 * 60_000);
    expect(early?.points.map((p) => p.values['count'])).toEqual([expect.closeTo(94 / RATIO, 1), null]);
    expect(JSON.parse(early?.params[0] ?? '{}')).toMatchObject({
      peoplePerBleVisit: expect.closeTo(94 / RATIO / 20, 2),
      bleFinalUntil: '2026-11-30T13:30:00.000Z',
    });
    // the frontier before the first hour's end: no scale at all, so no estimate; the counted hour stands
    const none = fusedFootfallSeries(req, doorCounters(store), inputs, null);
    expect(none?.points.map((p) => p.values['estimated'])).toEqual([0, 0]);
    expect(none?.points[1]?.values['count']).toBeNull();
    expect(JSON.parse(none?.params[0] ?? '{}')).toMatchObject({ peoplePerBleVisit: null, bleFinalUntil: null });
  });
});
