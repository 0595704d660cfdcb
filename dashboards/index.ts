/**
 * The analyst pages as one fastify plugin. The gateway's composition root (gateway/gateway.ts)
 * registers it; the pages read their data through the HTTP API (`/api/v1/...`) like any client and
 * import nothing of the gateway.
 */
import type { FastifyPluginAsync } from 'fastify';

import { LIVE_PAGE_HTML } from './live-page.js';

/** The pages load nothing from elsewhere and talk only to this gateway; their script and style are inline. */
export const PAGE_CSP =
  "default-src 'none'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

export const dashboardsPlugin: FastifyPluginAsync = async (app) => {
  // the page holds no data: it logs in and reads the API with the session cookie
  app.get('/', { config: { scope: 'public' }, schema: { hide: true } }, async (_req, reply) =>
    reply.type('text/html; charset=utf-8').header('content-security-policy', PAGE_CSP).send(LIVE_PAGE_HTML),
  );
};
