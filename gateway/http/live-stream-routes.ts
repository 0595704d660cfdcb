/**
 * GET /api/v1/live/stream: the live counts as server-sent events, for the dashboards' live updates.
 * An event `live` carries the JSON of GET /api/v1/live: once at connect, then whenever it changes, at
 * most every 2 s; a comment line every 15 s keeps proxies from closing a quiet stream.
 *
 * Authenticated like every route (the session cookie of a browser login, or a bearer token; scope
 * `analyst`), and checked again at every tick: a session logged out, ended or expired, or a token
 * revoked or expired, gets an event `closed` with the reason and its stream ends. At most
 * `http.maxLiveStreams` streams are open at once (503 past it); a client that stops reading is cut
 * off once 1 MiB waits for it; every stream ends when the server closes (the gateway stops).
 */
import type { ServerResponse } from 'node:http';

import type { FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { Counter, Gauge, type Registry } from 'prom-client';
import { z } from 'zod';

import { readCookie, SESSION_COOKIE, type AuthOptions } from './auth-plugin.js';
import type { HttpDeps } from './deps.js';
import { liveAnswer } from './live-routes.js';

/** Changes are sent at most this often, and credentials checked again this often. */
export const LIVE_STREAM_INTERVAL_MS = 2_000;
/** A comment line this often, so that proxies and browsers see a quiet stream is alive. */
export const LIVE_STREAM_HEARTBEAT_MS = 15_000;
/** A client that has this much unsent data waiting (it stopped reading) is cut off. */
const MAX_BUFFERED_BYTES = 1024 * 1024;
/** EventSource waits this long before it connects again after the stream ended. */
const RECONNECT_MS = 5_000;

/** Why a stream's credentials no longer hold, or null while they do. */
export type CredentialCheck = () => string | null;

/** The part of a response a stream writes to (node:http's ServerResponse, a PassThrough in the unit tests). */
export interface EventSink {
  write(chunk: string): boolean;
  end(): void;
  destroy(): void;
  readonly writableLength: number;
  once(event: 'close', listener: () => void): unknown;
}

interface OpenStream {
  sink: EventSink;
  check: CredentialCheck;
  lastSent: string | undefined;
}

export interface LiveStreamHubOptions {
  maxStreams: number;
  /** The JSON of one `live` event (the answer of GET /api/v1/live). */
  snapshot: () => string;
  intervalMs?: number;
  heartbeatMs?: number;
  metrics?: { open: Gauge; refused: Counter };
}

/** The open streams: one tick for all of them (the snapshot is made once), timers only while one is open. */
export class LiveStreamHub {
  private readonly streams = new Set<OpenStream>();
  private tickTimer: NodeJS.Timeout | undefined;
  private heartbeatTimer: NodeJS.Timeout | undefined;
  private closing = false;

  constructor(private readonly options: LiveStreamHubOptions) {}

  get size(): number {
    return this.streams.size;
  }

  /** Whether one more stream may open now (not full, not closing); counts a refusal. */
  admits(): boolean {
    const ok = !this.closing && this.streams.size < this.options.maxStreams;
    if (!ok) this.options.metrics?.refused.inc();
    return ok;
  }

  /** Starts a stream on a sink whose headers are written: the current state at once, changes at each tick. */
  open(sink: EventSink, check: CredentialCheck): void {
    const stream: OpenStream = { sink, check, lastSent: undefined };
    this.streams.add(stream);
    this.options.metrics?.open.set(this.streams.size);
    sink.once('close', () => this.forget(stream));
    sink.write(`retry: ${RECONNECT_MS}\n\n`);
    this.send(stream, this.options.snapshot());
    if (this.tickTimer === undefined) {
      this.tickTimer = setInterval(() => this.tick(), this.options.intervalMs ?? LIVE_STREAM_INTERVAL_MS);
      this.heartbeatTimer = setInterval(() => this.heartbeat(), this.options.heartbeatMs ?? LIVE_STREAM_HEARTBEAT_MS);
    }
  }

  /** Ends every stream with an event `closed` saying why, and refuses new ones (the server is closing). */
  closeAll(reason: string, code: string): void {
    this.closing = true;
    for (const stream of [...this.streams]) this.end(stream, reason, code);
  }

  /** Checks each stream's credentials again and sends the state to those that have not seen it. */
  tick(): void {
    if (this.streams.size === 0) return;
    const json = this.options.snapshot();
    for (const stream of [...this.streams]) {
      const denied = stream.check();
      if (denied !== null) this.end(stream, denied, 'SL_ERR_HTTP_UNAUTHENTICATED');
      else this.send(stream, json);
    }
  }

  heartbeat(): void {
    for (const stream of [...this.streams]) this.write(stream, `: heartbeat ${new Date().toISOString()}\n\n`);
  }

  private send(stream: OpenStream, json: string): void {
    if (json === stream.lastSent) return;
    stream.lastSent = json;
    this.write(stream, `event: live\ndata: ${json}\n\n`);
  }

  private write(stream: OpenStream, chunk: string): void {
    if (stream.sink.writableLength > MAX_BUFFERED_BYTES) {
      // it stopped reading: what waits for it would only grow
      stream.sink.destroy();
      this.forget(stream);
      return;
    }
    stream.sink.write(chunk);
  }

  private end(stream: OpenStream, reason: string, code: string): void {
    this.forget(stream);
    stream.sink.write(`event: closed\ndata: ${JSON.stringify({ reason, code })}\n\n`);
    stream.sink.end();
  }

  private forget(stream: OpenStream): void {
    if (!this.streams.delete(stream)) return;
    this.options.metrics?.open.set(this.streams.size);
    if (this.streams.size === 0) {
      clearInterval(this.tickTimer);
      clearInterval(this.heartbeatTimer);
      this.tickTimer = undefined;
      this.heartbeatTimer = undefined;
    }
  }
}

/** What the request was authenticated with, checked again: the session (logged out, ended, its token revoked or expired) or the bearer token. */
function credentialCheck(req: FastifyRequest, auth: AuthOptions): CredentialCheck {
  const principal = req.principal;
  if (principal === undefined) return () => 'not authenticated';
  const sessionId = principal.via === 'session' ? readCookie(req, SESSION_COOKIE) : undefined;
  if (sessionId !== undefined) {
    return () => {
      const session = auth.sessions.get(sessionId);
      if (session === undefined) return 'the session has ended (logout, expiry or restart): log in again';
      const check = auth.tokens.check(session.tokenId);
      if (check.ok) return null;
      auth.sessions.end(sessionId);
      return `the token of the session is ${check.reason === 'invalid_token' ? 'gone' : check.reason}: log in again`;
    };
  }
  const tokenId = principal.token.id;
  return () => {
    const check = auth.tokens.check(tokenId);
    return check.ok ? null : `the token is ${check.reason === 'invalid_token' ? 'gone' : check.reason}`;
  };
}

function streamMetrics(registry: Registry): { open: Gauge; refused: Counter } {
  const open =
    (registry.getSingleMetric('storeloop_http_live_streams') as Gauge | undefined) ??
    new Gauge({ name: 'storeloop_http_live_streams', help: 'Live update streams open (GET /api/v1/live/stream)', registers: [registry] });
  const refused =
    (registry.getSingleMetric('storeloop_http_live_streams_refused_total') as Counter | undefined) ??
    new Counter({
      name: 'storeloop_http_live_streams_refused_total',
      help: 'Live update streams refused because http.maxLiveStreams were open (or the gateway was stopping)',
      registers: [registry],
    });
  return { open, refused };
}

const ErrorSchema = z.object({ error: z.string(), code: z.string() });

export interface LiveStreamRouteOptions {
  deps: Pick<HttpDeps, 'live' | 'history' | 'config' | 'metrics'>;
  auth: AuthOptions;
}

export const liveStreamRoutes: FastifyPluginAsyncZod<LiveStreamRouteOptions> = async (app, { deps, auth }) => {
  const maxStreams = deps.config.http.maxLiveStreams;
  const hub = new LiveStreamHub({
    maxStreams,
    // the JSON of GET /api/v1/live (live-routes.ts), from the same source
    snapshot: () => JSON.stringify(liveAnswer(deps)),
    metrics: streamMetrics(deps.metrics.registry),
  });
  // before fastify closes the connections: each stream gets its `closed` event and ends cleanly
  app.addHook('preClose', async () => hub.closeAll('the gateway is stopping', 'SL_ERR_HTTP_STOPPING'));

  app.get(
    '/api/v1/live/stream',
    {
      config: { scope: 'analyst' },
      // a HEAD would hold a stream open with no body to send
      exposeHeadRoute: false,
      schema: {
        tags: ['live'],
        summary: 'Live counts as server-sent events: `live` (the JSON of GET /api/v1/live) at once and on each change, at most every 2 s',
        description:
          'text/event-stream. Events: `live` (data: the JSON of GET /api/v1/live), `closed` (data: {reason, code}) when the session or token no longer holds (checked every 2 s) or the gateway stops; a comment line every 15 s. At most http.maxLiveStreams streams are open at once: past it, 503 with Retry-After.',
        produces: ['text/event-stream', 'application/json'],
        response: { 200: z.string().describe('An event stream'), 503: ErrorSchema },
      },
    },
    async (req, reply) => {
      if (!hub.admits()) {
        return reply
          .code(503)
          .header('retry-after', String(RECONNECT_MS / 1000))
          .send({
            error: `too many live update streams are open (http.maxLiveStreams: ${maxStreams}); close a dashboard tab or retry later`,
            code: 'SL_ERR_HTTP_LIVE_STREAMS_FULL',
          });
      }
      reply.hijack();
      const res: ServerResponse = reply.raw;
      res.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache, no-store',
        connection: 'keep-alive',
        // nginx and similar proxies: pass the events on as they come
        'x-accel-buffering': 'no',
      });
      res.socket?.setNoDelay(true);
      hub.open(res, credentialCheck(req, auth));
      return reply;
    },
  );
};
