/**
 * The HubSpot mapping, in one place and pure: a storeloop event → the body of `POST /events/v3/send`
 * (a custom behavioral event), and an erasure → the body of the GDPR contact deletion. HubSpot's limits
 * (2021 changelog "New property limits for the Custom Behavioural Events API") are checked here,
 * before anything is sent: at most 50 properties, internal names of at most 50 characters `[a-z0-9_]`
 * starting with a letter, values of at most 50 characters. A value over the limit is never cut: the
 * event is refused with the property, its length and the limit, and becomes a dead letter.
 */
import { createHash } from 'node:crypto';

import type { HubSpotDestinationConfig } from '../../../config/index.js';
import type { OutgoingEvent } from './destination.js';

export const MAX_PROPERTIES = 50;
export const MAX_NAME_CHARS = 50;
export const MAX_VALUE_CHARS = 50;
const NAME = /^[a-z][a-z0-9_]*$/;

/**
 * Event data field → HubSpot property, before the config's `properties` are merged over it. `null`
 * leaves the field out: `at` is `occurredAt` already, `start` is the visit's `occurredAt`, and a
 * visit's `zones` joined by commas is often longer than HubSpot's 50 characters.
 */
export const DEFAULT_HUBSPOT_PROPERTIES: Readonly<Record<string, string | null>> = {
  store: 'store',
  touchpoint: 'touchpoint',
  touchpointType: 'touchpoint_type',
  action: 'action',
  value: 'value',
  label: 'label',
  at: null,
  start: null,
  end: 'visit_end',
  durationS: 'duration_s',
  zones: null,
  definition: 'definition',
};

/** Fixed namespace of the name-based UUIDs of storeloop events (RFC 9562 version 5). */
const STORELOOP_UUID_NAMESPACE = '5d3f0a3e-8c1b-4f6e-9a57-2f4b7c9e1d20';

