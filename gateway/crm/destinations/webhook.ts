/**
 * The generic webhook, signed per Standard Webhooks 1.0 (the `standardwebhooks` library): one request
 * per event, `webhook-id` the event's id (the same on every attempt: the receiver's idempotency key),
 * `webhook-timestamp` this attempt's time, `webhook-signature` one `v1,` signature per configured
 * secret (several during a rotation). The body is `{type, timestamp, data}`. What the answer means
 * follows the specification: 2xx delivered; 410 the endpoint is gone (disable it); 429, 502, 503 and
 * 504 throttle (honour `Retry-After`); other 3xx and 5xx, timeouts and network errors are retried;
 * 400, 413 and 422 refuse this event for good; 401 and 403 (a wrong secret or token) are retried, as
 * the destination's configuration, not the event, is at fault.
 */
import { Webhook } from 'standardwebhooks';

import type { WebhookDestinationConfig } from '../../../config/index.js';
import { request, retryAfterMs, type AttemptResult, type CrmDestinationAdapter, type OutgoingEvent } from './destination.js';

export interface WebhookTarget {
  url: string;
  secrets: readonly string[];
  timeoutMs: number;
}

const THROTTLE = new Set([429, 502, 503, 504]);
const REFUSED = new Set([400, 413, 422]);

/** The request's body: what the receiver gets. */
export function webhookBody(event: OutgoingEvent['event'], customer: string): string {
  return JSON.stringify({
    type: `storeloop.${event.type}`,
    timestamp: new Date(event.eventTime).toISOString(),
    data: { eventId: event.id, customer, ...event.data },
  });
}

export async function sendWebhook(target: WebhookTarget, id: string, body: string, now = new Date()): Promise<AttemptResult> {
  const signature = target.secrets.map((secret) => new Webhook(secret).sign(id, now, body)).join(' ');
  const answer = await request(target.url, {
    method: 'POST',
    timeoutMs: target.timeoutMs,
    headers: {
      'content-type': 'application/json',
      'user-agent': 'storeloop-gateway',
      'webhook-id': id,
      'webhook-timestamp': String(Math.floor(now.getTime() / 1000)),
      'webhook-signature': signature,
    },
    body,
  });
  if ('kind' in answer) return answer;
  const { status } = answer;
  const text = answer.text.slice(0, 300);
  const error = `${target.url} answered ${status}${text === '' ? '' : `: ${text}`}`;
  if (status >= 200 && status < 300) return { kind: 'delivered', status };
  if (status === 410) return { kind: 'gone', status, error };
  if (REFUSED.has(status)) return { kind: 'refused', status, error };
  const after = retryAfterMs(answer.headers.get('retry-after'), now.getTime());
  return {
    kind: 'retry',
    status,
    error,
    throttled: THROTTLE.has(status),
    ...(status === 401 || status === 403 ? { configurationFault: true } : {}),
    ...(after === undefined ? {} : { retryAfterMs: after }),
  };
}

/** One signed request per event. */
export class WebhookDestination implements CrmDestinationAdapter {
  readonly maxBatch = 1;

  constructor(private readonly config: WebhookDestinationConfig) {}

  async send(events: readonly OutgoingEvent[]): Promise<AttemptResult[]> {
    const results: AttemptResult[] = [];
    for (const { event, customer } of events) results.push(await sendWebhook(this.config, event.id, webhookBody(event, customer)));
    return results;
  }
}
