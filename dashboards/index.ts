/**
 * The analyst pages as one fastify plugin. The gateway's composition root (gateway/gateway.ts)
 * registers it. The pages are a bundle (dashboards/web/, built by `npm run build` into dist/web/):
 * they read their data through the HTTP API (`/api/v1/...`) like any client and import nothing of
 * the gateway. Everything is served from here, compressed: no CDN, nothing from elsewhere.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import fastifyCompress from '@fastify/compress';
import fastifyStatic from '@fastify/static';
import type { FastifyPluginAsync } from 'fastify';

/** The pages load nothing from elsewhere and talk only to this gateway; no inline script. */
export const PAGE_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

export interface DashboardsOptions {
  /** The built pages (index.html and assets/); default: dist/web of the installed package. */
  assetsDir?: string;
}

/** dist/web beside this module's package: `<package>/dist/web` from `<package>/dist/dashboards/index.js` or `<package>/dashboards/index.ts`. */
export function defaultAssetsDir(moduleDir = dirname(fileURLToPath(import.meta.url))): string {
  let dir = moduleDir;
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir);
    if (parent === dir) return join(moduleDir, '..', 'web');
    dir = parent;
  }
  return join(dir, 'dist', 'web');
}

export const NOT_BUILT_MESSAGE = 'the dashboards are not built: run `npm run build` (it bundles dashboards/web into dist/web), then restart the gateway';

const YEAR_MS = 365 * 86_400_000;

export const dashboardsPlugin: FastifyPluginAsync<DashboardsOptions> = async (app, options) => {
  const root = options.assetsDir ?? defaultAssetsDir();
  if (!existsSync(join(root, 'index.html'))) {
    app.log.warn({ assetsDir: root }, NOT_BUILT_MESSAGE);
    app.get('/', { config: { scope: 'public' }, schema: { hide: true } }, async (_req, reply) =>
      reply.code(503).type('text/plain; charset=utf-8').send(`storeloop: ${NOT_BUILT_MESSAGE} (looked in ${root})`),
    );
    return;
  }
  // encapsulated: compresses what this plugin serves (the bundle is about four times smaller gzipped)
  await app.register(fastifyCompress, { global: true, threshold: 1024 });
  await app.register(fastifyStatic, { root, serve: false, decorateReply: true });
  // the page holds no data: it logs in and reads the API with the session cookie
  app.get('/', { config: { scope: 'public' }, schema: { hide: true } }, async (_req, reply) =>
    reply.header('content-security-policy', PAGE_CSP).header('cache-control', 'no-cache').sendFile('index.html', { cacheControl: false }),
  );
  // file names carry their content's hash: cached for good
  app.get('/assets/*', { config: { scope: 'public' }, schema: { hide: true } }, async (req, reply) => {
    const file = (req.params as { '*': string })['*'];
    return reply.sendFile(join('assets', file), { maxAge: YEAR_MS, immutable: true });
  });
};
