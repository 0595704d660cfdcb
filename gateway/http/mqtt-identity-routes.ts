/**
 * MQTT identities over HTTP, for `operator` tokens (installers add devices): GET /api/v1/mqtt/identities
 * (never secrets), POST to add one (its password is in this answer only), POST …/:name/rotate for a new
 * secret, DELETE …/:name to revoke. `storeloop credentials` does the same on the state dir. A revoked or
 * rotated identity's connections are closed at once. Names hold a `/` (`store/source`): encode it (%2F).
 */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';

import type { Config } from '../../config/index.js';
import { MQTT_ROLES } from '../auth/mqtt-grants.js';
import { checkIdentityAgainstStores, CredentialStoreError, viewOf, type MqttIdentity, type MqttIdentityStore } from '../auth/mqtt-identities.js';

const ErrorSchema = z.object({ error: z.string(), code: z.string() });
const ScopeSchema = z.union([z.literal('*'), z.array(z.string().min(1).max(64)).min(1)]);
const IdentitySchema = z.object({
  name: z.string(),
  role: z.enum(MQTT_ROLES),
  stores: ScopeSchema.describe("The stores granted ('*': every store)"),
  source: z.string().nullable().describe("A device's source id, an agent's id"),
  forwards: ScopeSchema.describe('An agent: the sources it forwards for'),
  certificate: z.boolean().describe('A client certificate with this CN logs it in'),
  hasSecret: z.boolean(),
  createdAt: z.string(),
  updatedAt: z.string(),
  revokedAt: z.string().nullable(),
});

function view(identity: MqttIdentity): z.infer<typeof IdentitySchema> {
  const v = viewOf(identity);
  return {
    ...v,
    stores: v.stores === '*' ? '*' : [...v.stores],
    forwards: v.forwards === '*' ? '*' : [...v.forwards],
    createdAt: new Date(v.createdAt).toISOString(),
    updatedAt: new Date(v.updatedAt).toISOString(),
    revokedAt: v.revokedAt === null ? null : new Date(v.revokedAt).toISOString(),
  };
}

const STATUS: Record<string, 400 | 404 | 409> = {
  SL_ERR_CREDENTIALS_INVALID: 400,
  SL_ERR_CREDENTIALS_UNKNOWN: 404,
  SL_ERR_CREDENTIALS_EXISTS: 409,
};

export const mqttIdentityRoutes: FastifyPluginAsyncZod<{ identities: MqttIdentityStore; config: Config }> = async (app, { identities, config }) => {
  app.setErrorHandler((err: unknown, _req, reply) => {
    const status = err instanceof CredentialStoreError ? STATUS[err.code] : undefined;
    if (err instanceof CredentialStoreError && status !== undefined) return reply.code(status).send({ error: err.message, code: err.code });
    throw err;
  });

  app.get(
    '/api/v1/mqtt/identities',
    {
      config: { scope: 'operator' },
      schema: {
        tags: ['mqtt'],
        summary: 'Every MQTT identity and its grant, revoked ones included; never a secret',
        response: { 200: z.object({ identities: z.array(IdentitySchema) }) },
      },
    },
    async () => ({ identities: identities.list().map(view) }),
  );

  app.post(
    '/api/v1/mqtt/identities',
    {
      config: { scope: 'operator' },
      schema: {
        tags: ['mqtt'],
        summary: 'Adds an MQTT identity with a generated secret; its password is in this answer only',
        body: z.strictObject({
          role: z.enum(MQTT_ROLES),
          stores: ScopeSchema,
          source: z.string().min(1).max(64).optional(),
          name: z.string().min(1).max(128).optional().describe('The MQTT user name (default for devices and agents: store/source)'),
          forwards: ScopeSchema.optional(),
          certificate: z.boolean().optional(),
          noSecret: z.boolean().optional().describe('No secret: a client certificate only (with certificate: true)'),
        }),
        response: {
          201: z.object({ identity: IdentitySchema, username: z.string(), password: z.string().nullable().describe('Shown once') }),
          400: ErrorSchema,
          409: ErrorSchema,
        },
      },
    },
    async (req, reply) => {
      const spec = req.body;
      checkIdentityAgainstStores(config.stores, { role: spec.role, stores: spec.stores, source: spec.source ?? null, forwards: spec.forwards });
      const { identity, secret } = identities.add(spec);
      return reply.code(201).send({ identity: view(identity), username: identity.name, password: secret });
    },
  );

  app.post(
    '/api/v1/mqtt/identities/:name/rotate',
    {
      config: { scope: 'operator' },
      schema: {
        tags: ['mqtt'],
        summary: 'A new secret for an identity: the old one stops working, its connections are closed; the password is in this answer only',
        params: z.object({ name: z.string().min(1).max(128) }),
        response: { 200: z.object({ identity: IdentitySchema, username: z.string(), password: z.string() }), 404: ErrorSchema },
      },
    },
    async (req) => {
      const { identity, secret } = identities.rotate(req.params.name);
      return { identity: view(identity), username: identity.name, password: secret };
    },
  );

  app.delete(
    '/api/v1/mqtt/identities/:name',
    {
      config: { scope: 'operator' },
      schema: {
        tags: ['mqtt'],
        summary: 'Revokes an identity: its secret is deleted, its client ids released, its connections closed at once',
        params: z.object({ name: z.string().min(1).max(128) }),
        response: { 200: IdentitySchema, 404: ErrorSchema },
      },
    },
    async (req) => view(identities.revoke(req.params.name)),
  );
};
