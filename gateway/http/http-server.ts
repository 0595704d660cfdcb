/**
 * The gateway's HTTP API (fastify): one encapsulated plugin per route group, zod schemas for
 * validation and the OpenAPI document (/openapi.json, UI at /docs).
 */
import fastifyHelmet from '@fastify/helmet';
import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyPluginAsync } from 'fastify';
import { jsonSchemaTransform, serializerCompiler, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';

import type { Logger } from '../../lib/logger.js';
import type { HttpDeps } from './deps.js';
import { logRoutes } from './log-routes.js';
import { healthRoutes } from './health-routes.js';
import { liveRoutes } from './live-routes.js';
import { metricsRoutes } from './metrics-routes.js';
import { rejectionRoutes } from './rejection-routes.js';
import { storeRoutes } from './store-routes.js';

const HTTP_REQUEST_TIMEOUT_MS = 30_000;

/** `pages`: plugins the composition root adds beside the API (the dashboards). */
export async function buildHttpServer(deps: HttpDeps, log: Logger, pages: FastifyPluginAsync[] = []): Promise<FastifyInstance> {
  // pino's Logger and fastify's FastifyBaseLogger differ only in optional members; fastify takes pino loggers
  const loggerInstance = log as unknown as FastifyBaseLogger;
  const app = Fastify({
    loggerInstance,
    logController: new LogController({ disableRequestLogging: true }),
    // at stop, every connection is closed (idle keep-alives and requests whose headers never finished), so
    // SIGTERM is not held up by a client and the shutdown reaches the sinks' final commits
    forceCloseConnections: true,
    // a request must arrive whole within 30 s (slow headers or body: 408 and closed)
    requestTimeout: HTTP_REQUEST_TIMEOUT_MS,
  }).withTypeProvider<ZodTypeProvider>();
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  app.setErrorHandler((err: { statusCode?: number; code?: string; message: string }, req, reply) => {
    const status = err.statusCode ?? 500;
    if (status >= 500) {
      req.log.error({ err, url: req.url }, 'request failed');
      return reply.code(500).send({ error: 'internal error', code: 'SL_ERR_HTTP_INTERNAL' });
    }
    return reply.code(status).send({ error: err.message, code: err.code ?? 'SL_ERR_HTTP_BAD_REQUEST' });
  });

  // security headers on every answer (nosniff, frame-ancestors none, no referrer, same-origin resources);
  // each page sets its own Content-Security-Policy (the dashboards', the OpenAPI UI's)
  await app.register(fastifyHelmet, { contentSecurityPolicy: false, crossOriginEmbedderPolicy: false, strictTransportSecurity: false });
  await app.register(fastifySwagger, {
    openapi: {
      info: {
        title: 'storeloop gateway API',
        description: 'Health, metrics, store layout, rejections and live counts of a storeloop gateway.',
        version: deps.version,
      },
      tags: [
        { name: 'health', description: 'Liveness, readiness and Prometheus metrics' },
        { name: 'stores', description: 'The configured store layout' },
        { name: 'ingest', description: 'What the gateway rejected and why' },
        { name: 'live', description: 'Live counts in memory' },
      ],
    },
    transform: jsonSchemaTransform,
  });
  await app.register(fastifySwaggerUi, { routePrefix: '/docs' });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());

  await app.register(healthRoutes, { deps });
  await app.register(metricsRoutes, { deps });
  await app.register(storeRoutes, { deps });
  await app.register(rejectionRoutes, { deps });
  await app.register(liveRoutes, { deps });
  await app.register(logRoutes, { deps });
  for (const plugin of pages) await app.register(plugin);
  return app;
}
