import { afterEach, describe, expect, it } from 'vitest';

import { touchpointEntry } from '../log/log-entry.fixtures.js';
import { buildTestApi, type TestApi } from './http-api.fixtures.js';

let api: TestApi | undefined;
afterEach(async () => {
  await api?.close();
  api = undefined;
});

interface Pipeline {
  ingest: { perMinute: Array<{ accepted: number; rejected: number }>; totals: Record<string, number>; sampledSince: string };
  rejections: Array<{ reason: string; count: number; description: string | null }>;
  log: { records: number; segments: number; oldest: { seq: number; appendedAt: string } | null; newest: { seq: number; appendedAt: string } | null };
  sinks: unknown[];
  deadLetters: number;
}

describe('GET /api/v1/pipeline', () => {
  it('answers ingest per minute, rejections by reason with what they mean, and the oldest and newest record of the log', async () => {
    api = await buildTestApi();
    const empty = (await api.inject({ method: 'GET', url: '/api/v1/pipeline' })).json<Pipeline>();
    expect(empty.ingest.perMinute).toHaveLength(60);
    expect(empty.log).toMatchObject({ records: 0, oldest: null, newest: null });

    for (let i = 0; i < 3; i++) {
      api.ledger.receive('demo-store', 'ble');
      api.ledger.move('demo-store', 'ble', 'held', 'logged');
    }
    api.ledger.receive('demo-store', 'ble');
    api.ledger.move('demo-store', 'ble', 'held', 'rejected', 'schema_invalid');
    api.ledger.receive('_unknown', '_unknown');
    api.ledger.move('_unknown', '_unknown', 'held', 'rejected', 'backpressure');
    api.ledger.receive('_unknown', '_unknown');
    api.ledger.move('_unknown', '_unknown', 'held', 'rejected', 'backpressure');
    await api.eventLog.append(touchpointEntry(1), {});
    await api.eventLog.append(touchpointEntry(2), {});

    const body = (await api.inject({ method: 'GET', url: '/api/v1/pipeline' })).json<Pipeline>();
    // the counts land in the running minute (or the one before, had a minute just turned)
    const recent = body.ingest.perMinute.slice(-2);
    expect({ accepted: recent.reduce((n, m) => n + m.accepted, 0), rejected: recent.reduce((n, m) => n + m.rejected, 0) }).toEqual({
      accepted: 3,
      rejected: 3,
    });
    expect(body.ingest.totals).toEqual({ received: 6, accepted: 3, rejected: 3, duplicate: 0, shed: 0 });
    expect(body.rejections).toEqual([
      { reason: 'backpressure', count: 2, description: expect.stringMatching(/event log was full/) },
      { reason: 'schema_invalid', count: 1, description: expect.stringMatching(/schema/) },
    ]);
    expect(body.log.records).toBe(2);
    expect(body.log.oldest?.seq).toBe(1);
    expect(body.log.newest?.seq).toBe(2);
    expect(Date.parse(body.log.newest?.appendedAt ?? '')).toBeGreaterThanOrEqual(Date.parse(body.log.oldest?.appendedAt ?? ''));
    expect(body.deadLetters).toBe(0);
  });

  it('is open to analysts', async () => {
    api = await buildTestApi();
    const token = api.tokens.add({ name: 'analyst', scopes: ['analyst'] }).token;
    const reply = await api.app.inject({ method: 'GET', url: '/api/v1/pipeline', headers: { authorization: `Bearer ${token}` } });
    expect(reply.statusCode).toBe(200);
  });
});
