import { describe, expect, it } from 'vitest';

import { eventUuid, hubspotErasureBody, hubspotEventBody, hubspotProperties, msUntilMidnight, snakeCase } from './hubspot-event.js';

const config = {
  hubId: 4711,
  identifyBy: 'email' as const,
  events: { visit: 'storeloop_visit', interaction: 'storeloop_interaction', feedback: 'storeloop_feedback' },
  properties: {},
};
const feedback = {
  event: {
    id: 'tp-lyon-01-feedback-1-1767261600000-m1',
    type: 'feedback',
    eventTime: Date.UTC(2026, 0, 1, 10),
    data: { store: 'lyon-01', touchpoint: 'feedback-1', touchpointType: 'feedback', action: 'feedback', at: '2026-01-01T10:00:00.000Z', value: 4 },
  },
  customer: 'ana@example.com',
};

describe('the HubSpot mapping', () => {
  it('makes a behavioral event named pe{hubId}_{name}, the contact by email, the uuid from the event id', () => {
    const mapped = hubspotEventBody(config, feedback);
    expect(mapped).toEqual({
      body: {
        eventName: 'pe4711_storeloop_feedback',
        occurredAt: '2026-01-01T10:00:00.000Z',
        uuid: eventUuid(feedback.event.id),
        email: 'ana@example.com',
        properties: { store: 'lyon-01', touchpoint: 'feedback-1', touchpoint_type: 'feedback', action: 'feedback', value: 4 },
      },
    });
  });

  it('derives the same RFC 9562 version 5 uuid from the same event id, and another from another', () => {
    const uuid = eventUuid('visit-1');
    expect(uuid).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(eventUuid('visit-1')).toBe(uuid);
    expect(eventUuid('visit-2')).not.toBe(uuid);
  });

  it('refuses a value longer than 50 characters, naming the property, its length and the limit, instead of cutting it', () => {
    const result = hubspotProperties({ label: 'x'.repeat(51) }, {});
    expect(result).toEqual({ refused: expect.stringContaining("property 'label' (field 'label') is 51 characters, HubSpot takes at most 50") });
    expect(hubspotProperties({ label: 'x'.repeat(50) }, {})).toEqual({ body: { label: 'x'.repeat(50) } });
  });

  it('leaves out what is mapped to null, sends a mapped zones list joined by commas, and snake-cases unknown fields', () => {
    const data = { zones: ['entrance', 'shoes'], durationS: 60, start: 'x', newField: 1 };
    expect(hubspotProperties(data, {})).toEqual({ body: { duration_s: 60, new_field: 1 } });
    expect(hubspotProperties(data, { zones: 'zone_path', durationS: null })).toEqual({ body: { zone_path: 'entrance,shoes', new_field: 1 } });
    expect(snakeCase('touchpointType')).toBe('touchpoint_type');
  });

  it('refuses more than 50 properties and a field whose name is no HubSpot name', () => {
    const many = Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`f${i}`, i]));
    expect(hubspotProperties(many, {})).toEqual({ refused: '51 properties, HubSpot takes at most 50 per event' });
    expect(hubspotProperties({ ['x'.repeat(51)]: 1 }, {})).toEqual({ refused: expect.stringContaining('not a HubSpot property name') });
  });

  it('refuses a customer reference that cannot identify a contact the configured way', () => {
    expect(hubspotEventBody(config, { ...feedback, customer: 'C-1' })).toEqual({ refused: expect.stringContaining('not an email address') });
    expect(hubspotEventBody({ ...config, identifyBy: 'objectId' }, { ...feedback, customer: 'C-1' })).toEqual({
      refused: expect.stringContaining('not a HubSpot record id'),
    });
    expect(hubspotEventBody({ ...config, identifyBy: 'utk' }, { ...feedback, customer: 'abc123' })).toMatchObject({ body: { utk: 'abc123' } });
  });

  it('erases by email with idProperty, by record id alone, and cannot by a tracking cookie', () => {
    expect(hubspotErasureBody({ identifyBy: 'email' }, 'ana@example.com')).toEqual({ body: { objectId: 'ana@example.com', idProperty: 'email' } });
    expect(hubspotErasureBody({ identifyBy: 'objectId' }, '901')).toEqual({ body: { objectId: '901' } });
    expect(hubspotErasureBody({ identifyBy: 'utk' }, 'abc')).toEqual({ refused: expect.stringContaining('delete the contact in HubSpot by hand') });
  });

  it('waits for the daily limit until midnight in the account’s time zone, across a daylight-saving change too', () => {
    const now = Date.parse('2026-06-01T20:30:00Z');
    expect(msUntilMidnight('UTC', now)).toBe(3.5 * 3600_000);
    // Paris is UTC+2 in June: local midnight is 22:00 UTC
    expect(msUntilMidnight('Europe/Paris', now)).toBe(1.5 * 3600_000);
    // New York is UTC-4 in June: 16:30 local, midnight at 04:00 UTC the next day
    expect(msUntilMidnight('America/New_York', now)).toBe(7.5 * 3600_000);
    // the night of 25 to 26 October 2026 Paris goes back to UTC+1: from 23:00 local on the 25th it is one hour
    expect(msUntilMidnight('Europe/Paris', Date.parse('2026-10-25T22:00:00Z'))).toBe(3600_000);
    expect(msUntilMidnight('Europe/Paris', Date.parse('2026-10-24T22:30:00Z'))).toBe(24.5 * 3600_000);
  });
});
