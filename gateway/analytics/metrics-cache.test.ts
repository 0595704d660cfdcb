import { describe, expect, it } from 'vitest';

import { DEMO_STORE, parseConfig } from '../../config/index.js';
import { finalityHorizonMs, MetricsCache } from './metrics-cache.js';
import type { MetricsResponse } from './metrics-reader.js';
import { validateMetricsRequest, type MetricsRequest } from './metrics-request.js';

const config = parseConfig({ stores: [DEMO_STORE] });
const HOUR = 3_600_000;
const NOW = Date.parse('2026-06-01T12:00:00Z');

function request(from: string, to: string, metric: MetricsRequest['metric'] = 'dwell'): MetricsRequest {
  return validateMetricsRequest({ store: 'demo-store', metric, from, to, interval: '1h' }, config.stores);
}
const answer = (note: string): MetricsResponse => ({ definition: note, series: [] }) as unknown as MetricsResponse;

function cache(options: Partial<ConstructorParameters<typeof MetricsCache>[0]> & { clock?: { t: number } } = {}): MetricsCache {
  const clock = options.clock ?? { t: NOW };
  return new MetricsCache({ horizonMs: 4 * HOUR, ttlMs: HOUR, maxEntries: 10, maxBytes: 1e6, now: () => clock.t, ...options });
}

describe('finalityHorizonMs', () => {
  it('is 236 minutes with the default experience settings: a visit stamped at its start may last 180 minutes', () => {
    expect(finalityHorizonMs(config.sinks.experience) / 60_000).toBe(236);
  });
});

describe('MetricsCache', () => {
  const old = request('2026-06-01T06:00:00Z', '2026-06-01T08:00:00Z');

  it('answers a range wholly before the horizon from memory the second time', () => {
    const c = cache();
    expect(c.lookup(old).outcome).toBe('miss');
    c.store(old, answer('a'));
    expect(c.lookup(old)).toEqual({ outcome: 'hit', answer: answer('a') });
    // another metric, range or filter is another answer
    expect(c.lookup(request('2026-06-01T06:00:00Z', '2026-06-01T08:00:00Z', 'occupancy')).outcome).toBe('miss');
  });

  it('never keeps a range that ends inside the horizon', () => {
    const c = cache();
    const recent = request('2026-06-01T06:00:00Z', '2026-06-01T08:00:01Z');
    c.store(recent, answer('b'));
    expect(c.lookup(recent).outcome).toBe('skip');
    expect(c.size.entries).toBe(0);
  });

  it('forgets an answer after its TTL', () => {
    const clock = { t: NOW };
    const c = cache({ clock });
    c.store(old, answer('a'));
    clock.t += HOUR;
    expect(c.lookup(old).outcome).toBe('miss');
    expect(c.size).toEqual({ entries: 0, bytes: 0 });
  });

  it('drops the least recently used answer past its entry or byte bound', () => {
    const c = cache({ maxEntries: 2 });
    const reqs = ['02', '03', '04'].map((h) => request(`2026-06-01T${h}:00:00Z`, '2026-06-01T05:00:00Z'));
    c.store(reqs[0]!, answer('0'));
    c.store(reqs[1]!, answer('1'));
    c.lookup(reqs[0]!); // 0 used last: 1 goes first
    c.store(reqs[2]!, answer('2'));
    expect(reqs.map((r) => c.lookup(r).outcome)).toEqual(['hit', 'miss', 'hit']);
    const one = JSON.stringify(answer('x')).length;
    const small = cache({ maxBytes: 2 * one });
    for (const r of reqs) small.store(r, answer('x'));
    expect(small.size).toEqual({ entries: 2, bytes: 2 * one });
  });
});
