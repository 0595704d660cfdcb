/**
 * Who may call which route of the HTTP API. Every route states what it needs, once, in its options:
 *
 *   app.get('/api/v1/sinks', { config: { scope: 'operator' }, schema: { … } }, handler)
 *
 * `scope` is an API scope (`analyst`, `operator`, `privacy-officer`, `integration`, `admin`; `admin`
 * includes every scope, `operator` includes `analyst`), `authenticated` (any valid token), or `public`
 * (no credentials: only routes that show no data). A route that states nothing fails at startup, so no
 * route is open by omission; the OpenAPI UI under /docs is public.
 *
 * One onRequest check, added to every route, reads the credentials: a bearer token (`Authorization: Bearer sl_…`), else the
 * browser session cookie a token login set (session-routes.ts). Missing or invalid: 401 with
 * `WWW-Authenticate: Bearer`; valid without the scope: 403 naming it. Every denial is counted in
 * `storeloop_http_denied_total{reason}`.
 */
import { Counter, type Registry } from 'prom-client';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

import { hasScope, type ApiScope, type ApiToken, type ApiTokenStore } from '../auth/api-tokens.js';
import type { FailureLimiter } from '../auth/failure-limiter.js';
import type { WebSessions } from '../auth/web-sessions.js';

/** What a route needs: a scope, any valid token, or nothing. */
export type RouteScope = ApiScope | 'authenticated' | 'public';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** What the route needs (gateway/http/auth-plugin.ts); every route states it. */
    scope?: RouteScope;
  }
  interface FastifyRequest {
    /** The token the request was authenticated with; undefined on public routes. */
    principal?: { token: ApiToken; via: 'bearer' | 'session' };
  }
}

/** The cookie a token login sets (HttpOnly, SameSite=Strict). */
export const SESSION_COOKIE = 'storeloop_session';

export const DENIAL_REASONS = [
  'missing_credentials',
  'invalid_token',
  'revoked',
  'expired',
  'session_invalid',
  'insufficient_scope',
  'cross_origin',
  'too_many_failures',
  'rate_limited',
] as const;
export type DenialReason = (typeof DENIAL_REASONS)[number];

export interface AuthOptions {
  tokens: ApiTokenStore;
  sessions: WebSessions;
  failures: FailureLimiter;
  denied: Counter<'reason'>;
}

/** Prefixes of routes that plugins register for us and that show no data: the OpenAPI UI. */
const PUBLIC_PREFIXES = ['/docs'];
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** `storeloop_http_denied_total{reason}`, registered once per registry. */
export function deniedCounter(registry: Registry): Counter<'reason'> {
  const name = 'storeloop_http_denied_total';
  const existing = registry.getSingleMetric(name);
  if (existing) return existing as Counter<'reason'>;
  return new Counter({
    name,
    help: 'HTTP requests refused: missing, invalid, revoked or expired credentials, a missing scope, a cross-origin cookie request, too many failures or requests',
    labelNames: ['reason'],
    registers: [registry],
  });
}

