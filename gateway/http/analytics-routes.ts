/**
 * GET /api/v1/stores/{store}/metrics: experience metrics for dashboards (footfall, visits, dwell,
 * occupancy, engagement, feedback) per interval, read from InfluxDB with InfluxQL built by
 * gateway/analytics/, so analysts need an `analyst` token and no InfluxDB credentials.
 */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';

import { METRIC_NAMES } from '../analytics/metric-catalogue.js';
import { MetricsError } from '../analytics/metrics-errors.js';
import { readMetric } from '../analytics/metrics-reader.js';
import { MAX_BUCKETS, validateMetricsRequest } from '../analytics/metrics-request.js';
import type { HttpDeps } from './deps.js';

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
  zone: z.string().optional().describe('dwell, occupancy: only this zone (a zone id of the store)'),
  touchpoint: z.string().optional().describe('engagement, feedback: only this touchpoint (a touchpoint id of the store)'),
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
      labels: z.record(z.string(), z.string()).describe('What the series is of: method, zone, touchpoint, score'),
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
  app.get(
    '/api/v1/stores/:store/metrics',
    {
      config: { scope: 'analyst' },
      schema: {
        tags: ['analytics'],
        summary: 'Experience metrics of a store per interval: footfall, visits, capture rate, dwell, occupancy, engagement, feedback',
        description:
          'Read from InfluxDB (InfluxQL). Each series states the definition and parameters of the points it comes from; a range that holds two definitions gives two series. An interval without data has counts 0 and means null.',
        params: z.object({ store: z.string().describe('A store id of the config') }),
        querystring: QuerySchema,
        response: { 200: MetricsResponseSchema, 400: ErrorSchema, 404: ErrorSchema, 502: ErrorSchema },
      },
    },
    async (req, reply) => {
      try {
        const request = validateMetricsRequest({ store: req.params.store, ...req.query }, deps.config.stores);
        return await readMetric(request, deps.influxQuery);
      } catch (err) {
        if (!(err instanceof MetricsError)) throw err;
        if (err.status === 502) req.log.warn({ err }, 'metrics query failed');
        return reply.code(err.status).send({ error: err.message, code: err.code });
      }
    },
  );
};
