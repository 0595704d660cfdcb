import { Writable } from 'node:stream';

import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';

import { freePort } from '../../devtools/free-port.js';
import { InfluxSchema, type InfluxConfig } from '../../config/schema.js';
import { startInfluxd, type TestInfluxd } from '../../test/helpers/influxd.js';
import { InfluxWriteError } from './influx-errors.js';
import { createLogger } from '../../lib/logger.js';
import { GatewayMetrics } from '../metrics.js';
import { InfluxWriter } from './influx-writer.js';

/** Base timestamp with all nine nanosecond digits set, so a precision loss shows. */
const T0 = 1_700_000_000_123_456_789n;

let influxd: TestInfluxd;
let dbCounter = 0;

beforeAll(async () => {
  influxd = await startInfluxd();
});

afterAll(async () => {
  await influxd?.stop();
});

interface Harness {
  writer: InfluxWriter;
  metrics: GatewayMetrics;
  database: string;
  logs: () => string;
}

/** A started writer on its own database; stopped when the test finishes. */
async function startWriter(overrides: Partial<InfluxConfig> = {}, url = influxd.url): Promise<Harness> {
  const database = `db_${process.pid}_${++dbCounter}`;
  const config = InfluxSchema.parse({
    url,
    api: 'v1',
    database,
    batchSize: 50,
    flushIntervalMs: 10,
    maxRetries: 2,
    maxRetryDelayMs: 50,
    timeoutMs: 2000,
    ...overrides,
  });
  const metrics = new GatewayMetrics({ processMetrics: false });
  let logText = '';
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      logText += chunk.toString();
      done();
    },
  });
  const writer = new InfluxWriter(config, { log: createLogger('debug', sink), metrics });
  onTestFinished(() => writer.stop({ timeoutMs: 2000 }));
  await writer.start();
  return { writer, metrics, database, logs: () => logText };
}

async function counterValue(
  metric: { get(): Promise<{ values: Array<{ value: number; labels: Record<string, string | number | undefined> }> }> },
  labels: Record<string, string> = {},
): Promise<number> {
  const { values } = await metric.get();
  return values.filter((v) => Object.entries(labels).every(([k, want]) => String(v.labels[k]) === want)).reduce((sum, v) => sum + v.value, 0);
}

async function histogramCount(metric: { get(): Promise<{ values: Array<{ value: number; metricName?: string }> }> }): Promise<number> {
  const { values } = await metric.get();
  return values.find((v) => v.metricName?.endsWith('_count') === true)?.value ?? 0;
}

function visitLine(i: number): string {
  return `visits,store=s1,zone=z${i % 5} count=${i}i,visitor="p-${i}" ${T0 + BigInt(i)}`;
}

