/**
 * GET /api/v1/stores/{store}/metrics: experience metrics for dashboards (footfall, visits, dwell,
 * occupancy, engagement, feedback, shelf, environment…) per interval, read from InfluxDB with
 * InfluxQL built by gateway/analytics/, so analysts need an `analyst` token and no InfluxDB
 * credentials. JSON, or CSV with `format=csv`; answers of ranges past the finality horizon are
 * cached (metrics-cache.ts), counted in storeloop_metrics_cache_{hits,misses,skipped}_total.
 */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { Counter, type Registry } from 'prom-client';
import { z } from 'zod';

import { METRIC_NAMES } from '../analytics/metric-catalogue.js';
import { DEFAULT_CACHE_LIMITS, finalityHorizonMs, MetricsCache } from '../analytics/metrics-cache.js';
import { metricsCsv } from '../analytics/metrics-csv.js';
import { MetricsError } from '../analytics/metrics-errors.js';
import { readMetric } from '../analytics/metrics-reader.js';
import { MAX_BUCKETS, validateMetricsRequest } from '../analytics/metrics-request.js';
import type { HttpDeps } from './deps.js';

/** The cache's counter `name` in `registry`, made once per registry (a test may build two apps on one). */
function cacheCounter(registry: Registry, name: string, help: string): Counter<'metric'> {
  const existing = registry.getSingleMetric(name);
  if (existing instanceof Counter) return existing as Counter<'metric'>;
  return new Counter({ name, help, labelNames: ['metric'], registers: [registry] });
}

const ErrorSchema = z.object({ error: z.string(), code: z.string() });
const FieldValuesSchema = z.record(z.string(), z.number().nullable());

const QuerySchema = z.object({
  metric: z.enum(METRIC_NAMES).describe('Which metric'),
  from: z.string().min(1).describe('Start of the range (inclusive): ISO 8601 with Z or an offset (2026-01-01T09:00:00Z), or epoch milliseconds'),
  to: z.string().min(1).describe('End of the range (exclusive), as `from`'),
  interval: z
    .string()
    .describe(
      `Length of each interval: a whole number and s, m, h or d (5m, 1h, 1d); intervals start at \`from\`; at most ${MAX_BUCKETS} intervals in the range`,
    ),
  zone: z.string().optional().describe('dwell, dwell_distribution, occupancy: only this zone (a zone id of the store)'),
  touchpoint: z.string().optional().describe('engagement, funnel, feedback: only this touchpoint (a touchpoint id of the store)'),
  format: z
    .enum(['json', 'csv'])
    .default('json')
    .describe('json (default), or csv: text/csv, a header row and one row per series and interval (labels and figures as columns, the definition too)'),
});

const MetricsResponseSchema = z.object({
  store: z.string(),
  metric: z.enum(METRIC_NAMES),
  definition: z.string().describe("The metric's definition in one line"),
  from: z.string(),
  to: z.string(),
  interval: z.string(),
  intervalMs: z.number(),
  buckets: z.number().describe('Intervals per series'),
  emptyBuckets: z.string().describe('How an interval without data is answered'),
  fields: z.array(
    z.object({
      name: z.string(),
      measurement: z.string(),
      empty: z.enum(['zero', 'null']).describe('An interval without data: 0 or null'),
      description: z.string(),
    }),
  ),
  series: z.array(
    z.object({
      measurement: z.string().describe('The InfluxDB measurement the series is computed from'),
      labels: z.record(z.string(), z.string()).describe('What the series is of: method, zone, touchpoint, score, band, path, device, unit'),
      definition: z
        .string()
        .nullable()
        .describe('The definition (name/version) of the derived points; null for raw measurements. Two definitions are two series, never added up'),
      params: z.array(z.string()).describe("The definition's parameters found in the range"),
      total: FieldValuesSchema.describe('The figures over the whole range'),
      points: z.array(z.object({ time: z.string().describe('Start of the interval, ISO 8601 UTC'), values: FieldValuesSchema })),
    }),
  ),
  unavailable: z.array(z.object({ labels: z.record(z.string(), z.string()), reason: z.string() })).describe('What this metric cannot show, and why'),
  influxql: z.array(z.string()).describe('The InfluxQL statements run'),
});

export const analyticsRoutes: FastifyPluginAsyncZod<{ deps: HttpDeps }> = async (app, { deps }) => {
  const cache = new MetricsCache({ horizonMs: finalityHorizonMs(deps.config.sinks.experience), ...DEFAULT_CACHE_LIMITS });
  const registry = deps.metrics.registry;
  const counters = {
    hit: cacheCounter(
      registry,
      'storeloop_metrics_cache_hits_total',
      'Metrics API answers served from the cache (a range past the finality horizon asked again)',
    ),
    miss: cacheCounter(
      registry,
      'storeloop_metrics_cache_misses_total',
      'Metrics API requests for a range past the finality horizon not in the cache: read from InfluxDB, then cached',
    ),
    skip: cacheCounter(
      registry,
      'storeloop_metrics_cache_skipped_total',
      'Metrics API requests for a range that may still change (it ends inside the finality horizon): read from InfluxDB, never cached',
    ),
  };
  app.get(
    '/api/v1/stores/:store/metrics',
    {
      config: { scope: 'analyst' },
      schema: {
        tags: ['analytics'],
        summary:
          'Experience metrics of a store per interval: footfall, visits, capture rate, dwell and its distribution, paths, occupancy, engagement, funnel, feedback, shelf, environment',
        description:
          'Read from InfluxDB (InfluxQL). Each series states the definition and parameters of the points it comes from; a range that holds two definitions gives two series. An interval without data has counts 0 and means null. format=csv answers text/csv. A range that ends before the finality horizon (docs/metrics-api.md#caching) is answered from memory when asked again.',
        produces: ['application/json', 'text/csv'],
        params: z.object({ store: z.string().describe('A store id of the config') }),
        querystring: QuerySchema,
        response: { 200: MetricsResponseSchema, 400: ErrorSchema, 404: ErrorSchema, 502: ErrorSchema },
      },
    },
    async (req, reply) => {
      try {
        const { format, ...query } = req.query;
        const request = validateMetricsRequest({ store: req.params.store, ...query }, deps.config.stores);
        const cached = cache.lookup(request);
        counters[cached.outcome].inc({ metric: request.metric });
        const answer = cached.outcome === 'hit' ? cached.answer : await readMetric(request, deps.influxQuery);
        if (cached.outcome === 'miss') cache.store(request, answer);
        if (format === 'csv') {
          const file = `${request.store.id}-${request.metric}-${answer.from}-${answer.to}.csv`.replace(/[^\w.-]/g, '_');
          return reply
            .type('text/csv; charset=utf-8')
            .header('content-disposition', `attachment; filename="${file}"`)
            .send(metricsCsv(answer) as never);
        }
        return answer;
      } catch (err) {
        if (!(err instanceof MetricsError)) throw err;
        if (err.status === 502) req.log.warn({ err }, 'metrics query failed');
        return reply.code(err.status).send({ error: err.message, code: err.code });
      }
    },
  );
};
