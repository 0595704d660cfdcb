/**
 * GET /api/v1/pipeline: the data of the dashboards' pipeline page. Ingest per minute over the last
 * hour (gateway/live/ingest-rate.ts, sampled from the ledger), rejections by reason since the gateway
 * started (the ledger), the event log (size, segments, oldest and newest record) and each sink's lag,
 * state and dead letters (the sink set).
 *
 * Scope `analyst`: analysts get a pipeline page, and these are counts, positions and ages with no
 * personal data: no payload excerpts, client ids or topics (GET /api/v1/rejections, operator), no
 * dead letters' lines (GET /api/v1/dead-letters, operator), no sink health detail (a destination's
 * error text may hold its address; GET /api/v1/sinks, operator).
 */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';

import { REJECTION_REASONS } from '../ingest/rejection.js';
import { INGEST_RATE_MINUTES, IngestRate } from '../live/ingest-rate.js';
import type { HttpDeps } from './deps.js';

/** Ledger reasons that are not a message's fault, beside REJECTION_REASONS. */
const LOG_REFUSALS: Record<string, string> = {
  backpressure: 'the event log was full (or the gateway stopping): not acknowledged, the publisher resends',
  log_write_failed: 'the event log could not write it: not acknowledged, the publisher resends',
  internal_error: 'the gateway could not log it (an internal failure, in its log): not acknowledged, the publisher resends',
};

const describeReason = (reason: string): string | null => (REJECTION_REASONS as Record<string, string>)[reason] ?? LOG_REFUSALS[reason] ?? null;

const RecordSchema = z.object({ seq: z.number(), appendedAt: z.string().describe('When it was appended (ISO 8601)') }).nullable();
const PipelineSchema = z.object({
  at: z.string().describe('When this answer was made'),
  ingest: z.object({
    sampledSince: z.string().describe('When counting per minute began (the gateway start): earlier minutes were not measured and count 0'),
    perMinute: z
      .array(z.object({ minute: z.string().describe('Start of the minute (ISO 8601)'), accepted: z.number(), rejected: z.number() }))
      .describe(`The last ${INGEST_RATE_MINUTES} minutes, oldest first; the last one is still running. accepted: appended to the event log; rejected: refused`),
    totals: z
      .object({ received: z.number(), accepted: z.number(), rejected: z.number(), duplicate: z.number(), shed: z.number() })
      .describe('Messages since the gateway started (the ledger, GET /api/v1/ledger)'),
  }),
  rejections: z
    .array(z.object({ reason: z.string(), count: z.number(), description: z.string().nullable() }))
    .describe('Messages refused since the gateway started, by reason, most first'),
  log: z.object({
    records: z.number().describe('Records retained'),
    bytes: z.number(),
    quotaBytes: z.number(),
    segments: z.number(),
    full: z.boolean().describe('Appends are refused for lack of room: QoS 1 is not acknowledged'),
    oldest: RecordSchema.describe('The oldest retained record; null when none is retained'),
    newest: RecordSchema.describe('The newest record, while it is retained'),
  }),
  sinks: z.array(
    z.object({
      name: z.string(),
      state: z.enum(['ok', 'failing', 'idle', 'stopped']),
      holdsBackIngest: z.boolean(),
      lag: z.object({ records: z.number(), seconds: z.number() }).describe('Records of the log it has not settled, and the age of the oldest'),
      delivered: z.number(),
      deadLettered: z.number().describe('Records its destination refused for good, set aside (over the sink’s lifetime)'),
      expired: z.number(),
    }),
  ),
  deadLetters: z.number().describe('Dead letters of every sink together'),
});

export const pipelineRoutes: FastifyPluginAsyncZod<{ deps: Pick<HttpDeps, 'ledger' | 'eventLog' | 'sinks'> }> = async (app, { deps }) => {
  // counting begins now, before the broker takes its first message, and ends with the server
  const rate = new IngestRate(() => {
    const { states } = deps.ledger.totals();
    return { accepted: states.logged, rejected: states.rejected };
  });
  rate.start();
  app.addHook('onClose', async () => rate.stop());

  /** The retained record `seq` with its append time, or null when it is not retained. */
  const recordAt = (seq: number | null) => {
    if (seq === null || seq < 1) return null;
    const appendedAt = deps.eventLog.after(seq - 1).oldestAppendedAt;
    return appendedAt === null ? null : { seq, appendedAt: new Date(appendedAt).toISOString() };
  };

  app.get(
    '/api/v1/pipeline',
    {
      config: { scope: 'analyst' },
      schema: {
        tags: ['sinks'],
        summary: 'Ingest per minute over the last hour, rejections by reason, the event log and each sink’s lag, state and dead letters',
        description:
          'Counts and positions only, no personal data: the detail (rejected payloads, dead letters, sink errors) is on the operator routes /api/v1/rejections, /api/v1/dead-letters and /api/v1/sinks.',
        response: { 200: PipelineSchema },
      },
    },
    async () => {
      const totals = deps.ledger.totals();
      const log = deps.eventLog.status();
      const sinks = deps.sinks.status().map((s) => ({
        name: s.name,
        state: s.health.state,
        holdsBackIngest: s.holdsBackIngest,
        lag: { records: s.lag.records, seconds: s.lag.seconds },
        delivered: s.ledger.delivered,
        deadLettered: s.ledger.dead_lettered,
        expired: s.ledger.expired,
      }));
      return {
        at: new Date().toISOString(),
        ingest: {
          sampledSince: new Date(rate.sampledSince ?? Date.now()).toISOString(),
          perMinute: rate.lastHour(),
          totals: {
            received: totals.received,
            accepted: totals.states.logged,
            rejected: totals.states.rejected,
            duplicate: totals.states.duplicate,
            shed: totals.states.shed,
          },
        },
        rejections: Object.entries(totals.rejectedBy)
          .map(([reason, count]) => ({ reason, count, description: describeReason(reason) }))
          .sort((a, b) => b.count - a.count || a.reason.localeCompare(b.reason)),
        log: {
          records: log.retainedRecords,
          bytes: log.retainedBytes,
          quotaBytes: log.quotaBytes,
          segments: log.segments,
          full: log.full,
          oldest: recordAt(log.firstSeq),
          newest: recordAt(log.headSeq),
        },
        sinks,
        deadLetters: sinks.reduce((sum, s) => sum + s.deadLettered, 0),
      };
    },
  );
};
