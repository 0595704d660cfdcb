/**
 * The Salesforce mapping, in one place and pure: a storeloop event → a platform event record of
 * `eventObject`, an erasure → a record of `erasureObject`, and what Salesforce's per-record result
 * (`SaveResult`: `success`, `errors[].statusCode`) means for the event. Platform events take no
 * client idempotency key: each record carries the storeloop event id (`Storeloop_Event_Id__c`), on
 * which a subscriber de-duplicates; delivery is at least once.
 */
import type { SalesforceDestinationConfig } from '../../../config/index.js';
import type { AttemptResult, OutgoingEvent } from './destination.js';

/** The fields of the two platform events, as their definitions in Salesforce must name them (docs/crm.md). */
export const SALESFORCE_FIELDS = {
  eventId: 'Storeloop_Event_Id__c',
  customer: 'Customer__c',
  type: 'Event_Type__c',
  occurredAt: 'Occurred_At__c',
  store: 'Store__c',
  payload: 'Payload__c',
  erasedAt: 'Erased_At__c',
} as const;

export interface SalesforceRecord {
  attributes: { type: string };
  [field: string]: unknown;
}

/** One record for one event: the customer events carry their data as JSON in `Payload__c`. */
export function salesforceRecord(
  config: Pick<SalesforceDestinationConfig, 'eventObject' | 'erasureObject'>,
  { event, customer }: OutgoingEvent,
): SalesforceRecord {
  const f = SALESFORCE_FIELDS;
  if (event.type === 'erasure') {
    return {
      attributes: { type: config.erasureObject },
      [f.eventId]: event.id,
      [f.customer]: customer,
      [f.erasedAt]: new Date(event.eventTime).toISOString(),
    };
  }
  const store = event.data.store;
  return {
    attributes: { type: config.eventObject },
    [f.eventId]: event.id,
    [f.customer]: customer,
    [f.type]: event.type,
    [f.occurredAt]: new Date(event.eventTime).toISOString(),
    ...(typeof store === 'string' ? { [f.store]: store } : {}),
    [f.payload]: JSON.stringify(event.data),
  };
}

/** Per-record codes that throttle the destination: an org or publishing allocation is used up. */
const THROTTLE_CODES = new Set(['REQUEST_LIMIT_EXCEEDED', 'LIMIT_EXCEEDED']);
/** Per-record codes worth another attempt: Salesforce could not take it now. */
const RETRY_CODES = new Set(['PLATFORM_EVENT_PUBLISHING_UNAVAILABLE', 'UNABLE_TO_LOCK_ROW', 'SERVER_UNAVAILABLE', 'UNKNOWN_EXCEPTION']);

export interface SaveResult {
  id?: string | null;
  success?: boolean;
  errors?: Array<{ statusCode?: string; message?: string; fields?: string[] }>;
}

/** What one record's `SaveResult` means: success (with `OPERATION_ENQUEUED`, published asynchronously) delivered; else by its first error's code. */
export function judgeSaveResult(result: SaveResult | undefined): AttemptResult {
  if (result === undefined) return { kind: 'retry', status: 200, error: 'Salesforce returned no result for this record', throttled: false };
  if (result.success === true) return { kind: 'delivered', status: 200 };
  const first = result.errors?.[0];
  const code = first?.statusCode ?? 'UNKNOWN';
  const fields = first?.fields !== undefined && first.fields.length > 0 ? ` (${first.fields.join(', ')})` : '';
  const error = `Salesforce refused the record: ${code}: ${first?.message ?? 'no message'}${fields}`;
  if (THROTTLE_CODES.has(code)) return { kind: 'retry', status: 200, error, throttled: true };
  if (RETRY_CODES.has(code)) return { kind: 'retry', status: 200, error, throttled: false };
  return { kind: 'refused', status: 200, error };
}
