import { describe, expect, it } from 'vitest';

import { judgeSalesforceFailure } from './salesforce.js';

const config = { name: 'sf-eu', apiVersion: '62.0' };
const judge = (status: number, body: unknown, retryAfter: string | null = null) => judgeSalesforceFailure(config, status, JSON.stringify(body), retryAfter, 0);

describe('what Salesforce’s whole-request failures mean', () => {
  it('403 REQUEST_LIMIT_EXCEEDED throttles the destination, with Retry-After when sent', () => {
    const limit = [{ message: 'TotalRequests Limit exceeded.', errorCode: 'REQUEST_LIMIT_EXCEEDED' }];
    expect(judge(403, limit)).toEqual({
      kind: 'retry',
      status: 403,
      error: 'Salesforce answered 403: REQUEST_LIMIT_EXCEEDED: TotalRequests Limit exceeded.',
      throttled: true,
    });
    expect(judge(403, limit, '60')).toMatchObject({ retryAfterMs: 60_000 });
  });

  it('a retired API version (410) disables the destination', () => {
    expect(judge(410, [{ errorCode: 'GONE', message: 'retired' }])).toMatchObject({ kind: 'gone', error: expect.stringContaining('v62.0 is retired') });
  });

  it('another 403, a 404 and an unknown event object are the configuration’s fault, naming the variable to set', () => {
    for (const [status, code] of [
      [403, 'INSUFFICIENT_ACCESS'],
      [404, 'NOT_FOUND'],
      [400, 'INVALID_TYPE'],
    ] as const) {
      expect(judge(status, [{ errorCode: code, message: 'x' }])).toMatchObject({
        kind: 'retry',
        throttled: true,
        configurationFault: true,
        error: expect.stringContaining('STORELOOP_CRM_SF_EU_CLIENT_SECRET'),
      });
    }
  });

  it('another 400 refuses the records; 5xx are retried, 503 throttling', () => {
    expect(judge(400, [{ errorCode: 'JSON_PARSER_ERROR', message: 'Unexpected character' }])).toMatchObject({ kind: 'refused' });
    expect(judge(500, [{ errorCode: 'UNKNOWN_EXCEPTION', message: 'x' }])).toMatchObject({ kind: 'retry', throttled: false });
    expect(judge(503, 'Service Unavailable')).toMatchObject({ kind: 'retry', throttled: true });
  });
});
