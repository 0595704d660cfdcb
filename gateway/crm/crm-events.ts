/**
 * Which log records become CRM events, and what they carry: a customer's touchpoint interactions and
 * feedback (the customer named at the touchpoint, or the app's beacon id linked to them), and the
 * visits of a beacon linked to a customer (start, end, duration, the zones in order, the time in each). Consent actions,
 * sightings, device readings and the other experience events are not forwarded. The customer's CRM
 * id is not in the event: the delivery resolves it when it sends.
 */
import { isConsentAction } from '../../protocol/index.js';
import type { LogRecord, LogRecordOf } from '../log/log-record.js';
import type { OutboxEvent } from './crm-outbox.js';

export const CRM_EVENT_TYPES = ['visit', 'interaction', 'feedback'] as const;
export type CrmEventType = (typeof CRM_EVENT_TYPES)[number];

/** Why a record is not forwarded: counted per destination with the reason. */
export const CRM_FILTER_REASONS = ['not_forwarded', 'anonymous', 'no_consent'] as const;
export type CrmFilterReason = (typeof CRM_FILTER_REASONS)[number];

export type CrmCandidate = { event: Omit<OutboxEvent, 'destination'> } | { reason: Exclude<CrmFilterReason, 'no_consent'> };

/** Resolves a pseudonym (a beacon id) to the customer token it was linked to at a time. */
export type LinkLookup = (pseudonym: string, at: number) => string | undefined;

const iso = (ms: number) => new Date(ms).toISOString();

export function crmCandidate(record: LogRecord, linkedAt: LinkLookup): CrmCandidate {
  if (record.kind === 'touchpoint') return touchpointCandidate(record as LogRecordOf<'touchpoint'>, linkedAt);
  if (record.kind !== 'experience') return { reason: 'not_forwarded' };
  const event = (record as LogRecordOf<'experience'>).message;
  if (event.type !== 'visit') return { reason: 'not_forwarded' };
  const token = linkedAt(event.visitor, event.start);
  if (token === undefined) return { reason: 'anonymous' };
  return {
    event: {
      id: event.id,
      customerToken: token,
      eventTime: event.start,
      type: 'visit',
      data: {
        store: record.source.storeId,
        start: iso(event.start),
        end: iso(event.end),
        durationS: Math.round((event.end - event.start) / 1000),
        zones: event.path,
        ...(event.dwell === undefined ? {} : { dwell: event.dwell }),
        definition: event.definition,
      },
    },
  };
}

function touchpointCandidate(record: LogRecordOf<'touchpoint'>, linkedAt: LinkLookup): CrmCandidate {
  const { action, customerToken, beacon, value, label } = record.message;
  if (isConsentAction(action)) return { reason: 'not_forwarded' };
  const token = customerToken ?? (beacon === undefined ? undefined : linkedAt(beacon, record.eventTime));
  if (token === undefined) return { reason: 'anonymous' };
  const { storeId, sourceId, type } = record.source as { storeId: string; sourceId: string; type?: string | null };
  return {
    event: {
      // the message's identity: the same message delivered again (a crash, a replay) is the same event
      id: `tp-${storeId}-${sourceId}-${record.eventTime}-${record.mid ?? record.payloadHash ?? record.seq}`,
      customerToken: token,
      eventTime: record.eventTime,
      type: action === 'feedback' ? 'feedback' : 'interaction',
      data: {
        store: storeId,
        touchpoint: sourceId,
        ...(type === null || type === undefined ? {} : { touchpointType: type }),
        action,
        at: iso(record.eventTime),
        ...(value === undefined ? {} : { value }),
        ...(label === undefined ? {} : { label }),
      },
    },
  };
}
