/** GET /metrics: Prometheus text exposition of the gateway's registry. */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';

import type { HttpDeps } from './deps.js';

export const metricsRoutes: FastifyPluginAsyncZod<{ deps: HttpDeps }> = async (app, { deps }) => {
  app.get(
    '/metrics',
    { config: { scope: 'operator' }, schema: { tags: ['health'], summary: 'Prometheus metrics', produces: ['text/plain'], response: { 200: z.string() } } },
    async (_req, reply) => {
      const body = await deps.metrics.registry.metrics();
      return reply.type(deps.metrics.registry.contentType).send(body);
    },
  );
};
