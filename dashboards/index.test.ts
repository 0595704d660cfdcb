import Fastify from 'fastify';
import { describe, expect, it, onTestFinished } from 'vitest';

import { dashboardsPlugin } from './index.js';

describe('dashboards plugin', () => {
  it('serves the live page at / as HTML that reads the live counts from the API', async () => {
    const app = Fastify();
    onTestFinished(() => app.close());
    await app.register(dashboardsPlugin);
    const res = await app.inject({ method: 'GET', url: '/' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(res.body).toMatch(/^<!doctype html>/);
    expect(res.body).toContain("fetch('/api/v1/live')");
    expect(res.body).not.toMatch(/<(script|link)[^>]+(src|href)="https?:/); // no external assets: works offline
    expect(res.headers['content-security-policy']).toMatch(/default-src 'none'.*connect-src 'self'.*frame-ancestors 'none'/);
  });

  it('adds only the page: other paths stay unanswered', async () => {
    const app = Fastify();
    onTestFinished(() => app.close());
    await app.register(dashboardsPlugin);
    expect((await app.inject({ method: 'GET', url: '/api/v1/live' })).statusCode).toBe(404);
    expect((await app.inject({ method: 'POST', url: '/' })).statusCode).toBe(404);
  });
});
