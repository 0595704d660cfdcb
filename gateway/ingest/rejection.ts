/**
 * Rejections are values, not exceptions: every message the gateway refuses gets one, with a reason
 * code an installer can look up, the detail (zod path, bad id) and a masked, truncated excerpt.
 */
import { maskClientId, redactPayloadText } from './redact.js';

export const REJECTION_REASONS = {
  topic_outside_prefix: 'the topic is not under the contract prefix',
  topic_invalid: 'the topic does not follow {prefix}/{storeId}/{kind}/{sourceId}',
  topic_unknown_kind: 'the kind level of the topic is not a contract kind',
  payload_too_large: 'the payload is over mqtt.maxPayloadBytes',
  json_invalid: 'the payload is not JSON (or not valid UTF-8)',
  schema_invalid: 'the payload does not follow the schema of its kind (or holds a __proto__, constructor or prototype key)',
  version_unsupported: 'the payload names a contract version this gateway does not speak',
  store_unknown: 'the store id is not in the config',
  source_unknown: 'the source id is not a sensor, touchpoint, device or agent of the store',
  not_authorized: "the publisher's identity may not publish on this topic (its store, source or kind is not granted to it)",
  source_kind_mismatch: 'the source exists but may not publish this kind (e.g. a wifi sensor on ble)',
  ts_too_old: 'the event time is older than ingest.maxPastSeconds',
  ts_in_future: 'the event time is later than now + ingest.maxFutureSeconds',
  items_invalid: 'some sightings/observations of an accepted message were invalid; the others were kept',
  write_rejected: 'InfluxDB refused the points for good (HTTP 4xx other than 429)',
} as const;

export type RejectionReason = keyof typeof REJECTION_REASONS;

export interface Rejection {
  reason: RejectionReason;
  detail: string;
}

export interface RejectionRecord extends Rejection {
  /** ISO time the gateway received the message. */
  time: string;
  clientId: string | null;
  topic: string;
  store: string | null;
  kind: string | null;
  /** The first characters of the payload without personal references, MAC-shaped strings masked (redact.ts). */
  excerpt: string;
}

export const EXCERPT_CHARS = 160;

/** A truncated excerpt of a payload, safe for logs and the API: no personal references, MACs masked. */
export function payloadExcerpt(payload: Buffer | string, maxChars = EXCERPT_CHARS): string {
  // the whole payload is read (it is at most mqtt.maxPayloadBytes), so a customer key past the excerpt's end is redacted too
  const text = typeof payload === 'string' ? payload : payload.toString('utf8');
  // control characters are replaced so an excerpt cannot forge log lines
  // eslint-disable-next-line no-control-regex -- matching control characters is the point
  const clean = redactPayloadText(text).replace(/[\u0000-\u001f\u007f]/g, ' ');
  const cut = clean.slice(0, maxChars);
  return cut.length < clean.length ? `${cut}…` : cut;
}

/** The most recent rejections, newest first, bounded. */
export class RejectionLog {
  private readonly records: RejectionRecord[] = [];
  constructor(private readonly capacity: number) {}

  add(record: RejectionRecord): void {
    this.records.unshift({ ...record, clientId: maskClientId(record.clientId) });
    if (this.records.length > this.capacity) this.records.length = this.capacity;
  }

  list(limit = this.capacity): RejectionRecord[] {
    return this.records.slice(0, limit);
  }
}
