/**
 * The CRM destinations for `operator` tokens: each destination's state and outbox (GET
 * /api/v1/crm/destinations), its dead letters with the reason (GET …/{destination}/dead-letters), and
 * sending them again (POST …/{destination}/dead-letters/replay, all or one id). Dead letters carry
 * the customer's opaque token, never their CRM id.
 */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';

import type { CrmForwarding } from '../crm/crm-forwarding.js';

const ErrorSchema = z.object({ error: z.string(), code: z.string() });
const DestinationParams = z.object({ destination: z.string().describe('A destination name of sinks.crm.destinations') });

export const crmRoutes: FastifyPluginAsyncZod<{ crm: Pick<CrmForwarding, 'deliveries' | 'outbox' | 'replayDeadLetters'> }> = async (app, { crm }) => {
  const known = (name: string) => crm.deliveries.some((d) => d.name === name);
  const unknown = (name: string) => ({
    error: `no CRM destination named '${name}' (configured: ${crm.deliveries.map((d) => d.name).join(', ') || 'none'})`,
    code: 'SL_ERR_CRM_DESTINATION_UNKNOWN',
  });

  app.get(
    '/api/v1/crm/destinations',
    {
      config: { scope: 'operator' },
      schema: {
        tags: ['sinks'],
        summary: 'Each CRM destination: delivering or disabled, and its outbox (pending events, dead letters, the oldest pending event)',
        response: {
          200: z.object({
            destinations: z.array(
              z.object({
                name: z.string(),
                up: z.boolean(),
                disabled: z.string().nullable().describe('Why it stopped delivering (a "gone" answer such as a webhook’s 410), until the gateway restarts'),
                pausedUntil: z
                  .string()
                  .nullable()
                  .describe('While the destination told it to wait (a throttling answer, e.g. HubSpot’s daily limit): when it sends again'),
                pending: z.number(),
                deadLetters: z.number(),
                oldestPendingEventTime: z.string().nullable(),
              }),
            ),
          }),
        },
      },
    },
    async () => ({
      destinations: crm.deliveries.map((d) => {
        const counts = crm.outbox.counts(d.name);
        const status = d.status();
        return {
          name: d.name,
          up: status.up,
          disabled: status.disabled ?? null,
          pausedUntil: status.pausedUntil === undefined ? null : new Date(status.pausedUntil).toISOString(),
          pending: counts.pending,
          deadLetters: counts.dead,
          oldestPendingEventTime: counts.oldestPendingEventTime === null ? null : new Date(counts.oldestPendingEventTime).toISOString(),
        };
      }),
    }),
  );

  app.get(
    '/api/v1/crm/:destination/dead-letters',
    {
      config: { scope: 'operator' },
      schema: {
        tags: ['sinks'],
        summary: 'Events a CRM destination refused for good or that ran out of attempts, with the reason',
        params: DestinationParams,
        querystring: z.object({ limit: z.coerce.number().int().min(1).max(10_000).default(100) }),
        response: {
          200: z.object({
            deadLetters: z.array(
              z.object({ id: z.string(), type: z.string(), eventTime: z.string(), attempts: z.number(), error: z.string().nullable(), deadAt: z.string() }),
            ),
          }),
          404: ErrorSchema,
        },
      },
    },
    async (req, reply) => {
      if (!known(req.params.destination)) return reply.code(404).send(unknown(req.params.destination));
      return {
        deadLetters: crm.outbox.deadLetters(req.params.destination, req.query.limit).map((d) => ({
          id: d.id,
          type: d.type,
          eventTime: new Date(d.eventTime).toISOString(),
          attempts: d.attempts,
          error: d.lastError,
          deadAt: new Date(d.deadAt).toISOString(),
        })),
      };
    },
  );

  app.post(
    '/api/v1/crm/:destination/dead-letters/replay',
    {
      config: { scope: 'operator' },
      schema: {
        tags: ['sinks'],
        summary: 'Sends dead letters again (all of the destination, or one id), once the cause is fixed; the consent is checked again before each is sent',
        params: DestinationParams,
        body: z.object({ id: z.string().optional().describe('One event id; all of them when absent') }).default({}),
        response: { 200: z.object({ replayed: z.number() }), 404: ErrorSchema },
      },
    },
    async (req, reply) => {
      if (!known(req.params.destination)) return reply.code(404).send(unknown(req.params.destination));
      return { replayed: crm.replayDeadLetters(req.params.destination, req.body.id) };
    },
  );
};
