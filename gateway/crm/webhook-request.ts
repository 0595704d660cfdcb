/**
 * One delivery attempt to a generic webhook, signed per Standard Webhooks 1.0 (the `standardwebhooks`
 * library): `webhook-id` the event's id (the same on every attempt: the receiver's idempotency key),
 * `webhook-timestamp` this attempt's time, `webhook-signature` one `v1,` signature per configured
 * secret (several during a rotation). The body is `{type, timestamp, data}`. What the answer means
 * follows the specification: 2xx delivered; 410 the endpoint is gone (disable it); 429, 502, 503 and
 * 504 throttle (honour `Retry-After`); other 3xx and 5xx, timeouts and network errors are retried;
 * 400, 413 and 422 refuse this event for good; 401 and 403 (a wrong secret or token) are retried, as
 * the destination's configuration, not the event, is at fault.
 */
import { Webhook } from 'standardwebhooks';

export type AttemptResult =
  | { kind: 'delivered'; status: number }
  | { kind: 'retry'; status: number | null; error: string; retryAfterMs?: number; throttled: boolean }
  | { kind: 'refused'; status: number; error: string }
  | { kind: 'gone'; status: number; error: string };

export interface WebhookTarget {
  url: string;
  secrets: readonly string[];
  timeoutMs: number;
}

const THROTTLE = new Set([429, 502, 503, 504]);
const REFUSED = new Set([400, 413, 422]);
/** A `Retry-After` further away than this is read as this (a day): the backoff's ceiling still applies afterwards. */
const MAX_RETRY_AFTER_MS = 24 * 3600_000;

/** `Retry-After` as seconds or an HTTP date, in ms from `now`; undefined when absent or unreadable. */
export function retryAfterMs(value: string | null, now: number): number | undefined {
  if (value === null || value.trim() === '') return undefined;
  const seconds = /^\s*\d+\s*$/.test(value) ? Number(value) * 1000 : Date.parse(value) - now;
  if (!Number.isFinite(seconds)) return undefined;
  return Math.min(Math.max(0, seconds), MAX_RETRY_AFTER_MS);
}

/** The request's body: what the receiver gets. */
export function webhookBody(event: { id: string; type: string; eventTime: number; data: Record<string, unknown> }, customer: string): string {
  return JSON.stringify({
    type: `storeloop.${event.type}`,
    timestamp: new Date(event.eventTime).toISOString(),
    data: { eventId: event.id, customer, ...event.data },
  });
}

export async function sendWebhook(target: WebhookTarget, id: string, body: string, now = new Date()): Promise<AttemptResult> {
  const signature = target.secrets.map((secret) => new Webhook(secret).sign(id, now, body)).join(' ');
  let response: Response;
  try {
    response = await fetch(target.url, {
      method: 'POST',
      redirect: 'manual',
      signal: AbortSignal.timeout(target.timeoutMs),
      headers: {
        'content-type': 'application/json',
        'user-agent': 'storeloop-gateway',
        'webhook-id': id,
        'webhook-timestamp': String(Math.floor(now.getTime() / 1000)),
        'webhook-signature': signature,
      },
      body,
    });
  } catch (err) {
    const timedOut = (err as { name?: string }).name === 'TimeoutError';
    return {
      kind: 'retry',
      status: null,
      error: timedOut ? `no answer within ${target.timeoutMs} ms` : `cannot reach ${target.url}: ${(err as Error).message}`,
      throttled: false,
    };
  }
  const status = response.status;
  const text = (await response.text().catch(() => '')).slice(0, 300);
  const error = `${target.url} answered ${status}${text === '' ? '' : `: ${text}`}`;
  if (status >= 200 && status < 300) return { kind: 'delivered', status };
  if (status === 410) return { kind: 'gone', status, error };
  if (REFUSED.has(status)) return { kind: 'refused', status, error };
  const after = retryAfterMs(response.headers.get('retry-after'), now.getTime());
  return { kind: 'retry', status, error, throttled: THROTTLE.has(status), ...(after === undefined ? {} : { retryAfterMs: after }) };
}
