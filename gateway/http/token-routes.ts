/**
 * API token management over HTTP, for `admin` tokens: GET /api/v1/tokens (never secrets),
 * POST /api/v1/tokens (the new token is in this answer only), DELETE /api/v1/tokens/:token (id or name).
 * `storeloop tokens` does the same on the state dir, also while the gateway runs.
 */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';

import { ApiScopeSchema, ApiTokenError, type ApiToken, type ApiTokenStore } from '../auth/api-tokens.js';

const ErrorSchema = z.object({ error: z.string(), code: z.string() });
const TokenInfoSchema = z.object({
  id: z.string(),
  name: z.string(),
  scopes: z.array(ApiScopeSchema),
  createdAt: z.string(),
  expiresAt: z.string().nullable(),
  revokedAt: z.string().nullable(),
  lastUsedAt: z.string().nullable().describe('Last use, to the minute'),
});

const iso = (d: Date | null) => (d === null ? null : d.toISOString());
const view = (t: ApiToken) => ({
  ...t,
  createdAt: t.createdAt.toISOString(),
  expiresAt: iso(t.expiresAt),
  revokedAt: iso(t.revokedAt),
  lastUsedAt: iso(t.lastUsedAt),
});

export const tokenRoutes: FastifyPluginAsyncZod<{ tokens: ApiTokenStore }> = async (app, { tokens }) => {
  app.get(
    '/api/v1/tokens',
    {
      config: { scope: 'admin' },
      schema: {
        tags: ['auth'],
        summary: 'Every API token, revoked and expired ones included; never a secret',
        response: { 200: z.object({ tokens: z.array(TokenInfoSchema) }) },
      },
    },
    async () => ({ tokens: tokens.list().map(view) }),
  );

  app.post(
    '/api/v1/tokens',
    {
      config: { scope: 'admin' },
      schema: {
        tags: ['auth'],
        summary: 'Makes an API token; the token string is in this answer only',
        body: z.object({
          name: z.string().min(1).max(64),
          scopes: z.array(ApiScopeSchema).min(1),
          expiresInSeconds: z.number().int().min(1).optional(),
        }),
        response: {
          201: TokenInfoSchema.extend({ token: z.string().describe('Shown once: Authorization: Bearer <token>') }),
          400: ErrorSchema,
          409: ErrorSchema,
        },
      },
    },
    async (req, reply) => {
      const { name, scopes, expiresInSeconds } = req.body;
      try {
        const made = tokens.add({ name, scopes, expiresAt: expiresInSeconds === undefined ? undefined : new Date(Date.now() + expiresInSeconds * 1000) });
        return reply.code(201).send({ ...view(made.info), token: made.token });
      } catch (err) {
        if (err instanceof ApiTokenError && err.code !== 'SL_ERR_API_TOKENS') {
          return reply.code(err.code === 'SL_ERR_API_TOKEN_NAME_TAKEN' ? 409 : 400).send({ error: err.message, code: err.code });
        }
        throw err;
      }
    },
  );

  app.delete(
    '/api/v1/tokens/:token',
    {
      config: { scope: 'admin' },
      schema: {
        tags: ['auth'],
        summary: 'Revokes a token (by id, or the unrevoked one of that name): refused from the next request on, its browser sessions end',
        params: z.object({ token: z.string().min(1).max(64) }),
        response: { 200: TokenInfoSchema, 404: ErrorSchema },
      },
    },
    async (req, reply) => {
      try {
        return view(tokens.revoke(req.params.token));
      } catch (err) {
        if (err instanceof ApiTokenError && err.code === 'SL_ERR_API_TOKEN_UNKNOWN') return reply.code(404).send({ error: err.message, code: err.code });
        throw err;
      }
    },
  );
};
