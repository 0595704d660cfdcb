/** GET /api/v1/rejections: the most recent rejected messages, newest first. */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';

import { REJECTION_REASONS } from '../ingest/rejection.js';
import type { HttpDeps } from './deps.js';

const RejectionReasonSchema = z.enum(Object.keys(REJECTION_REASONS) as [keyof typeof REJECTION_REASONS, ...Array<keyof typeof REJECTION_REASONS>]);

const RejectionRecordSchema = z.object({
  time: z.string().describe('ISO time the gateway received the message'),
  clientId: z.string().nullable(),
  topic: z.string(),
  store: z.string().nullable(),
  kind: z.string().nullable(),
  reason: RejectionReasonSchema,
  detail: z.string(),
  excerpt: z.string().describe('First bytes of the payload, MAC addresses masked'),
});

export const rejectionRoutes: FastifyPluginAsyncZod<{ deps: HttpDeps }> = async (app, { deps }) => {
  app.get(
    '/api/v1/rejections',
    {
      config: { scope: 'operator' },
      schema: {
        tags: ['ingest'],
        summary: 'Most recent rejected messages (time, client, topic, reason, payload excerpt)',
        querystring: z.object({ limit: z.coerce.number().int().min(1).max(10000).default(50), reason: RejectionReasonSchema.optional() }),
        response: { 200: z.object({ rejections: z.array(RejectionRecordSchema), reasons: z.record(z.string(), z.string()) }) },
      },
    },
    async (req) => {
      const all = deps.rejections.list();
      const filtered = req.query.reason ? all.filter((r) => r.reason === req.query.reason) : all;
      return { rejections: filtered.slice(0, req.query.limit), reasons: { ...REJECTION_REASONS } };
    },
  );
};
