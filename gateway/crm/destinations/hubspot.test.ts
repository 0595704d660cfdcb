import { describe, expect, it } from 'vitest';

import { judgeHubSpotAnswer } from './hubspot.js';

const config = { name: 'hubspot', timeZone: 'Europe/Paris' };
const NOW = Date.parse('2026-06-01T20:30:00Z');
const answer = (status: number, body: unknown = undefined, headers: Record<string, string> = {}) => ({
  status,
  headers: new Headers(headers),
  text: body === undefined ? '' : JSON.stringify(body),
});
const judge = (a: ReturnType<typeof answer>, erasure = false) => judgeHubSpotAnswer(config, '/events/v3/send', a, erasure, NOW);

describe('what HubSpot’s answers mean', () => {
  it('204 is delivered', () => {
    expect(judge(answer(204))).toEqual({ kind: 'delivered', status: 204 });
  });

  it('a 429 waits by its policy: DAILY until midnight in the account’s zone, TEN_SECONDLY_ROLLING 10 s, Retry-After first', () => {
    expect(judge(answer(429, { status: 'error', errorType: 'RATE_LIMIT', policyName: 'DAILY' }))).toMatchObject({
      kind: 'retry',
      throttled: true,
      retryAfterMs: 1.5 * 3600_000,
      error: expect.stringContaining("(policy DAILY); HubSpot's daily limit resets at midnight Europe/Paris, 2026-06-01T22:00:00.000Z"),
    });
    expect(judge(answer(429, { policyName: 'TEN_SECONDLY_ROLLING' }))).toMatchObject({ throttled: true, retryAfterMs: 10_000 });
    expect(judge(answer(429, { policyName: 'TEN_SECONDLY_ROLLING' }, { 'retry-after': '3' }))).toMatchObject({ retryAfterMs: 3_000 });
    expect(judge(answer(429, { policyName: 'SOMETHING_NEW' }))).not.toHaveProperty('retryAfterMs');
  });

  it('401 and 403 are the token’s fault: paused, retried, naming the variable to set', () => {
    for (const status of [401, 403]) {
      expect(judge(answer(status, { status: 'error', message: 'Authentication credentials not found', category: 'INVALID_AUTHENTICATION' }))).toMatchObject({
        kind: 'retry',
        throttled: true,
        configurationFault: true,
        error: expect.stringContaining('STORELOOP_CRM_HUBSPOT_TOKEN'),
      });
    }
  });

  it('400 refuses the event with HubSpot’s message; 5xx are retried, 502-504 throttling', () => {
    expect(judge(answer(400, { status: 'error', message: 'Property label does not exist', category: 'VALIDATION_ERROR' }))).toEqual({
      kind: 'refused',
      status: 400,
      error: 'HubSpot /events/v3/send answered 400: Property label does not exist',
    });
    expect(judge(answer(500))).toMatchObject({ kind: 'retry', throttled: false });
    expect(judge(answer(503))).toMatchObject({ kind: 'retry', throttled: true });
  });

  it('a GDPR deletion of a record that does not exist is done: nothing is left to delete', () => {
    expect(judge(answer(404, { status: 'error', message: 'resource not found', category: 'OBJECT_NOT_FOUND' }), true)).toEqual({
      kind: 'delivered',
      status: 404,
    });
    expect(judge(answer(404, 'not found'), true)).toMatchObject({ kind: 'retry' });
  });
});
