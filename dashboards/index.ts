/**
 * The analyst pages as one fastify plugin. The gateway's composition root (gateway/gateway.ts)
 * registers it; the pages read their data through the HTTP API (`/api/v1/...`) like any client and
 * import nothing of the gateway.
 */
import type { FastifyPluginAsync } from 'fastify';

import { LIVE_PAGE_HTML } from './live-page.js';

export const dashboardsPlugin: FastifyPluginAsync = async (app) => {
  app.get('/', { schema: { hide: true } }, async (_req, reply) => reply.type('text/html; charset=utf-8').send(LIVE_PAGE_HTML));
};