describe('InfluxWriter against influxd 1.x (/write)', () => {
  it('creates the database at start', async () => {
    const before = await influxd.query('_internal', 'SHOW DATABASES');
    const { database } = await startWriter();
    const after = await influxd.query('_internal', 'SHOW DATABASES');
    const names = (series: typeof after) => series.flatMap((s) => s.values.map((row) => row[0]));
    expect(names(before)).not.toContain(database);
    expect(names(after)).toContain(database);
  });

  it('answers ping with true and sets influxUp', async () => {
    const { writer, metrics } = await startWriter();
    expect(await writer.ping()).toBe(true);
    expect(await counterValue(metrics.influxUp)).toBe(1);
  });

  it('resolves every concurrent write() once its lines are stored, with exact ns timestamps', async () => {
    const { writer, metrics, database } = await startWriter({ batchSize: 37 });
    const calls = Array.from({ length: 20 }, (_, c) => Array.from({ length: 25 }, (_, j) => visitLine(c * 25 + j)));
    await Promise.all(calls.map((lines) => writer.write(lines)));

    const series = await influxd.query(database, 'SELECT "count", "visitor", "zone" FROM visits', { epoch: 'ns' });
    expect(series).toHaveLength(1);
    const [visits] = series;
    expect(visits?.columns).toEqual(['time', 'count', 'visitor', 'zone']);
    const rows = (visits?.values ?? []).map(([time, count, visitor, zone]) => `${String(time)}|${String(count)}|${String(visitor)}|${String(zone)}`);
    const expected = Array.from({ length: 500 }, (_, i) => `${T0 + BigInt(i)}|${i}|p-${i}|z${i % 5}`);
    expect(rows.sort()).toEqual(expected.sort());
    expect(await counterValue(metrics.pointsWritten)).toBe(500);
    // 500 lines in batches of at most 37: at least 14 requests, some mixing lines of several calls
    expect(await histogramCount(metrics.batchPoints)).toBeGreaterThanOrEqual(14);
    expect(await histogramCount(metrics.writeLatency)).toBe(20);
  });

  it('adds no points when the same lines are written twice, also concurrently', async () => {
    const { writer, database } = await startWriter();
    const lines = Array.from({ length: 10 }, (_, i) => visitLine(i));
    await writer.write(lines);
    await Promise.all([writer.write(lines), writer.write(lines)]);
    const [count] = await influxd.query(database, 'SELECT count("count") FROM visits');
    expect(count?.values[0]?.[1]).toBe(10);
  });

  it('writes gzip bodies (gzipThreshold 0) that influxd 1.6 accepts', async () => {
    const { writer, database } = await startWriter({ gzipThreshold: 0 });
    await writer.write([visitLine(1), visitLine(2)]);
    const [count] = await influxd.query(database, 'SELECT count("count") FROM visits');
    expect(count?.values[0]?.[1]).toBe(2);
  });

  it('rejects the call with a field type conflict as a 400 partial write', async () => {
    const { writer, metrics } = await startWriter();
    await writer.write([`m,store=s1 f=1i ${T0}`]);
    const error = await writer.write([`m,store=s1 f="x" ${T0 + 1n}`]).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(InfluxWriteError);
    const writeError = error as InfluxWriteError;
    expect(writeError.code).toBe('SL_ERR_INFLUX_WRITE');
    expect(writeError.context).toMatchObject({ api: 'v1', status: 400, lines: 1, reason: 'partial_write' });
    expect(String(writeError.context['serverMessage'])).toContain('field type conflict');
    expect(await counterValue(metrics.pointsDropped, { reason: 'partial_write' })).toBe(1);
    expect(await counterValue(metrics.writeFailures, { status: '400' })).toBe(1);
  });

  it('keeps the good lines of a partial write and never logs line contents', async () => {
    const { writer, database, logs } = await startWriter();
    const secret = 'pseudo-7f3a9c';
    const error = await writer.write([visitLine(1), `visits,store=s1 visitor="${secret}" count=`, visitLine(2)]).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(InfluxWriteError);
    expect((error as InfluxWriteError).context['status']).toBe(400);
    expect((error as InfluxWriteError).message).not.toContain(secret);
    const [count] = await influxd.query(database, 'SELECT count("count") FROM visits');
    expect(count?.values[0]?.[1]).toBe(2);
    expect(logs()).toContain('influx write given up');
    expect(logs()).not.toContain(secret);
    expect(logs()).not.toContain('p-1');
  });

  it('recreates a database dropped while running and writes the batch again', async () => {
    const { writer, database } = await startWriter();
    await writer.write([visitLine(1)]);
    await influxd.query(database, `DROP DATABASE "${database}"`);
    await writer.write([visitLine(2)]);
    const [count] = await influxd.query(database, 'SELECT count("count") FROM visits');
    expect(count?.values[0]?.[1]).toBe(1);
  });

  it('waits in stop() for lines still in the buffer and rejects write() afterwards', async () => {
    const { writer, database } = await startWriter({ flushIntervalMs: 60_000 });
    let settled = false;
    const pending = writer.write([visitLine(1), visitLine(2)]).then(() => (settled = true));
    await writer.stop();
    expect(settled).toBe(true);
    await pending;
    const [count] = await influxd.query(database, 'SELECT count("count") FROM visits');
    expect(count?.values[0]?.[1]).toBe(2);
    await expect(writer.write([visitLine(3)])).rejects.toThrow(/stopped/);
  });

  it('rejects with retries_exhausted when nothing listens, counting network failures', async () => {
    const port = await freePort();
    const { writer, metrics } = await startWriter({ maxRetries: 1, maxRetryDelayMs: 20, createDatabase: false }, `http://127.0.0.1:${port}`);
    const error = await writer.write([visitLine(1)]).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(InfluxWriteError);
    expect((error as InfluxWriteError).context).toMatchObject({ reason: 'retries_exhausted', lines: 1 });
    expect(await counterValue(metrics.writeFailures, { status: 'network' })).toBe(2);
    expect(await counterValue(metrics.pointsDropped, { reason: 'retries_exhausted' })).toBe(1);
    expect(await counterValue(metrics.influxUp)).toBe(0);
  });
});

