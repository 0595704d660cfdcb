/** GET /api/v1/live: live counts per store (the data of the dashboards' live page) and whether older history is still filling in. */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';

import { MESSAGE_KINDS } from '../../protocol/index.js';
import type { HttpDeps } from './deps.js';

/** One count per contract kind, from the kind list: a new kind shows up here without a change. */
const KindCounts = z.object(Object.fromEntries(MESSAGE_KINDS.map((kind) => [kind, z.number()])));
const StoreLiveSchema = z.object({
  store: z.string(),
  name: z.string().nullable(),
  devicesNow: z.number().describe('Distinct beacon ids and phone pseudonyms seen in the last 60 s'),
  devicesCapped: z.boolean().describe('More devices were seen than the live state tracks (20,000 per store): devicesNow is a lower bound'),
  zones: z.array(z.object({ id: z.string(), name: z.string().nullable(), devicesNow: z.number() })),
  footfall: z.object({ in: z.number(), out: z.number() }).describe('People counter totals since the gateway started'),
  interactionsLastHour: z.array(z.object({ touchpoint: z.string(), count: z.number() })),
  messages: KindCounts.describe('Accepted messages by kind since the gateway started'),
  lastMessageAt: z.string().nullable(),
  agents: z.array(z.object({ id: z.string(), state: z.string(), since: z.string() })),
});

const HistorySchema = z
  .object({
    from: z.iso.datetime().describe('Start of the history being backfilled (simulated time, ISO 8601)'),
    to: z.iso.datetime().describe('End of the history being backfilled: where the live store takes over'),
    reached: z.iso.datetime().describe('How far the backfill has published: data after this instant is still to come'),
    done: z.boolean().describe('Every message of the history has been published (the data of its last minutes may still be in the engine)'),
  })
  .nullable()
  .describe('A backfill of older history still filling in the background (the demo), or null when there is none');

export const LiveAnswerSchema = z.object({ stores: z.array(StoreLiveSchema), history: HistorySchema });
export type LiveAnswer = z.infer<typeof LiveAnswerSchema>;

/** What GET /api/v1/live answers, whole: the route and a stream of the same snapshot share it. */
export function liveAnswer(deps: Pick<HttpDeps, 'live' | 'history'>): LiveAnswer {
  return { stores: deps.live.snapshot(), history: deps.history?.snapshot() ?? null };
}

export const liveRoutes: FastifyPluginAsyncZod<{ deps: Pick<HttpDeps, 'live' | 'history'> }> = async (app, { deps }) => {
  app.get(
    '/api/v1/live',
    {
      config: { scope: 'analyst' },
      schema: {
        tags: ['live'],
        summary: 'Live counts per store (in memory, since the gateway started)',
        response: { 200: LiveAnswerSchema },
      },
    },
    async () => liveAnswer(deps),
  );
};
