import { describe, expect, it, onTestFinished, vi } from 'vitest';

import { touchpointEntry } from '../log/log-entry.fixtures.js';
import type { LogRecord } from '../log/log-record.js';
import type { DeadLetter } from '../sinks/dead-letters.js';
import type { Sink, SinkOutcome } from '../sinks/sink.js';
import { DEFAULT_SINK_RUNNER_OPTIONS, type SinkRunner } from '../sinks/sink-runner.js';
import { buildTestApi, type TestApi } from './http-api.fixtures.js';

async function api(): Promise<TestApi> {
  const built = await buildTestApi();
  onTestFinished(() => built.close());
  return built;
}

/** A sink that records what it is given and dead-letters touchpoints labelled `poison`. */
class RecordingSink implements Sink {
  readonly seen: number[] = [];
  constructor(
    readonly name: string,
    readonly holdsBackIngest = true,
  ) {}
  async deliver(records: readonly LogRecord[]): Promise<SinkOutcome[]> {
    this.seen.push(...records.map((r) => r.seq));
    return records.map((r) => ((r.message as { label?: string }).label === 'poison' ? 'dead_lettered' : 'delivered'));
  }
}

async function attach(t: TestApi, sink: Sink): Promise<SinkRunner> {
  return t.sinks.attach(sink, {
    ...DEFAULT_SINK_RUNNER_OPTIONS,
    checkpointIntervalMs: 0,
    lagBudget: sink.holdsBackIngest ? undefined : { seconds: 3600, bytes: 1024 ** 3 },
  });
}

/** Resolves once `runner` has settled every record up to `seq`; fails saying so after 5 s. */
async function settledUpTo(runner: SinkRunner, seq: number): Promise<void> {
  await vi.waitFor(() => expect(runner.status().position, `sink ${runner.name} settled up to`).toBe(seq), { timeout: 5_000, interval: 5 });
}

function letter(seq: number, line: string): DeadLetter {
  return {
    time: new Date(1_700_000_000_000 + seq).toISOString(),
    sink: 'influx',
    seq,
    store: 'demo-store',
    kind: 'touchpoint',
    line,
    status: 400,
    error: 'field type conflict',
  };
}

describe('GET /api/v1/ledger', () => {
  it('answers the gateway ledger per store and kind with its totals, the log state and each sink’s ledger, balanced', async () => {
    const t = await api();
    const runner = await attach(t, new RecordingSink('influx'));
    for (const [kind, to] of [
      ['ble', 'logged'],
      ['ble', 'duplicate'],
      ['touchpoint', 'rejected'],
    ] as const) {
      t.ledger.receive('demo-store', kind);
      t.ledger.move('demo-store', kind, 'held', to, to === 'rejected' ? 'schema_invalid' : undefined);
    }
    t.ledger.receive('demo-store', 'ble'); // one still held
    await t.eventLog.append(touchpointEntry(1));
    await t.eventLog.append(touchpointEntry(2, { label: 'poison' }));
    await settledUpTo(runner, 2);

    const res = await t.inject({ method: 'GET', url: '/api/v1/ledger' });
    expect(res.statusCode).toBe(200);
    const body = res.json<{ balanced: boolean; totals: unknown; rows: Array<{ kind: string }>; log: unknown; sinks: unknown[] }>();
    expect(body.balanced).toBe(true);
    expect(body.totals).toMatchObject({
      store: '*',
      kind: '*',
      received: 4,
      states: { held: 1, logged: 1, duplicate: 1, rejected: 1 },
      rejectedBy: { schema_invalid: 1 },
    });
    expect(body.rows.map((r) => r.kind).sort()).toEqual(['ble', 'touchpoint']);
    expect(body.log).toMatchObject({ headSeq: 2, retainedRecords: 2, full: false });
    expect(body.sinks).toEqual([
      expect.objectContaining({
        name: 'influx',
        position: 2,
        ledger: expect.objectContaining({ logged: 2, pending: 0, delivered: 1, dead_lettered: 1, balanced: true }) as unknown,
      }),
    ]);
  });
});

