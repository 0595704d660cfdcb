/**
 * The ingress routes (one fastify plugin): `POST /v1/{touchpoint|device}/{sourceId}` with a contract
 * payload (without `mid`; `ts` defaults to receipt time), answered 202 with the message's `mid` once it
 * is fsynced in the queue; `GET /v1/status` and `GET /healthz` for whoever looks after the box.
 */
import { timingSafeEqual } from 'node:crypto';

import type { FastifyPluginAsync } from 'fastify';

import type { EnqueueResult, QueueMessage } from '../queue/edge-queue.js';
import { validateIngressEvent } from './validate-event.js';

export interface IngressRouteDeps {
  enqueue: (message: QueueMessage) => Promise<EnqueueResult>;
  /** The agent's status as JSON (queue depth, shed counts, sources, clock). */
  status: () => unknown;
  /** Accepted source ids now (remote config may change them); null accepts any valid id. */
  sourceIds: () => readonly string[] | null;
  token: string | undefined;
  now: () => number;
  /** Counts each answer by code (`accepted` or an SL_ERR_INGRESS_* code). */
  count: (code: string) => void;
}

/** Seconds a device should wait before posting a shed event again. */
export const RETRY_AFTER_S = 5;

function tokenMatches(header: string | undefined, token: string): boolean {
  const expected = Buffer.from(`Bearer ${token}`);
  const given = Buffer.from(header ?? '');
  return given.length === expected.length && timingSafeEqual(given, expected);
}

export const ingressRoutes: FastifyPluginAsync<{ deps: IngressRouteDeps }> = async (app, { deps }) => {
  app.get('/healthz', async () => ({ ok: true }));
  app.get('/v1/status', async () => deps.status());

  app.post<{ Params: { kind: string; sourceId: string } }>('/v1/:kind/:sourceId', async (req, reply) => {
    const token = deps.token;
    if (token !== undefined && !tokenMatches(req.headers.authorization, token)) {
      deps.count('SL_ERR_INGRESS_UNAUTHORIZED');
      return reply.code(401).send({ error: 'authorization: expected Bearer <sources.ingress.token>', code: 'SL_ERR_INGRESS_UNAUTHORIZED' });
    }
    const checked = validateIngressEvent({
      kind: req.params.kind,
      sourceId: req.params.sourceId,
      body: req.body,
      now: deps.now(),
      sourceIds: deps.sourceIds(),
    });
    if (!checked.ok) {
      deps.count(checked.code);
      req.log.debug({ code: checked.code, detail: checked.detail, kind: req.params.kind.slice(0, 20) }, 'ingress event refused');
      return reply.code(checked.status).send({ error: checked.detail, code: checked.code });
    }
    const result = await deps.enqueue(checked.message);
    if (result.status === 'shed') {
      deps.count('SL_ERR_INGRESS_SHED');
      return reply
        .code(503)
        .header('retry-after', String(RETRY_AFTER_S))
        .send({ error: `queue: event not queued (${result.reason}); post it again later`, code: 'SL_ERR_INGRESS_SHED', reason: result.reason });
    }
    deps.count('accepted');
    return reply.code(202).send({ mid: result.mid, ts: checked.message.payload.ts });
  });
};
