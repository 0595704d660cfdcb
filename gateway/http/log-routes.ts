/**
 * The event log and its sinks over HTTP: GET /api/v1/ledger (the gateway's ledger and every sink's),
 * GET /api/v1/sinks, DELETE /api/v1/sinks/:name (detach), POST /api/v1/sinks/:name/replay,
 * GET /api/v1/dead-letters.
 */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';

import { UnknownSinkError } from '../sinks/sink-set.js';
import type { HttpDeps } from './deps.js';

const StatesSchema = z.object({ held: z.number(), rejected: z.number(), duplicate: z.number(), shed: z.number(), forwarded: z.number(), logged: z.number() });
const LedgerRowSchema = z.object({
  store: z.string(),
  kind: z.string(),
  received: z.number().describe('Messages received by this run of the gateway'),
  states: StatesSchema,
  rejectedBy: z.record(z.string(), z.number()),
  balanced: z.boolean().describe('received = the sum of the states'),
});
const CountsSchema = z.object({ delivered: z.number(), dead_lettered: z.number(), filtered: z.number(), expired: z.number() });
export const SinkStatusSchema = z.object({
  name: z.string(),
  holdsBackIngest: z.boolean().describe('true: the log keeps what this sink has not consumed, and a full log stops acknowledgements'),
  position: z.number().describe('Every log record with seq <= position is settled'),
  durablePosition: z.number(),
  replay: z.object({ at: z.number(), until: z.number() }).nullable(),
  lag: z.object({ records: z.number(), bytes: z.number(), seconds: z.number() }),
  lagBudget: z.object({ seconds: z.number(), bytes: z.number() }).nullable(),
  health: z.object({ state: z.enum(['ok', 'failing', 'idle', 'stopped']), detail: z.string().optional() }),
  ledger: CountsSchema.extend({
    logged: z.number(),
    pending: z.number(),
    replayed: z.number(),
    balanced: z.boolean().describe('logged = pending + delivered + dead_lettered + filtered + expired'),
    rows: z.array(CountsSchema.extend({ store: z.string(), kind: z.string() })),
  }),
});
export const LogStatusSchema = z.object({
  headSeq: z.number(),
  firstSeq: z.number().nullable(),
  retainedRecords: z.number(),
  retainedBytes: z.number(),
  quotaBytes: z.number(),
  unconsumedBytes: z.number(),
  oldestAgeSeconds: z.number(),
  full: z.boolean(),
  appendedRecords: z.number(),
  fsyncs: z.number(),
  segments: z.number(),
});
const ErrorSchema = z.object({ error: z.string(), code: z.string() });

export const logRoutes: FastifyPluginAsyncZod<{ deps: HttpDeps }> = async (app, { deps }) => {
  app.get(
    '/api/v1/ledger',
    {
      config: { scope: 'operator' },
      schema: {
        tags: ['ingest'],
        summary:
          'The ledgers: gateway (received = held + rejected + duplicate + shed + forwarded + logged, per store and kind) and per sink (logged = pending + delivered + dead_lettered + filtered + expired)',
        response: {
          200: z.object({
            balanced: z.boolean(),
            totals: LedgerRowSchema,
            rows: z.array(LedgerRowSchema),
            log: LogStatusSchema,
            sinks: z.array(SinkStatusSchema),
          }),
        },
      },
    },
    async () => {
      const totals = deps.ledger.totals();
      const rows = deps.ledger.rowsSnapshot();
      const sinks = deps.sinks.status();
      return {
        balanced: totals.balanced && rows.every((r) => r.balanced) && sinks.every((s) => s.ledger.balanced),
        totals,
        rows,
        log: deps.eventLog.status(),
        sinks,
      };
    },
  );

  app.get(
    '/api/v1/sinks',
    {
      config: { scope: 'operator' },
      schema: {
        tags: ['sinks'],
        summary: 'The sinks attached to the event log: position, lag, health, ledger',
        response: { 200: z.object({ sinks: z.array(SinkStatusSchema) }) },
      },
    },
    async () => ({
      sinks: deps.sinks.status(),
    }),
  );

  app.delete(
    '/api/v1/sinks/:name',
    {
      config: { scope: 'operator' },
      schema: {
        tags: ['sinks'],
        summary:
          'Detaches a sink: it stops, its checkpoint is removed and the log no longer keeps records for it (a configured sink attaches again at the next start, from the oldest retained record)',
        params: z.object({ name: z.string() }),
        response: { 200: z.object({ detached: SinkStatusSchema, log: LogStatusSchema }), 404: ErrorSchema },
      },
    },
    async (req, reply) => {
      try {
        const detached = await deps.sinks.detach(req.params.name);
        return { detached, log: deps.eventLog.status() };
      } catch (err) {
        if (err instanceof UnknownSinkError) return reply.code(404).send({ error: err.message, code: err.code });
        throw err;
      }
    },
  );

  app.post(
    '/api/v1/sinks/:name/replay',
    {
      config: { scope: 'operator' },
      schema: {
        tags: ['sinks'],
        summary: 'Delivers the retained log records appended since a time again to one sink (idempotent: the same record maps to the same point)',
        params: z.object({ name: z.string() }),
        body: z.object({ since: z.iso.datetime({ offset: true }).describe('Receive time (log position) to replay from, ISO 8601') }),
        response: {
          202: z.object({
            sink: z.string(),
            from: z.number().nullable().describe('First seq replayed; null when nothing retained is that recent'),
            until: z.number(),
          }),
          404: ErrorSchema,
        },
      },
    },
    async (req, reply) => {
      try {
        const range = deps.sinks.replay(req.params.name, Date.parse(req.body.since));
        return reply.code(202).send({ sink: req.params.name, ...range });
      } catch (err) {
        if (err instanceof UnknownSinkError) return reply.code(404).send({ error: err.message, code: err.code });
        throw err;
      }
    },
  );

  app.get(
    '/api/v1/dead-letters',
    {
      config: { scope: 'operator' },
      schema: {
        tags: ['sinks'],
        summary: 'What a sink destination refused for good (set aside with the reason; the rest of the batch was delivered)',
        querystring: z.object({ limit: z.coerce.number().int().min(1).max(500).default(50) }),
        response: {
          200: z.object({
            total: z.number(),
            deadLetters: z.array(
              z.object({
                time: z.string(),
                sink: z.string(),
                seq: z.number(),
                store: z.string(),
                kind: z.string(),
                line: z.string(),
                status: z.number().nullable(),
                error: z.string(),
              }),
            ),
          }),
        },
      },
    },
    async (req) => ({ total: deps.deadLetters.count, deadLetters: deps.deadLetters.list(req.query.limit) }),
  );
};
