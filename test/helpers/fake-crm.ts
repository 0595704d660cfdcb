/**
 * A real HTTP server on loopback that receives webhooks the way the Standard Webhooks 1.0 spec
 * (https://github.com/standard-webhooks/standard-webhooks/blob/main/spec/standard-webhooks.md) asks a
 * receiver to: it verifies `webhook-signature` over `{id}.{timestamp}.{body}` with every configured
 * secret, refuses timestamps outside the 5 minute tolerance, and treats `webhook-id` as the
 * idempotency key, so a retried delivery is acknowledged without being applied twice. It stands in
 * for the CRM in tests of the gateway's webhook delivery, and can be scripted to fail or hang first.
 */
import { randomBytes } from 'node:crypto';
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';

import { Webhook, WebhookVerificationError } from 'standardwebhooks';

import { listenOnLoopback, readBody } from './loopback-http.js';

export interface FakeWebhookReceiverOptions {
  /** Every secret (`whsec_<base64>`) whose signature is accepted; more than one during a key rotation. */
  secrets: string[];
  /** The endpoint's path; default `/hooks/storeloop`. */
  path?: string;
}

/** One queued answer: a status (after `delayMs`), or `hang`, which never answers until stop(). */
export type ScriptedResponse = { status: number; headers?: Record<string, string>; body?: string; delayMs?: number } | { hang: true };

export type WebhookRejectionReason = 'signature' | 'timestamp' | 'headers' | 'body';

export interface AcceptedWebhook {
  id: string;
  /** `webhook-timestamp` of the accepted attempt, Unix seconds. */
  timestamp: number;
  /** The parsed JSON body. */
  body: unknown;
  /** When the receiver accepted it, epoch ms. */
  receivedAt: number;
}

export interface RejectedWebhook {
  id: string | undefined;
  reason: WebhookRejectionReason;
  status: number;
}

export interface WebhookAttempt {
  id: string | undefined;
  /** `webhook-timestamp` as sent, unparsed. */
  timestamp: string | undefined;
  /** The status answered; 0 while unanswered (a `hang` stays 0). */
  status: number;
  /** Arrival, epoch ms. */
  at: number;
}

export interface FakeWebhookReceiver {
  /** Full URL of the endpoint. */
  url: string;
  /** Applied webhooks in arrival order, each `webhook-id` at most once. */
  accepted: AcceptedWebhook[];
  /** Ids delivered again after they were accepted (answered 200, not applied again). */
  duplicates: string[];
  /** Refused deliveries, with why. */
  rejected: RejectedWebhook[];
  /** Every request in arrival order, scripted ones included. */
  attempts: WebhookAttempt[];
  /** Queues answers that the next requests get, one each, before any normal handling. */
  script(...responses: ScriptedResponse[]): void;
  /** Closes the server and destroys every open socket, hanging requests included. */
  stop(): Promise<void>;
}

const DEFAULT_PATH = '/hooks/storeloop';
/** The spec's recommended tolerance, in both directions (also what `standardwebhooks` enforces). */
const TIMESTAMP_TOLERANCE_SEC = 5 * 60;
const SECRET_BYTES = 24;

/** A fresh secret in the spec's `whsec_<base64>` form (24 random bytes, the spec's minimum). */
export function newWebhookSecret(): string {
  return `whsec_${randomBytes(SECRET_BYTES).toString('base64')}`;
}

interface WebhookHeaders {
  id: string;
  timestamp: string;
  signature: string;
}

type Verdict =
  | { kind: 'accepted'; id: string; timestampSec: number; body: unknown }
  | { kind: 'duplicate'; id: string }
  | { kind: 'rejected'; reason: WebhookRejectionReason; status: number };