describe('InfluxWriter when influxd comes and goes', () => {
  it('starts while influxd is down and creates the database at the first successful ping', async () => {
    const port = await freePort();
    const { writer, database } = await startWriter({}, `http://127.0.0.1:${port}`);
    expect(await writer.ping()).toBe(false);

    const late = await startInfluxd({ port });
    onTestFinished(() => late.stop());
    expect(await writer.ping()).toBe(true);
    const databases = (await late.query('_internal', 'SHOW DATABASES')).flatMap((s) => s.values.map((row) => row[0]));
    expect(databases).toContain(database);
    await writer.write([visitLine(1)]);
    const [count] = await late.query(database, 'SELECT count("count") FROM visits');
    expect(count?.values[0]?.[1]).toBe(1);
  });

  it('answers ping with false once influxd is stopped', async () => {
    const own = await startInfluxd();
    onTestFinished(() => own.stop());
    const { writer, metrics } = await startWriter({}, own.url);
    expect(await writer.ping()).toBe(true);
    await own.stop();
    expect(await writer.ping()).toBe(false);
    expect(await counterValue(metrics.influxUp)).toBe(0);
  });
});

describe('InfluxWriter.writeBatch, the InfluxDB sink’s path, against influxd 1.x', () => {
  it('writes a batch as requests of batchSize lines, with exact ns timestamps, and adds nothing when written again', async () => {
    const { writer, metrics, database } = await startWriter({ batchSize: 40 });
    const lines = Array.from({ length: 100 }, (_, i) => visitLine(i));
    await writer.writeBatch(lines);
    await writer.writeBatch(lines); // a retried batch overwrites its own points
    const [count] = await influxd.query(database, 'SELECT count("count") FROM visits');
    expect(count?.values[0]?.[1]).toBe(100);
    expect(await histogramCount(metrics.batchPoints)).toBe(6); // 40 + 40 + 20, twice
    expect(await counterValue(metrics.pointsWritten)).toBe(200);
  });

  it('rejects a field type conflict with its HTTP status, so the sink bisects it (permanent)', async () => {
    const { writer } = await startWriter();
    await writer.writeBatch([`m,store=s1 f=1i ${T0}`]);
    const error = (await writer.writeBatch([`m,store=s1 f="x" ${T0 + 1n}`]).catch((err: unknown) => err)) as InfluxWriteError;
    expect(error).toBeInstanceOf(InfluxWriteError);
    expect(error.context).toMatchObject({ api: 'v1', status: 400, lines: 1 });
    expect(String(error.context['serverMessage'])).toContain('field type conflict');
  });

  it('recreates a database dropped while running: the failed batch is retryable and the retry lands', async () => {
    const { writer, database } = await startWriter();
    await writer.writeBatch([visitLine(1)]);
    await influxd.query(database, `DROP DATABASE "${database}"`);
    const error = (await writer.writeBatch([visitLine(2)]).catch((err: unknown) => err)) as InfluxWriteError;
    expect(error.context['status']).toBe(503); // not permanent: the sink retries the batch
    await writer.writeBatch([visitLine(2)]);
    const [count] = await influxd.query(database, 'SELECT count("count") FROM visits');
    expect(count?.values[0]?.[1]).toBe(1);
  });

  it('rejects without a status when nothing listens (transient), counting the network failure', async () => {
    const port = await freePort();
    const { writer, metrics } = await startWriter({ createDatabase: false }, `http://127.0.0.1:${port}`);
    const error = (await writer.writeBatch([visitLine(1)]).catch((err: unknown) => err)) as InfluxWriteError;
    expect(error).toBeInstanceOf(InfluxWriteError);
    expect(error.context['status']).toBeUndefined();
    expect(await counterValue(metrics.writeFailures, { status: 'network' })).toBe(1);
    expect(await counterValue(metrics.influxUp)).toBe(0);
  });
});
