/**
 * The gateway's HTTP API (fastify): one encapsulated plugin per route group, zod schemas for
 * validation and the OpenAPI document (/openapi.json, UI at /docs). Every route states the scope it
 * needs (auth-plugin.ts); requests are rate limited per client address and their bodies capped.
 */
import fastifyHelmet from '@fastify/helmet';
import fastifyRateLimit from '@fastify/rate-limit';
import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyPluginAsync } from 'fastify';
import { jsonSchemaTransform, serializerCompiler, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';

import type { Logger } from '../../lib/logger.js';
import { FailureLimiter } from '../auth/failure-limiter.js';
import { WebSessions } from '../auth/web-sessions.js';
import { analyticsRoutes } from './analytics-routes.js';
import { deniedCounter, installAuth, type AuthOptions } from './auth-plugin.js';
import type { HttpDeps } from './deps.js';
import { logRoutes } from './log-routes.js';
import { healthRoutes } from './health-routes.js';
import { liveRoutes } from './live-routes.js';
import { liveStreamRoutes } from './live-stream-routes.js';
import { deviceRoutes } from './device-routes.js';
import { pipelineRoutes } from './pipeline-routes.js';
import { metricsRoutes } from './metrics-routes.js';
import { rejectionRoutes } from './rejection-routes.js';
import { sessionRoutes } from './session-routes.js';
import { storeRoutes } from './store-routes.js';
import { tokenRoutes } from './token-routes.js';
import { consentRoutes } from './consent-routes.js';
import { identityLinkRoutes } from './identity-link-routes.js';
import { crmRoutes } from './crm-routes.js';
import { mqttIdentityRoutes } from './mqtt-identity-routes.js';

const HTTP_REQUEST_TIMEOUT_MS = 30_000;

/** `pages`: plugins the composition root adds beside the API (the dashboards). */
export async function buildHttpServer(deps: HttpDeps, log: Logger, pages: FastifyPluginAsync[] = []): Promise<FastifyInstance> {
  // pino's Logger and fastify's FastifyBaseLogger differ only in optional members; fastify takes pino loggers
  const loggerInstance = log as unknown as FastifyBaseLogger;
  const http = deps.config.http;
  const app = Fastify({
    loggerInstance,
    logController: new LogController({ disableRequestLogging: true }),
    // at stop, every connection is closed (idle keep-alives and requests whose headers never finished), so
    // SIGTERM is not held up by a client and the shutdown reaches the sinks' final commits
    forceCloseConnections: true,
    // a request must arrive whole within 30 s (slow headers or body: 408 and closed)
    requestTimeout: HTTP_REQUEST_TIMEOUT_MS,
    // larger bodies: 413 before they are read whole
    bodyLimit: http.bodyLimitBytes,
    trustProxy: http.trustProxy,
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
  // no CORS plugin: browsers get no Access-Control-Allow-* header, so other sites' pages cannot read the API

  const auth: AuthOptions = {
    tokens: deps.tokens,
    sessions: new WebSessions(http.sessionTtlSeconds * 1000),
    failures: new FailureLimiter(http.authFailuresPerMinute),
    denied: deniedCounter(deps.metrics.registry),
  };
  // both before any route: each adds its onRequest check to the routes registered after it
  await app.register(fastifyRateLimit, {
    max: http.rateLimitPerMinute,
    timeWindow: 60_000,
    onExceeded: () => auth.denied.inc({ reason: 'rate_limited' }),
    errorResponseBuilder: (_req, context) =>
      Object.assign(new Error(`rate limit exceeded (http.rateLimitPerMinute: ${context.max} a minute per address); retry in ${context.after}`), {
        statusCode: context.statusCode,
        code: 'SL_ERR_HTTP_RATE_LIMITED',
      }),
  });
  installAuth(app, auth);
  await app.register(fastifySwagger, {
    openapi: {
      info: {
        title: 'storeloop gateway API',
        description:
          'Health, metrics, store layout, experience metrics, rejections and live counts of a storeloop gateway. Every route but /healthz, /readyz and the docs needs a bearer token (`storeloop tokens add`) with the scope its description names, or the session cookie of a token login (POST /api/v1/session).',
        version: deps.version,
      },
      components: {
        securitySchemes: {
          bearerAuth: { type: 'http', scheme: 'bearer', description: 'An API token: `Authorization: Bearer sl_<id>_<secret>`' },
          sessionCookie: { type: 'apiKey', in: 'cookie', name: 'storeloop_session', description: 'The session of a token login (POST /api/v1/session)' },
        },
      },
      tags: [
        { name: 'health', description: 'Liveness, readiness and Prometheus metrics' },
        { name: 'stores', description: 'The configured store layout' },
        { name: 'analytics', description: 'Experience metrics of a store from InfluxDB' },
        { name: 'ingest', description: 'What the gateway rejected and why' },
        { name: 'live', description: 'Live counts in memory' },
        { name: 'sinks', description: 'The event log and its sinks' },
        { name: 'auth', description: 'Browser sessions and API tokens' },
        { name: 'privacy', description: 'Consents, their receipts and the audit log' },
      ],
    },
    transform: jsonSchemaTransform,
  });
  await app.register(fastifySwaggerUi, { routePrefix: '/docs' });
  app.get('/openapi.json', { config: { scope: 'public' }, schema: { hide: true } }, async () => app.swagger());

  await app.register(healthRoutes, { deps });
  await app.register(metricsRoutes, { deps });
  await app.register(storeRoutes, { deps });
  await app.register(analyticsRoutes, { deps });
  await app.register(rejectionRoutes, { deps });
  await app.register(liveRoutes, { deps });
  await app.register(liveStreamRoutes, { deps, auth });
  await app.register(deviceRoutes, { deps });
  await app.register(pipelineRoutes, { deps });
  await app.register(logRoutes, { deps });
  await app.register(sessionRoutes, { auth, secureCookie: http.secureCookie });
  await app.register(tokenRoutes, { tokens: deps.tokens });
  await app.register(mqttIdentityRoutes, { identities: deps.mqttIdentities, config: deps.config });
  await app.register(consentRoutes, { consents: deps.consents, customers: deps.customerTokens, erasure: deps.erasure, config: deps.config });
  await app.register(identityLinkRoutes, { customers: deps.customerTokens, config: deps.config });
  await app.register(crmRoutes, { crm: deps.crm });
  for (const plugin of pages) await app.register(plugin);
  return app;
}