/** Starts the receiver on 127.0.0.1 and a free port. */
export async function startFakeWebhookReceiver(options: FakeWebhookReceiverOptions): Promise<FakeWebhookReceiver> {
  if (options.secrets.length === 0) throw new Error('startFakeWebhookReceiver: at least one secret is needed (options.secrets is empty)');
  const path = options.path ?? DEFAULT_PATH;
  const verifiers = options.secrets.map((secret) => new Webhook(secret));
  const accepted: AcceptedWebhook[] = [];
  const acceptedIds = new Set<string>();
  const duplicates: string[] = [];
  const rejected: RejectedWebhook[] = [];
  const attempts: WebhookAttempt[] = [];
  const scripted: ScriptedResponse[] = [];
  const delayTimers = new Set<NodeJS.Timeout>();
  const hanging = new Set<ServerResponse>();

  const handle = async (req: IncomingMessage, res: ServerResponse, attempt: WebhookAttempt) => {
    const answer = (status: number, headers: Record<string, string> = {}, body?: string) => {
      attempt.status = status;
      if (res.headersSent || res.destroyed) return;
      res.writeHead(status, { ...(body === undefined ? {} : { 'content-type': 'text/plain; charset=utf-8' }), ...headers });
      res.end(body);
    };

    // taken at arrival, so concurrent requests consume the script in arrival order
    const next = scripted.shift();
    const rawBody = await readBody(req);
    if (next !== undefined) {
      if ('hang' in next) {
        hanging.add(res);
        return;
      }
      const send = () => answer(next.status, next.headers, next.body);
      if (next.delayMs === undefined) return send();
      const timer = setTimeout(() => {
        delayTimers.delete(timer);
        send();
      }, next.delayMs);
      delayTimers.add(timer);
      return;
    }

    const url = new URL(req.url ?? '/', 'http://receiver');
    if (url.pathname !== path) return answer(404, {}, 'not found');
    if (req.method !== 'POST') return answer(405, { allow: 'POST' }, 'method not allowed');

    const headers = readWebhookHeaders(req.headers);
    const verdict = judgeDelivery(headers, rawBody, verifiers, acceptedIds, Math.floor(Date.now() / 1000));
    switch (verdict.kind) {
      case 'rejected':
        rejected.push({ id: attempt.id, reason: verdict.reason, status: verdict.status });
        return answer(verdict.status, {}, `webhook rejected: ${verdict.reason}`);
      case 'duplicate':
        duplicates.push(verdict.id);
        return answer(200);
      case 'accepted':
        acceptedIds.add(verdict.id);
        accepted.push({ id: verdict.id, timestamp: verdict.timestampSec, body: verdict.body, receivedAt: Date.now() });
        return answer(204);
    }
  };

  const server = await listenOnLoopback(
    (req, res) => {
      const attempt: WebhookAttempt = {
        id: headerValue(req.headers, 'webhook-id'),
        timestamp: headerValue(req.headers, 'webhook-timestamp'),
        status: 0,
        at: Date.now(),
      };
      attempts.push(attempt);
      // a request the client aborted mid-body ends up here: answer if still possible, never crash
      handle(req, res, attempt).catch(() => {
        attempt.status = 500;
        if (!res.headersSent && !res.destroyed) res.writeHead(500).end();
      });
    },
    () => {
      for (const timer of delayTimers) clearTimeout(timer);
      delayTimers.clear();
      for (const res of hanging) res.destroy();
      hanging.clear();
    },
  );

  return {
    url: `http://127.0.0.1:${server.port}${path}`,
    accepted,
    duplicates,
    rejected,
    attempts,
    script: (...responses) => {
      scripted.push(...responses);
    },
    stop: server.stop,
  };
}

/**
 * The receiver's checks in the spec's order: the three headers, the timestamp tolerance, a signature
 * by any configured secret, the body, then the idempotency key. A pure step: no I/O, no clock.
 */
function judgeDelivery(headers: Partial<WebhookHeaders>, rawBody: Buffer, verifiers: Webhook[], acceptedIds: ReadonlySet<string>, nowSec: number): Verdict {
  const { id, timestamp, signature } = headers;
  if (id === undefined || timestamp === undefined || signature === undefined) return { kind: 'rejected', reason: 'headers', status: 400 };
  // the library would parseInt("12abc") as 12; a timestamp that is not an integer is a malformed header
  if (!/^\d+$/.test(timestamp)) return { kind: 'rejected', reason: 'headers', status: 400 };
  const timestampSec = Number(timestamp);
  // checked here, before the library (which throws the same error class for both), so the reason is precise
  if (Math.abs(nowSec - timestampSec) > TIMESTAMP_TOLERANCE_SEC) return { kind: 'rejected', reason: 'timestamp', status: 401 };
  if (!isSignedByAny(verifiers, rawBody, { 'webhook-id': id, 'webhook-timestamp': timestamp, 'webhook-signature': signature })) {
    return { kind: 'rejected', reason: 'signature', status: 401 };
  }
  const body = parseJson(rawBody);
  if (body === undefined) return { kind: 'rejected', reason: 'body', status: 400 };
  // Idempotency: only after verification, so a forged request cannot claim (or probe) an id
  if (acceptedIds.has(id)) return { kind: 'duplicate', id };
  return { kind: 'accepted', id, timestampSec, body: body.value };
}

/**
 * True when any signature in the header verifies with any secret. `Webhook.verify` already walks the
 * space-separated list (skipping versions other than `v1`), so rotation on the sender's side needs
 * nothing more; several secrets cover rotation on ours.
 */
function isSignedByAny(verifiers: Webhook[], rawBody: Buffer, headers: Record<string, string>): boolean {
  return verifiers.some((verifier) => {
    try {
      // jsonParse off: a body that fails JSON.parse is a 'body' rejection, not a verification error
      verifier.verify(rawBody, headers, { jsonParse: false });
      return true;
    } catch (err) {
      if (err instanceof WebhookVerificationError) return false;
      throw err;
    }
  });
}

/** The parsed body in a box, so that a JSON `null` is told apart from a body that does not parse. */
function parseJson(rawBody: Buffer): { value: unknown } | undefined {
  try {
    return { value: JSON.parse(rawBody.toString('utf8')) as unknown };
  } catch {
    return undefined;
  }
}

function readWebhookHeaders(headers: IncomingHttpHeaders): Partial<WebhookHeaders> {
  return { id: headerValue(headers, 'webhook-id'), timestamp: headerValue(headers, 'webhook-timestamp'), signature: headerValue(headers, 'webhook-signature') };
}

/** A header's value, with an empty one counted as missing. */
function headerValue(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return typeof value === 'string' && value !== '' ? value : undefined;
}
