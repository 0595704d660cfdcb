/** GET /api/v1/ledger (every message in exactly one state) and GET /api/v1/dead-letters. */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';

import type { HttpDeps } from './deps.js';

const StatesSchema = z.object({ held: z.number(), rejected: z.number(), duplicate: z.number(), shed: z.number(), written: z.number(), spooled: z.number(), dead_lettered: z.number(), forwarded: z.number() });
const LedgerRowSchema = z.object({
  store: z.string(),
  kind: z.string(),
  received: z.number().describe('Messages received by this run of the gateway'),
  recovered: z.number().describe('Messages found in the spool at start (acknowledged by an earlier run)'),
  states: StatesSchema,
  rejectedBy: z.record(z.string(), z.number()),
  balanced: z.boolean().describe('received + recovered = the sum of the states'),
});
const DeliveryStatusSchema = z.object({
  mode: z.enum(['direct', 'spooling']),
  spool: z.object({ pendingMessages: z.number(), pendingBytes: z.number(), quotaBytes: z.number(), oldestAgeSeconds: z.number(), drainLinesPerSecond: z.number(), full: z.boolean() }),
  deadLetters: z.number(),
});
export { DeliveryStatusSchema };

export const deliveryRoutes: FastifyPluginAsyncZod<{ deps: HttpDeps }> = async (app, { deps }) => {
  app.get(
    '/api/v1/ledger',
    {
      schema: {
        tags: ['ingest'],
        summary: 'The conservation ledger: received + recovered = held + rejected + duplicate + shed + written + spooled + dead_lettered + forwarded, per store and kind',
        response: { 200: z.object({ balanced: z.boolean(), totals: LedgerRowSchema, rows: z.array(LedgerRowSchema), delivery: DeliveryStatusSchema }) },
      },
    },
    async () => {
      const totals = deps.ledger.totals();
      const rows = deps.ledger.rowsSnapshot();
      return { balanced: totals.balanced && rows.every((r) => r.balanced), totals, rows, delivery: deps.delivery.status() };
    },
  );
  app.get(
    '/api/v1/dead-letters',
    {
      schema: {
        tags: ['ingest'],
        summary: 'Lines InfluxDB refused for good (set aside with the reason; the rest of their batch was written)',
        querystring: z.object({ limit: z.coerce.number().int().min(1).max(500).default(50) }),
        response: {
          200: z.object({
            total: z.number(),
            deadLetters: z.array(z.object({ time: z.string(), store: z.string(), kind: z.string(), line: z.string(), status: z.number().nullable(), error: z.string() })),
          }),
        },
      },
    },
    async (req) => ({ total: deps.deadLetters.count, deadLetters: deps.deadLetters.list(req.query.limit) }),
  );
};
