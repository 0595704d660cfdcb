import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import Fastify, { type FastifyInstance } from 'fastify';
import { describe, expect, it, onTestFinished } from 'vitest';

import { dashboardsPlugin, defaultAssetsDir, NOT_BUILT_MESSAGE } from './index.js';

/** A built bundle as vite lays it out: index.html and hashed assets (contents made up, the serving is what is tested). */
function bundle(): string {
  const dir = mkdtempSync(join(tmpdir(), 'storeloop-web-'));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  mkdirSync(join(dir, 'assets'));
  writeFileSync(join(dir, 'index.html'), '<!doctype html><html lang="en"><script type="module" src="./assets/index-abc123.js"></script></html>');
  writeFileSync(join(dir, 'assets', 'index-abc123.js'), `console.log(${JSON.stringify('x'.repeat(4000))});`);
  return dir;
}

async function app(assetsDir: string): Promise<FastifyInstance> {
  const app = Fastify();
  onTestFinished(() => app.close());
  await app.register(dashboardsPlugin, { assetsDir });
  return app;
}

describe('dashboards plugin', () => {
  it('serves the page at / with a CSP that allows nothing from elsewhere and no inline script', async () => {
    const res = await (await app(bundle())).inject({ method: 'GET', url: '/' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(res.body).toMatch(/^<!doctype html>/);
    expect(res.headers['cache-control']).toBe('no-cache');
    const csp = String(res.headers['content-security-policy']);
    expect(csp).toMatch(/default-src 'none'.*script-src 'self';.*connect-src 'self'.*frame-ancestors 'none'/);
    expect(csp).not.toContain('unsafe-inline');
  });

  it('serves the hashed assets compressed and cached for good', async () => {
    const gw = await app(bundle());
    const res = await gw.inject({ method: 'GET', url: '/assets/index-abc123.js', headers: { 'accept-encoding': 'gzip' } });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-encoding']).toBe('gzip');
    expect(res.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(res.rawPayload.length).toBeLessThan(1000); // 4 kB of one letter
    expect((await gw.inject({ method: 'GET', url: '/assets/missing.js' })).statusCode).toBe(404);
    expect((await gw.inject({ method: 'GET', url: '/assets/../index.html' })).statusCode).not.toBe(200);
  });

  it('adds only the pages: other paths stay unanswered', async () => {
    const gw = await app(bundle());
    expect((await gw.inject({ method: 'GET', url: '/api/v1/live' })).statusCode).toBe(404);
    expect((await gw.inject({ method: 'POST', url: '/' })).statusCode).toBe(404);
  });

  it('says how to build the pages when they are not built, and serves nothing else', async () => {
    const missing = join(tmpdir(), 'storeloop-no-such-web-dir');
    const gw = await app(missing);
    const res = await gw.inject({ method: 'GET', url: '/' });
    expect(res.statusCode).toBe(503);
    expect(res.body).toBe(`storeloop: ${NOT_BUILT_MESSAGE} (looked in ${missing})`);
    expect((await gw.inject({ method: 'GET', url: '/assets/index-abc123.js' })).statusCode).toBe(404);
  });

  it('finds dist/web of the package it is part of', () => {
    expect(defaultAssetsDir(join(import.meta.dirname))).toBe(join(import.meta.dirname, '..', 'dist', 'web'));
  });
});
