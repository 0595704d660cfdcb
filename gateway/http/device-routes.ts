/**
 * GET /api/v1/stores/{store}/devices: the data of the dashboards' devices page, from the live state in
 * memory (gateway/live/device-health.ts): each edge agent (state, since, last message, queue depth)
 * and each configured sensor, touchpoint and device (last seen, online, battery), since the gateway
 * started.
 */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';

import { DEFAULT_ONLINE_WINDOW_MS } from '../live/device-health.js';
import type { HttpDeps } from './deps.js';

const StatusStateSchema = z.enum(['online', 'offline', 'degraded']);
const ReadingSchema = z.object({ value: z.number(), at: z.string().describe('Event time of the message that carried the reading (ISO 8601)') }).nullable();
const AgentSchema = z.object({
  id: z.string(),
  zone: z.string().nullable(),
  state: StatusStateSchema.nullable().describe('The state its latest status said; null when it sent none since the gateway started'),
  since: z.string().nullable().describe('When it entered that state (event time of the first status that said it)'),
  lastMessageAt: z.string().nullable().describe('When its latest message reached the gateway'),
  online: z.boolean().describe('Seen within onlineWindowSeconds, and no offline status (its last will) since'),
  version: z.string().nullable(),
  detail: z.string().nullable().describe("The status's detail: what needs a person first (refused config, clock, sources, backlog)"),
  queue: z
    .object({
      depth: z.number().describe('Messages in its store-and-forward queue, not yet acknowledged by the gateway'),
      bytes: z.number().nullable(),
      at: z.string().describe('When the agent reported it'),
    })
    .nullable()
    .describe('Its edge queue as its latest status reported it; null when it reported none'),
});
const SourceSchema = z.object({
  id: z.string(),
  role: z.enum(['sensor', 'touchpoint', 'device']),
  type: z
    .string()
    .nullable()
    .describe('ble | wifi (sensors), kiosk | mirror | qr | feedback (touchpoints), people_counter | smart_shelf | environment (devices)'),
  zone: z.string().nullable(),
  zoneName: z.string().nullable(),
  name: z.string().nullable().describe('Its configured name (touchpoints have one)'),
  lastSeenAt: z.string().nullable().describe('Event time of its latest message, capped at its arrival; null when not seen since the gateway started'),
  online: z.boolean().describe('Seen within onlineWindowSeconds, and no offline status since'),
  status: z
    .object({ state: StatusStateSchema, since: z.string(), detail: z.string().nullable() })
    .nullable()
    .describe('Its own latest status, when it sends any'),
  battery: z
    .object({ pct: ReadingSchema, mv: ReadingSchema })
    .describe(
      "Latest battery_pct and battery_mv of its environment events, each with when it was read. A beacon's Eddystone-TLM battery arrives as battery_mv of the device its edge agent maps it to (tlmDeviceIds)",
    ),
});
const ErrorSchema = z.object({ error: z.string(), code: z.string() });

export const deviceRoutes: FastifyPluginAsyncZod<{ deps: Pick<HttpDeps, 'live' | 'config'> }> = async (app, { deps }) => {
  app.get(
    '/api/v1/stores/:store/devices',
    {
      config: { scope: 'analyst' },
      schema: {
        tags: ['live'],
        summary: "A store's edge agents (state, queue depth) and configured sensors, touchpoints and devices (last seen, online, battery)",
        description: 'In memory, since the gateway started: a source not heard from since then has lastSeenAt null and is offline.',
        params: z.object({ store: z.string().describe('A store id of the config') }),
        querystring: z.object({
          onlineWindowSeconds: z.coerce
            .number()
            .int()
            .min(10)
            .max(86_400)
            .default(DEFAULT_ONLINE_WINDOW_MS / 1000)
            .describe('A source seen within this many seconds is online (default 300: agents report every 30 s, TLM beacons every 60 s)'),
        }),
        response: {
          200: z.object({
            store: z.string(),
            name: z.string().nullable(),
            at: z.string().describe('When this answer was made'),
            onlineWindowSeconds: z.number(),
            agents: z.array(AgentSchema),
            devices: z.array(SourceSchema),
          }),
          404: ErrorSchema,
        },
      },
    },
    async (req, reply) => {
      const { store } = req.params;
      const { onlineWindowSeconds } = req.query;
      const view = deps.live.devices(store, onlineWindowSeconds * 1000);
      const config = deps.config.stores.find((s) => s.id === store);
      if (view === undefined || config === undefined) {
        const known = deps.config.stores.map((s) => s.id).join(', ');
        return reply.code(404).send({ error: `unknown store '${store.slice(0, 64)}' (stores: ${known})`, code: 'SL_ERR_HTTP_STORE_UNKNOWN' });
      }
      return {
        store,
        name: config.name ?? null,
        at: new Date().toISOString(),
        onlineWindowSeconds,
        agents: view.agents,
        devices: view.sources,
      };
    },
  );
};
