import { describe, expect, it, onTestFinished } from 'vitest';

import { REJECTION_REASONS, type RejectionReason, type RejectionRecord } from '../ingest/rejection.js';
import { buildTestApi, type TestApi } from './http-api.fixtures.js';

async function api(): Promise<TestApi> {
  const built = await buildTestApi();
  onTestFinished(() => built.close());
  return built;
}

function rejection(i: number, reason: RejectionReason): RejectionRecord {
  return {
    time: new Date(1_700_000_000_000 + i).toISOString(),
    clientId: `client-${i}`,
    topic: `storeloop/demo-store/ble/ble-${i}`,
    store: 'demo-store',
    kind: 'ble',
    reason,
    detail: `detail ${i}`,
    excerpt: `{"n":${i}}`,
  };
}

describe('GET /api/v1/rejections', () => {
  it('answers the most recent rejections first, filtered by reason and limited, with every reason explained', async () => {
    const t = await api();
    const reasons: RejectionReason[] = ['json_invalid', 'source_unknown', 'json_invalid', 'ts_too_old', 'json_invalid'];
    reasons.forEach((reason, i) => t.rejections.add(rejection(i, reason)));

    const all = await t.inject({ method: 'GET', url: '/api/v1/rejections' });
    expect(all.statusCode).toBe(200);
    const body = all.json<{ rejections: RejectionRecord[]; reasons: Record<string, string> }>();
    expect(body.rejections.map((r) => r.clientId)).toEqual(['client-4', 'client-3', 'client-2', 'client-1', 'client-0']);
    expect(body.rejections[0]).toEqual(rejection(4, 'json_invalid'));
    expect(body.reasons).toEqual(REJECTION_REASONS);

    const filtered = await t.inject({ method: 'GET', url: '/api/v1/rejections?reason=json_invalid&limit=2' });
    expect(filtered.json<{ rejections: RejectionRecord[] }>().rejections.map((r) => r.clientId)).toEqual(['client-4', 'client-2']);
    const none = await t.inject({ method: 'GET', url: '/api/v1/rejections?reason=payload_too_large' });
    expect(none.json<{ rejections: RejectionRecord[] }>().rejections).toEqual([]);
  });

  it.each([
    ['a reason that is no rejection reason', '?reason=too_loud', /reason/],
    ['a limit that is not a number', '?limit=zero', /limit/],
    ['a limit above 10000', '?limit=10001', /limit/],
  ])('answers 400 naming the parameter for %s', async (_what, query, named) => {
    const t = await api();
    const res = await t.inject({ method: 'GET', url: `/api/v1/rejections${query}` });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ error: expect.stringMatching(named) as unknown, code: expect.any(String) as unknown });
  });
});
