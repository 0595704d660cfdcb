/**
 * Token login for browsers: POST /api/v1/session trades a token for a session cookie (HttpOnly,
 * SameSite=Strict, Secure over https), so the live page's requests carry no token in script;
 * GET /api/v1/session says who is logged in; DELETE /api/v1/session logs out.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';

import { ApiScopeSchema } from '../auth/api-tokens.js';
import { readCookie, SESSION_COOKIE, type AuthOptions } from './auth-plugin.js';

export interface SessionRouteOptions {
  auth: AuthOptions;
  /** `auto`: Secure when the request came over https (as fastify sees it: trustProxy decides whether X-Forwarded-Proto counts). */
  secureCookie: 'auto' | 'always' | 'never';
}

const ErrorSchema = z.object({ error: z.string(), code: z.string() });
const SessionSchema = z.object({
  name: z.string().describe('Name of the token the session stands for'),
  scopes: z.array(ApiScopeSchema),
  expiresAt: z.string().nullable().describe('When the session ends (ISO 8601); null for a bearer token without expiry'),
});

function setSessionCookie(
  req: FastifyRequest,
  reply: FastifyReply,
  value: string,
  maxAgeSeconds: number,
  secureCookie: SessionRouteOptions['secureCookie'],
): void {
  const secure = secureCookie === 'always' || (secureCookie === 'auto' && req.protocol === 'https');
  reply.header('set-cookie', `${SESSION_COOKIE}=${value}; Path=/; Max-Age=${maxAgeSeconds}; HttpOnly; SameSite=Strict${secure ? '; Secure' : ''}`);
}

export const sessionRoutes: FastifyPluginAsyncZod<SessionRouteOptions> = async (app, { auth, secureCookie }) => {
  app.post(
    '/api/v1/session',
    {
      config: { scope: 'public' },
      schema: {
        tags: ['auth'],
        summary:
          'Log in with an API token: answers a session cookie (HttpOnly, SameSite=Strict) that stands for the token until it ends, the token is revoked or expires',
        body: z.object({ token: z.string().min(1).max(200) }),
        response: { 201: SessionSchema, 401: ErrorSchema, 429: ErrorSchema },
      },
    },
    async (req, reply) => {
      const waitMs = auth.failures.blockedForMs(req.ip);
      if (waitMs > 0) {
        auth.denied.inc({ reason: 'too_many_failures' });
        return reply
          .code(429)
          .header('retry-after', String(Math.ceil(waitMs / 1000)))
          .send({ error: 'too many failed logins from this address: try again later', code: 'SL_ERR_HTTP_AUTH_LOCKED' });
      }
      const check = auth.tokens.authenticate(req.body.token);
      if (!check.ok) {
        auth.failures.record(req.ip);
        auth.denied.inc({ reason: check.reason });
        const why = check.reason === 'invalid_token' ? 'not a valid token' : `the token is ${check.reason}`;
        return reply.code(401).send({ error: `login refused: ${why}`, code: 'SL_ERR_HTTP_UNAUTHENTICATED' });
      }
      const session = auth.sessions.create(check.token.id, check.token.expiresAt);
      setSessionCookie(req, reply, session.id, Math.max(1, Math.floor((session.expiresAt.getTime() - Date.now()) / 1000)), secureCookie);
      return reply.code(201).send({ name: check.token.name, scopes: check.token.scopes, expiresAt: session.expiresAt.toISOString() });
    },
  );

  app.get(
    '/api/v1/session',
    {
      config: { scope: 'authenticated' },
      schema: { tags: ['auth'], summary: 'The token this request is authenticated with (its name and scopes)', response: { 200: SessionSchema } },
    },
    async (req) => {
      const token = req.principal?.token;
      if (token === undefined) throw new Error('no principal on an authenticated route'); // the onRequest hook sets it
      const sessionId = readCookie(req, SESSION_COOKIE);
      const session = req.principal?.via === 'session' && sessionId !== undefined ? auth.sessions.get(sessionId) : undefined;
      const expiresAtMs = session?.expiresAtMs ?? token.expiresAt?.getTime();
      return { name: token.name, scopes: token.scopes, expiresAt: expiresAtMs === undefined ? null : new Date(expiresAtMs).toISOString() };
    },
  );

  app.delete(
    '/api/v1/session',
    {
      config: { scope: 'public' },
      schema: { tags: ['auth'], summary: 'Log out: ends the session of the cookie sent, if any, and clears the cookie' },
    },
    async (req, reply) => {
      const sessionId = readCookie(req, SESSION_COOKIE);
      if (sessionId !== undefined) auth.sessions.end(sessionId);
      setSessionCookie(req, reply, '', 0, secureCookie);
      return reply.code(204).send();
    },
  );
};