/** The value of one cookie of the request, or undefined. */
export function readCookie(req: FastifyRequest, name: string): string | undefined {
  const header = req.headers.cookie;
  if (header === undefined) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/**
 * Adds the scope check to `app` (the root instance, after the rate limit and before any route is
 * registered): every route must state its scope, gets its OpenAPI security entry and the onRequest check.
 */
export function installAuth(app: FastifyInstance, options: AuthOptions): void {
  const authorize = async (req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined> => {
    const scope = req.routeOptions.config.scope;
    if (scope === undefined || scope === 'public') return undefined;
    const waitMs = options.failures.blockedForMs(req.ip);
    if (waitMs > 0) {
      options.denied.inc({ reason: 'too_many_failures' });
      return reply
        .code(429)
        .header('retry-after', String(Math.ceil(waitMs / 1000)))
        .send({ error: 'too many failed logins or invalid tokens from this address: try again later', code: 'SL_ERR_HTTP_AUTH_LOCKED' });
    }
    const outcome = identify(req, options);
    if ('denied' in outcome) return deny(reply, options, outcome.denied, outcome.denied === 'cross_origin' ? 403 : 401);
    if (scope !== 'authenticated' && !hasScope(outcome.token.scopes, scope)) {
      options.denied.inc({ reason: 'insufficient_scope' });
      return reply
        .code(403)
        .header('www-authenticate', `Bearer realm="storeloop", error="insufficient_scope", scope="${scope}"`)
        .send({
          error: `this route needs the scope '${scope}'; the token '${outcome.token.name}' has ${outcome.token.scopes.join(', ')}`,
          code: 'SL_ERR_HTTP_FORBIDDEN',
          scope,
        });
    }
    req.principal = outcome;
    return undefined;
  };

  app.addHook('onRoute', (route) => {
    const path = route.url ?? route.path;
    if (PUBLIC_PREFIXES.some((prefix) => path === prefix || path.startsWith(`${prefix}/`))) {
      route.config = { ...route.config, scope: route.config?.scope ?? 'public' };
    }
    const scope = route.config?.scope;
    if (scope === undefined) {
      throw new Error(`route ${String(route.method)} ${path} states no config.scope ('public', 'authenticated' or an API scope; gateway/http/auth-plugin.ts)`);
    }
    // a route-level hook, added after the rate limit's (registered before this): a flood of requests
    // without credentials is rate limited like any other, before a token is looked up
    const hooks = route.onRequest === undefined ? [] : Array.isArray(route.onRequest) ? route.onRequest : [route.onRequest];
    if (!hooks.includes(authorize)) route.onRequest = [...hooks, authorize];
    if (scope !== 'public' && route.schema) {
      const needs = scope === 'authenticated' ? 'any valid token' : `the scope \`${scope}\`${scope === 'admin' ? '' : ' (or one that includes it)'}`;
      route.schema = {
        ...route.schema,
        security: [{ bearerAuth: [] }, { sessionCookie: [] }],
        description: `${route.schema.description ?? ''}${route.schema.description ? '\n\n' : ''}Needs ${needs}.`,
      };
    }
  });
}

type Identified = { token: ApiToken; via: 'bearer' | 'session' } | { denied: DenialReason };

function identify(req: FastifyRequest, options: AuthOptions): Identified {
  const authorization = req.headers.authorization;
  if (authorization !== undefined) {
    const bearer = /^Bearer +(\S+)\s*$/i.exec(authorization)?.[1];
    const check = bearer === undefined ? ({ ok: false, reason: 'invalid_token' } as const) : options.tokens.authenticate(bearer);
    if (!check.ok) {
      options.failures.record(req.ip);
      return { denied: check.reason };
    }
    return { token: check.token, via: 'bearer' };
  }
  const sessionId = readCookie(req, SESSION_COOKIE);
  if (sessionId === undefined) return { denied: 'missing_credentials' };
  // a stale cookie (the gateway restarted, the session ended) is no guess: not counted as a failure
  const session = options.sessions.get(sessionId);
  if (session === undefined) return { denied: 'session_invalid' };
  const check = options.tokens.check(session.tokenId);
  if (!check.ok) {
    options.sessions.end(sessionId);
    return { denied: check.reason };
  }
  // SameSite=Strict keeps other sites' requests from carrying the cookie; a request that changes
  // something must also come from a page of this gateway (browsers send Origin with such requests)
  if (!SAFE_METHODS.has(req.method) && !isSameOrigin(req)) return { denied: 'cross_origin' };
  return { token: check.token, via: 'session' };
}

function isSameOrigin(req: FastifyRequest): boolean {
  const origin = req.headers.origin;
  if (origin === undefined || req.headers.host === undefined) return false;
  try {
    return new URL(origin).host === req.headers.host;
  } catch {
    return false;
  }
}

const DENIAL_MESSAGES: Partial<Record<DenialReason, string>> = {
  missing_credentials: 'this route needs a bearer token (Authorization: Bearer sl_…) or a session (POST /api/v1/session)',
  invalid_token: 'the bearer token is not valid',
  revoked: 'the token has been revoked',
  expired: 'the token has expired',
  session_invalid: 'the session has ended: log in again',
  cross_origin: 'a session may change something only from a page of this gateway',
};

function deny(reply: FastifyReply, options: AuthOptions, reason: DenialReason, status: 401 | 403): FastifyReply {
  options.denied.inc({ reason });
  // RFC 6750 §3: a 401 names the scheme, and the error when credentials were given
  if (status === 401)
    reply.header('www-authenticate', reason === 'missing_credentials' ? 'Bearer realm="storeloop"' : 'Bearer realm="storeloop", error="invalid_token"');
  return reply.code(status).send({ error: DENIAL_MESSAGES[reason] ?? reason, code: status === 401 ? 'SL_ERR_HTTP_UNAUTHENTICATED' : 'SL_ERR_HTTP_FORBIDDEN' });
}
