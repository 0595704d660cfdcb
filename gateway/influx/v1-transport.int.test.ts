import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';

import { HttpError } from '@influxdata/influxdb-client';
import { describe, expect, it, onTestFinished } from 'vitest';

import { V1Transport, normaliseError, parseRetryAfterMs, toV1WritePath } from './v1-transport.js';

interface Seen {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/** A loopback server that records requests and answers with `reply`. */
async function recorder(reply: { status: number; headers?: Record<string, string>; body?: string }): Promise<{ url: string; seen: Seen[] }> {
  const seen: Seen[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      res.writeHead(reply.status, reply.headers ?? {});
      res.end(reply.body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  onTestFinished(
    () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  );
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen };
}

function send(transport: V1Transport, path: string, body: string): Promise<{ status: number | undefined; error?: Error }> {
  return new Promise((resolve) => {
    let status: number | undefined;
    transport.send(
      path,
      body,
      { method: 'POST' },
      {
        responseStarted: (_headers, statusCode) => (status = statusCode),
        complete: () => resolve({ status }),
        error: (error) => resolve({ status, error }),
      },
    );
  });
}

describe('V1Transport', () => {
  it('sends the client write path to /write with db, rp, 1.x precision and Basic auth', async () => {
    const server = await recorder({ status: 204 });
    const transport = new V1Transport({ url: server.url, database: 'shop db', retentionPolicy: 'week', username: 'gw', password: 'p:w', timeoutMs: 2000 });
    const result = await send(transport, '/api/v2/write?org=&bucket=ignored&precision=us', 'm f=1i 1');
    expect(result).toEqual({ status: 204 });
    expect(server.seen).toHaveLength(1);
    const [request] = server.seen;
    expect(request?.url).toBe('/write?db=shop+db&rp=week&precision=u');
    expect(request?.headers.authorization).toBe(`Basic ${Buffer.from('gw:p:w').toString('base64')}`);
    expect(request?.body).toBe('m f=1i 1');
  });

  it('sends no Authorization header without a username', async () => {
    const server = await recorder({ status: 204 });
    await send(new V1Transport({ url: server.url, database: 'db', timeoutMs: 2000 }), '/api/v2/write?org=&bucket=db&precision=ns', 'm f=1i 1');
    expect(server.seen[0]?.url).toBe('/write?db=db&precision=n');
    expect(server.seen[0]?.headers.authorization).toBeUndefined();
  });

  it('reports a 1.x error as HttpError with the text of its "error" field', async () => {
    const message = 'partial write: field type conflict: input field "f" on measurement "m" is type string, already exists as type integer dropped=1';
    const server = await recorder({ status: 400, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ error: message }) });
    const result = await send(new V1Transport({ url: server.url, database: 'db', timeoutMs: 2000 }), '/api/v2/write?org=&bucket=db&precision=ns', 'm f="x" 2');
    expect(result.error).toBeInstanceOf(HttpError);
    expect((result.error as HttpError).statusCode).toBe(400);
    expect(result.error?.message).toBe(message);
  });

  it('request() maps the write path and hands a 1.x 404 "database not found" back once, without resending', async () => {
    const server = await recorder({ status: 404, headers: { 'content-type': 'application/json' }, body: '{"error":"database not found: \\"db\\""}' });
    const transport = new V1Transport({ url: server.url, database: 'db', timeoutMs: 2000 });
    const error = await transport.request('/api/v2/write?org=&bucket=db&precision=ns', 'm f=1i 1', { method: 'POST' }).catch((err: unknown) => err);
    // the InfluxWriter recreates the database and reports the write as retryable; the sink resends it
    expect(error).toBeInstanceOf(HttpError);
    expect((error as HttpError).statusCode).toBe(404);
    expect((error as HttpError).message).toBe('database not found: "db"');
    expect(server.seen.map((r) => [r.method, r.url, r.body])).toEqual([['POST', '/write?db=db&precision=n', 'm f=1i 1']]);
  });
});

describe('v1 transport helpers', () => {
  it('maps the v2 write path and leaves other paths alone', () => {
    expect(toV1WritePath('/api/v2/write?org=o&bucket=b&precision=ms', 'db')).toBe('/write?db=db&precision=ms');
    expect(toV1WritePath('/api/v2/write?org=o&bucket=b&precision=s&consistency=all', 'db', 'rp1')).toBe('/write?db=db&rp=rp1&precision=s&consistency=all');
    expect(toV1WritePath('/ping', 'db')).toBe('/ping');
  });

  it('reads Retry-After as seconds or an HTTP date', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(parseRetryAfterMs('30', now)).toBe(30_000);
    expect(parseRetryAfterMs('1.5', now)).toBe(1_500);
    expect(parseRetryAfterMs('Thu, 01 Jan 2026 00:00:10 GMT', now)).toBe(10_000);
    expect(parseRetryAfterMs('soon', now)).toBeUndefined();
    expect(parseRetryAfterMs(undefined, now)).toBeUndefined();
  });

  it('turns Retry-After seconds into the milliseconds the client retry strategy expects', () => {
    const original = new HttpError(429, 'Too Many Requests', '{"code":"too many requests","message":"slow down"}', '2', 'application/json', undefined, {
      'retry-after': '2',
    });
    expect(original.retryAfter()).toBe(2); // client 1.35 reads the header as milliseconds
    const fixed = normaliseError(original);
    expect(fixed).toBeInstanceOf(HttpError);
    expect((fixed as HttpError).retryAfter()).toBe(2000);
    expect((fixed as HttpError).statusCode).toBe(429);
    expect(fixed.message).toBe('slow down');
  });
});