/** A UUID derived from the event id (version 5: SHA-1 of namespace and id): the same id gives the same uuid on every attempt. */
export function eventUuid(eventId: string): string {
  const hash = createHash('sha1')
    .update(Buffer.from(STORELOOP_UUID_NAMESPACE.replace(/-/g, ''), 'hex'))
    .update(eventId, 'utf8')
    .digest();
  const bytes = hash.subarray(0, 16);
  bytes[6] = ((bytes[6] ?? 0) & 0x0f) | 0x50;
  bytes[8] = ((bytes[8] ?? 0) & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** A field name as HubSpot spells internal names: `touchpointType` → `touchpoint_type`. */
export function snakeCase(field: string): string {
  return field.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toLowerCase();
}

export type HubSpotBody<T> = { body: T } | { refused: string };

export interface HubSpotEventBody {
  eventName: string;
  occurredAt: string;
  uuid: string;
  email?: string;
  utk?: string;
  objectId?: string;
  properties: Record<string, string | number | boolean>;
}

type Mapping = Pick<HubSpotDestinationConfig, 'hubId' | 'identifyBy' | 'events' | 'properties'>;

/** Why a customer reference cannot identify a contact the configured way; undefined when it can. */
function identifierProblem(identifyBy: Mapping['identifyBy'], customer: string): string | undefined {
  if (identifyBy === 'email' && !/^[^@\s]+@[^@\s]+$/.test(customer)) return 'the customer reference is not an email address (identifyBy: email)';
  if (identifyBy === 'objectId' && !/^\d+$/.test(customer)) return 'the customer reference is not a HubSpot record id (identifyBy: objectId)';
  return undefined;
}

/** A property's value as HubSpot takes it: arrays joined by commas, objects as JSON. */
function propertyValue(value: unknown): string | number | boolean | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return value;
  if (Array.isArray(value)) return value.map(String).join(',');
  return JSON.stringify(value);
}

/** The event's properties, each name and value checked against HubSpot's limits; the first problem refuses the event. */
export function hubspotProperties(data: Record<string, unknown>, overrides: Mapping['properties']): HubSpotBody<HubSpotEventBody['properties']> {
  const mapping = { ...DEFAULT_HUBSPOT_PROPERTIES, ...overrides };
  const properties: HubSpotEventBody['properties'] = {};
  for (const [field, raw] of Object.entries(data)) {
    const name = field in mapping ? mapping[field] : snakeCase(field);
    if (name === null || name === undefined) continue;
    const value = propertyValue(raw);
    if (value === undefined) continue;
    if (name.length > MAX_NAME_CHARS || !NAME.test(name)) {
      return { refused: `field '${field}' maps to '${name}', not a HubSpot property name (a-z 0-9 _, a letter first, at most ${MAX_NAME_CHARS} characters)` };
    }
    const chars = String(value).length;
    if (chars > MAX_VALUE_CHARS) {
      return {
        refused: `property '${name}' (field '${field}') is ${chars} characters, HubSpot takes at most ${MAX_VALUE_CHARS}: map '${field}' to null or elsewhere in properties, then replay the dead letter`,
      };
    }
    properties[name] = value;
  }
  const count = Object.keys(properties).length;
  if (count > MAX_PROPERTIES) return { refused: `${count} properties, HubSpot takes at most ${MAX_PROPERTIES} per event` };
  return { body: properties };
}

/** The body of `POST /events/v3/send` for one event, or why HubSpot would refuse it. */
export function hubspotEventBody(config: Mapping, { event, customer }: OutgoingEvent): HubSpotBody<HubSpotEventBody> {
  const name = config.events[event.type as keyof Mapping['events']] as string | undefined;
  if (name === undefined) return { refused: `no HubSpot event for storeloop events of type '${event.type}'` };
  const problem = identifierProblem(config.identifyBy, customer);
  if (problem !== undefined) return { refused: problem };
  const properties = hubspotProperties(event.data, config.properties);
  if ('refused' in properties) return properties;
  return {
    body: {
      eventName: `pe${config.hubId}_${name}`,
      occurredAt: new Date(event.eventTime).toISOString(),
      uuid: eventUuid(event.id),
      [config.identifyBy]: customer,
      properties: properties.body,
    },
  };
}

/** Why HubSpot cannot be told of an erasure when customers are known this way; undefined when it can. */
export function hubspotErasureUnsupported(identifyBy: Mapping['identifyBy']): string | undefined {
  return identifyBy === 'utk'
    ? 'HubSpot’s GDPR deletion takes a contact id or an email, and this destination knows the customer only by a tracking cookie (identifyBy: utk): delete the contact in HubSpot by hand'
    : undefined;
}

/** The body of `POST /crm/v3/objects/contacts/gdpr-delete` for an erased customer, or why it cannot be sent. */
export function hubspotErasureBody(config: Pick<Mapping, 'identifyBy'>, customer: string): HubSpotBody<{ objectId: string; idProperty?: string }> {
  const unsupported = hubspotErasureUnsupported(config.identifyBy);
  if (unsupported !== undefined) return { refused: unsupported };
  const problem = identifierProblem(config.identifyBy, customer);
  if (problem !== undefined) return { refused: problem };
  return { body: config.identifyBy === 'email' ? { objectId: customer, idProperty: 'email' } : { objectId: customer } };
}

/** Milliseconds from `now` to the next midnight in `timeZone` (HubSpot's daily limit resets then). */
export function msUntilMidnight(timeZone: string, now: number): number {
  const format = new Intl.DateTimeFormat('en-GB', { timeZone, hourCycle: 'h23', hour: '2-digit', minute: '2-digit', second: '2-digit' });
  const msOfDay = (at: number) => {
    const parts = Object.fromEntries(format.formatToParts(at).map((p) => [p.type, p.value]));
    return ((Number(parts.hour) * 60 + Number(parts.minute)) * 60 + Number(parts.second)) * 1000 + (at % 1000);
  };
  const day = 24 * 3600_000;
  let at = now + (day - msOfDay(now));
  // a day with a daylight-saving change is 23 or 25 hours long: one correction lands on local midnight
  const off = msOfDay(at);
  if (off !== 0) at += off > day / 2 ? day - off : -off;
  return at - now;
}
