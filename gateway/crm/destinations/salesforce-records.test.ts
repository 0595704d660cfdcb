import { describe, expect, it } from 'vitest';

import { judgeSaveResult, salesforceRecord } from './salesforce-records.js';

const config = { eventObject: 'Storeloop_Event__e', erasureObject: 'Storeloop_Erasure__e' };

describe('the Salesforce mapping', () => {
  it('publishes a customer event with its storeloop id, the customer, the type, the time and the data as JSON', () => {
    const data = { store: 'lyon-01', touchpoint: 'kiosk-1', action: 'tap', at: '2026-01-01T10:00:00.000Z' };
    expect(salesforceRecord(config, { event: { id: 'tp-1', type: 'interaction', eventTime: Date.UTC(2026, 0, 1, 10), data }, customer: 'C-1' })).toEqual({
      attributes: { type: 'Storeloop_Event__e' },
      Storeloop_Event_Id__c: 'tp-1',
      Customer__c: 'C-1',
      Event_Type__c: 'interaction',
      Occurred_At__c: '2026-01-01T10:00:00.000Z',
      Store__c: 'lyon-01',
      Payload__c: JSON.stringify(data),
    });
  });

  it('publishes an erasure as its own platform event naming the customer', () => {
    const erasure = { id: 'erasure-1', type: 'erasure', eventTime: Date.UTC(2026, 0, 2), data: { customer: 'C-1' } };
    expect(salesforceRecord(config, { event: erasure, customer: 'C-1' })).toEqual({
      attributes: { type: 'Storeloop_Erasure__e' },
      Storeloop_Event_Id__c: 'erasure-1',
      Customer__c: 'C-1',
      Erased_At__c: '2026-01-02T00:00:00.000Z',
    });
  });

  it('reads a record’s result: enqueued is delivered, a publishing outage retried, a used-up allocation throttles, a bad field refused', () => {
    expect(judgeSaveResult({ id: 'e01', success: true, errors: [{ statusCode: 'OPERATION_ENQUEUED', message: 'uuid', fields: [] }] })).toEqual({
      kind: 'delivered',
      status: 200,
    });
    expect(judgeSaveResult({ success: false, errors: [{ statusCode: 'PLATFORM_EVENT_PUBLISHING_UNAVAILABLE', message: 'try later' }] })).toMatchObject({
      kind: 'retry',
      throttled: false,
    });
    expect(judgeSaveResult({ success: false, errors: [{ statusCode: 'LIMIT_EXCEEDED', message: 'hourly publishing limit' }] })).toMatchObject({
      kind: 'retry',
      throttled: true,
    });
    expect(judgeSaveResult({ success: false, errors: [{ statusCode: 'STRING_TOO_LONG', message: 'too long', fields: ['Customer__c'] }] })).toEqual({
      kind: 'refused',
      status: 200,
      error: 'Salesforce refused the record: STRING_TOO_LONG: too long (Customer__c)',
    });
    expect(judgeSaveResult(undefined)).toMatchObject({ kind: 'retry' });
  });
});
