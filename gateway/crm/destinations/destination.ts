/**
 * What a CRM destination is to the delivery loop (crm-delivery.ts): something that takes a batch of
 * a destination's due events, each with the customer's CRM reference resolved, makes the request(s)
 * its API wants, and says per event what the answer means. The loop keeps every guarantee (order per
 * customer, rate, backoff with jitter, `Retry-After`, pauses, dead letters, consent rechecked, the
 * disabling on "gone"); a destination only maps events to requests and answers to results, each in
 * its own module (webhook.ts, hubspot.ts, salesforce.ts).
 */
import type { PendingEvent } from '../crm-outbox.js';

/** One event to send, with the customer as the CRM knows them (resolved from the vault just before). */
export interface OutgoingEvent {
  event: Pick<PendingEvent, 'id' | 'type' | 'eventTime' | 'data'>;
  customer: string;
}

/** What one attempt at one event came to. */
export type AttemptResult =
  | { kind: 'delivered'; status: number }
  | {
      kind: 'retry';
      status: number | null;
      error: string;
      retryAfterMs?: number;
      /** The destination asked to slow down: the whole destination pauses, not only this event. */
      throttled: boolean;
      /** The destination's configuration (a token, a secret, a URL) is at fault, not the event: logged as an error. */
      configurationFault?: boolean;
    }
  | { kind: 'refused'; status: number | null; error: string }
  | { kind: 'gone'; status: number; error: string };

export interface CrmDestinationAdapter {
  /** The most events one call of `send` may be given (1: one request per event). */
  readonly maxBatch: number;
  /** Why the destination cannot be told of an erasure as configured (the erasure then queues no notice for it); undefined when it can. */
  readonly erasureUnsupported?: string;
  /** Sends the events (never two of one customer); one result per event, in order. */
  send(events: readonly OutgoingEvent[]): Promise<AttemptResult[]>;
}

/** A `Retry-After` further away than this is read as this (a day): the backoff's ceiling still applies afterwards. */
const MAX_RETRY_AFTER_MS = 24 * 3600_000;

/** `Retry-After` as seconds or an HTTP date, in ms from `now`; undefined when absent or unreadable. */
export function retryAfterMs(value: string | null, now: number): number | undefined {
  if (value === null || value.trim() === '') return undefined;
  const seconds = /^\s*\d+\s*$/.test(value) ? Number(value) * 1000 : Date.parse(value) - now;
  if (!Number.isFinite(seconds)) return undefined;
  return Math.min(Math.max(0, seconds), MAX_RETRY_AFTER_MS);
}

/** An answer read whole: status, headers and at most `maxChars` of the body. */
export interface HttpAnswer {
  status: number;
  headers: Headers;
  text: string;
}

/**
 * One HTTP request with a timeout; a network error or timeout comes back as a retry result (so every
 * destination words them the same way), an answer as `HttpAnswer`.
 */
export async function request(
  url: string,
  init: RequestInit & { timeoutMs: number },
  what = url,
): Promise<HttpAnswer | Extract<AttemptResult, { kind: 'retry' }>> {
  const { timeoutMs, ...rest } = init;
  try {
    const response = await fetch(url, { redirect: 'manual', ...rest, signal: AbortSignal.timeout(timeoutMs) });
    const text = await response.text().catch(() => '');
    return { status: response.status, headers: response.headers, text };
  } catch (err) {
    const timedOut = (err as { name?: string }).name === 'TimeoutError';
    return {
      kind: 'retry',
      status: null,
      error: timedOut ? `no answer from ${what} within ${timeoutMs} ms` : `cannot reach ${what}: ${(err as Error).message}`,
      throttled: false,
    };
  }
}

/** The body as JSON, or undefined when it is not. */
export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** The same result for every event of a batch (the whole request failed). */
export function allOf(events: readonly unknown[], result: AttemptResult): AttemptResult[] {
  return events.map(() => result);
}