describe('/api/v1/sinks', () => {
  it('lists the attached sinks with their lag', async () => {
    const t = await api();
    const never: Sink = { name: 'stuck', holdsBackIngest: false, deliver: () => new Promise<SinkOutcome[]>(() => undefined) };
    const runner = await attach(t, new RecordingSink('influx'));
    await attach(t, never);
    for (let i = 0; i < 3; i++) await t.eventLog.append(touchpointEntry(i));
    await settledUpTo(runner, 3);

    const res = await t.inject({ method: 'GET', url: '/api/v1/sinks' });
    expect(res.statusCode).toBe(200);
    const { sinks } = res.json<{ sinks: Array<{ name: string; lag: { records: number }; holdsBackIngest: boolean }> }>();
    expect(sinks.map((s) => [s.name, s.holdsBackIngest, s.lag.records])).toEqual([
      ['influx', true, 0],
      ['stuck', false, 3],
    ]);
    await t.sinks.detach('stuck'); // its delivery never returns: detached, not stopped
  });

  it('detaches a sink by name: it stops, and the log keeps nothing for it any more; an unknown name is a 404 naming the attached ones', async () => {
    const t = await api();
    await attach(t, new RecordingSink('influx'));
    await attach(t, new RecordingSink('crm', false));
    const res = await t.inject({ method: 'DELETE', url: '/api/v1/sinks/crm' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ detached: { name: 'crm' }, log: { headSeq: 0 } });
    expect(t.sinks.status().map((s) => s.name)).toEqual(['influx']);

    const unknown = await t.inject({ method: 'DELETE', url: '/api/v1/sinks/crm' });
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json()).toEqual({ error: "no sink named 'crm' is attached (attached: influx)", code: 'SL_ERR_SINK_UNKNOWN' });
  });

  it('starts a replay from a receive time and answers the seq range; refuses an unknown sink (404) and a time that is not ISO 8601 (400)', async () => {
    const t = await api();
    const sink = new RecordingSink('influx');
    const runner = await attach(t, sink);
    for (let i = 0; i < 4; i++) await t.eventLog.append(touchpointEntry(i));
    await settledUpTo(runner, 4);

    const since = new Date(Date.now() - 60_000).toISOString();
    const res = await t.inject({ method: 'POST', url: '/api/v1/sinks/influx/replay', payload: { since } });
    expect(res.statusCode).toBe(202);
    expect(res.json()).toEqual({ sink: 'influx', from: 1, until: 4 });
    await vi.waitFor(() => expect(sink.seen).toEqual([1, 2, 3, 4, 1, 2, 3, 4]), { timeout: 5_000, interval: 5 });

    const future = await t.inject({ method: 'POST', url: '/api/v1/sinks/influx/replay', payload: { since: new Date(Date.now() + 60_000).toISOString() } });
    expect(future.json()).toEqual({ sink: 'influx', from: null, until: 4 });
    const unknown = await t.inject({ method: 'POST', url: '/api/v1/sinks/nope/replay', payload: { since } });
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json()).toMatchObject({ code: 'SL_ERR_SINK_UNKNOWN' });
    const bad = await t.inject({ method: 'POST', url: '/api/v1/sinks/influx/replay', payload: { since: 'yesterday' } });
    expect(bad.statusCode).toBe(400);
    expect(bad.json<{ error: string }>().error).toMatch(/since/);
  });
});

describe('GET /api/v1/dead-letters', () => {
  it('answers the total and the most recent letters first, as many as the limit asks; a limit out of range is a 400', async () => {
    const t = await api();
    await t.deadLetters.add([letter(1, 'interaction a=1'), letter(2, 'interaction a=2')]);
    await t.deadLetters.add([letter(3, 'interaction a=3')]);

    const all = await t.inject({ method: 'GET', url: '/api/v1/dead-letters' });
    expect(all.statusCode).toBe(200);
    expect(all.json()).toEqual({ total: 3, deadLetters: [letter(3, 'interaction a=3'), letter(2, 'interaction a=2'), letter(1, 'interaction a=1')] });
    const one = await t.inject({ method: 'GET', url: '/api/v1/dead-letters?limit=1' });
    expect(one.json()).toEqual({ total: 3, deadLetters: [letter(3, 'interaction a=3')] });
    const zero = await t.inject({ method: 'GET', url: '/api/v1/dead-letters?limit=0' });
    expect(zero.statusCode).toBe(400);
    expect(zero.json()).toMatchObject({ error: expect.stringMatching(/limit/) as unknown });
  });
});
