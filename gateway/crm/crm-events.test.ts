import { describe, expect, it } from 'vitest';

import type { LogRecord } from '../log/log-record.js';
import { crmCandidate } from './crm-events.js';
import { retryAfterMs } from './destinations/destination.js';
import { webhookBody } from './destinations/webhook.js';

const T = Date.UTC(2026, 10, 30, 12);
const BEACON = 'ibeacon:f7826da6-4fa2-4e98-8024-bc5b71e0893e:100:7';
const source = { storeId: 'demo-store', sourceId: 'kiosk-1', role: 'touchpoint', type: 'kiosk', zone: 'aisle-women' };

function touchpoint(message: Record<string, unknown>, mid: string | null = 'm-1'): LogRecord {
  return {
    v: 1,
    kind: 'touchpoint',
    source,
    eventTime: T,
    receivedAt: T,
    mid,
    qos: 1,
    slot: 0,
    seq: 7,
    appendedAt: T,
    message: { ts: T, ...message },
  } as never;
}

function visit(visitor: string): LogRecord {
  const engine = { storeId: 'demo-store', sourceId: 'experience-engine', role: 'engine', type: null, zone: null };
  const message = {
    type: 'visit',
    id: 'visit-abc',
    visitor,
    start: T,
    end: T + 600_000,
    path: ['entrance', 'aisle-women', 'checkout'],
    zones: 2,
    dwell: [
      { zone: 'entrance', seconds: 40 },
      { zone: 'aisle-women', seconds: 540 },
    ],
    definition: 'visit-ble/3',
    params: '',
  };
  return { v: 1, kind: 'experience', source: engine, eventTime: T, receivedAt: T, mid: 'visit-abc', qos: 1, slot: 0, seq: 8, appendedAt: T, message } as never;
}

const noLinks = () => undefined;
const linked = (pseudonym: string, at: number) => (pseudonym === BEACON && at >= T ? 'ct_alice' : undefined);

describe('which log records are CRM events', () => {
  it('forwards an identified interaction and feedback with a stable id and no customer id', () => {
    const tap = crmCandidate(touchpoint({ action: 'tap', customerToken: 'ct_alice', label: 'lookbook' }), noLinks);
    expect(tap).toEqual({
      event: {
        id: 'tp-demo-store-kiosk-1-' + T + '-m-1',
        customerToken: 'ct_alice',
        eventTime: T,
        type: 'interaction',
        data: { store: 'demo-store', touchpoint: 'kiosk-1', touchpointType: 'kiosk', action: 'tap', at: new Date(T).toISOString(), label: 'lookbook' },
      },
    });
    const feedback = crmCandidate(touchpoint({ action: 'feedback', value: 4, customerToken: 'ct_alice' }, null), noLinks);
    expect(feedback).toMatchObject({ event: { type: 'feedback', id: 'tp-demo-store-kiosk-1-' + T + '-7', data: { value: 4 } } });
  });

  it('takes an interaction that names only a linked beacon as the customer’s, and leaves anonymous ones and consent actions out', () => {
    expect(crmCandidate(touchpoint({ action: 'view', beacon: BEACON }), linked)).toMatchObject({ event: { customerToken: 'ct_alice' } });
    expect(crmCandidate(touchpoint({ action: 'view', beacon: BEACON }), noLinks)).toEqual({ reason: 'anonymous' });
    expect(crmCandidate(touchpoint({ action: 'tap' }), linked)).toEqual({ reason: 'anonymous' });
    expect(crmCandidate(touchpoint({ action: 'consent_granted', purpose: 'crm', customerToken: 'ct_alice' }), linked)).toEqual({ reason: 'not_forwarded' });
  });

  it('forwards the visit of a linked beacon as a summary, and nothing else of the engine or the sensors', () => {
    expect(crmCandidate(visit(BEACON), linked)).toEqual({
      event: {
        id: 'visit-abc',
        customerToken: 'ct_alice',
        eventTime: T,
        type: 'visit',
        data: {
          store: 'demo-store',
          start: new Date(T).toISOString(),
          end: new Date(T + 600_000).toISOString(),
          durationS: 600,
          zones: ['entrance', 'aisle-women', 'checkout'],
          dwell: [
            { zone: 'entrance', seconds: 40 },
            { zone: 'aisle-women', seconds: 540 },
          ],
          definition: 'visit-ble/3',
        },
      },
    });
    expect(crmCandidate(visit('ibeacon:other:1:1'), linked)).toEqual({ reason: 'anonymous' });
    const ble = { ...touchpoint({}), kind: 'ble', message: { ts: T, sightings: [] } } as never;
    expect(crmCandidate(ble, linked)).toEqual({ reason: 'not_forwarded' });
  });
});

describe('the webhook request', () => {
  it('reads Retry-After as seconds or an HTTP date, and ignores what it cannot read', () => {
    const now = Date.UTC(2026, 10, 30, 12);
    expect(retryAfterMs('30', now)).toBe(30_000);
    expect(retryAfterMs(new Date(now + 90_000).toUTCString(), now)).toBe(90_000);
    expect(retryAfterMs(new Date(now - 90_000).toUTCString(), now)).toBe(0);
    expect(retryAfterMs('soon', now)).toBeUndefined();
    expect(retryAfterMs(null, now)).toBeUndefined();
    expect(retryAfterMs('9999999', now)).toBe(24 * 3600_000);
  });

  it('sends {type, timestamp, data} with the customer id and the event id in data', () => {
    const body = JSON.parse(webhookBody({ id: 'visit-abc', type: 'visit', eventTime: T, data: { durationS: 600 } }, 'C-1')) as unknown;
    expect(body).toEqual({ type: 'storeloop.visit', timestamp: new Date(T).toISOString(), data: { eventId: 'visit-abc', customer: 'C-1', durationS: 600 } });
  });
});
