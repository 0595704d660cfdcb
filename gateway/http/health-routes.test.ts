import { describe, expect, it, onTestFinished } from 'vitest';

import { touchpointEntry } from '../log/log-entry.fixtures.js';
import type { LogRecord } from '../log/log-record.js';
import type { Sink, SinkOutcome } from '../sinks/sink.js';
import { DEFAULT_SINK_RUNNER_OPTIONS } from '../sinks/sink-runner.js';
import { buildTestApi, type TestApi } from './http-api.fixtures.js';

async function api(options: Parameters<typeof buildTestApi>[0] = {}): Promise<TestApi> {
  const built = await buildTestApi(options);
  onTestFinished(() => built.close());
  return built;
}

/** A sink that delivers everything at once. */
const quickSink = (name: string): Sink => ({
  name,
  holdsBackIngest: true,
  deliver: async (records: readonly LogRecord[]): Promise<SinkOutcome[]> => records.map(() => 'delivered'),
});

describe('GET /healthz', () => {
  it('answers ok with the gateway version, whatever the readiness checks say', async () => {
    const { app, ready } = await api();
    ready.broker = false;
    ready.influx = false;
    const res = await app.inject({ method: 'GET', url: '/healthz' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ status: 'ok', version: '9.8.7' });
  });
});

describe('GET /readyz', () => {
  it('answers 200 with every check, the log state and each sink once the broker listens, InfluxDB answers and the log has room', async () => {
    const { app, sinks, eventLog } = await api();
    await sinks.attach(quickSink('influx'), { ...DEFAULT_SINK_RUNNER_OPTIONS, checkpointIntervalMs: 0 });
    await eventLog.append(touchpointEntry(1));
    const res = await app.inject({ method: 'GET', url: '/readyz' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({
      ready: true,
      checks: { broker: true, influx: true, log: true },
      log: { headSeq: 1, full: false, quotaBytes: 1024 ** 2 },
      sinks: [{ name: 'influx', holdsBackIngest: true }],
    });
  });

  it.each([
    { what: 'the broker does not listen', broker: false, influx: true, failing: { broker: false, influx: true } },
    { what: 'InfluxDB answers no ping', broker: true, influx: false, failing: { broker: true, influx: false } },
    { what: 'the InfluxDB ping rejects', broker: true, influx: 'rejects' as const, failing: { broker: true, influx: false } },
    { what: 'the InfluxDB check throws before it starts', broker: true, influx: 'throws' as const, failing: { broker: true, influx: false } },
  ])('answers 503 naming the failed check when $what', async ({ broker, influx, failing }) => {
    const { app, ready } = await api();
    ready.broker = broker;
    ready.influx = influx;
    const res = await app.inject({ method: 'GET', url: '/readyz' });
    expect(res.statusCode).toBe(503);
    expect(res.json()).toMatchObject({ ready: false, checks: { ...failing, log: true } });
  });

  it('answers 503 while the event log refuses appends, full of records a sink that holds back ingest has not consumed', async () => {
    const { app, eventLog } = await api({ quotaBytes: 8 * 1024 });
    eventLog.addConsumer({ name: 'behind', holdsBackIngest: true, durablePosition: () => 0 });
    let refused: unknown;
    for (let i = 0; i < 200 && refused === undefined; i++) await eventLog.append(touchpointEntry(i)).catch((err: unknown) => (refused = err));
    expect(refused).toMatchObject({ code: 'SL_ERR_LOG_FULL' });

    const res = await app.inject({ method: 'GET', url: '/readyz' });
    expect(res.statusCode).toBe(503);
    expect(res.json()).toMatchObject({ ready: false, checks: { broker: true, influx: true, log: false }, log: { full: true } });
  });
});
