/** GET /healthz (the process answers) and GET /readyz (the broker listens, InfluxDB answers, the log is not full). */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';

import type { HttpDeps } from './deps.js';

import { LogStatusSchema, SinkStatusSchema } from './log-routes.js';

const ReadyzSchema = z.object({ ready: z.boolean(), checks: z.record(z.string(), z.boolean()), log: LogStatusSchema, sinks: z.array(SinkStatusSchema) });

export const healthRoutes: FastifyPluginAsyncZod<{ deps: HttpDeps }> = async (app, { deps }) => {
  app.get(
    '/healthz',
    {
      config: { scope: 'public' },
      schema: {
        tags: ['health'],
        summary: 'Liveness: the gateway process answers',
        response: { 200: z.object({ status: z.literal('ok'), version: z.string() }) },
      },
    },
    async () => ({
      status: 'ok' as const,
      version: deps.version,
    }),
  );

  app.get(
    '/readyz',
    {
      config: { scope: 'public' },
      schema: {
        tags: ['health'],
        summary:
          "Readiness: 200 once the MQTT broker listens, InfluxDB answers and the event log is not full, else 503; with the log state and every sink's lag and health",
        response: { 200: ReadyzSchema, 503: ReadyzSchema },
      },
    },
    async (_req, reply) => {
      const results = await Promise.all(
        deps.readiness.map(
          async (c) =>
            [
              c.name,
              await Promise.resolve()
                .then(() => c.check())
                .catch(() => false),
            ] as const,
        ),
      );
      const log = deps.eventLog.status();
      const checks = { ...Object.fromEntries(results), log: !log.full };
      const ready = Object.values(checks).every((ok) => ok);
      return reply.code(ready ? 200 : 503).send({ ready, checks, log, sinks: deps.sinks.status() });
    },
  );
};
