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

async function pointCount(database: string, query = influxd): Promise<unknown> {
  const [count] = await query.query(database, 'SELECT count("count") FROM visits');
  return count?.values[0]?.[1];
}

describe('InfluxWriter.writeBatch against influxd 1.x (/write)', () => {
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

  it('stores the lines of concurrent batches, in requests of batchSize lines, with exact ns timestamps', async () => {
    const { writer, metrics, database } = await startWriter({ batchSize: 10 });
    const batches = Array.from({ length: 20 }, (_, c) => Array.from({ length: 25 }, (_, j) => visitLine(c * 25 + j)));
    await Promise.all(batches.map((lines) => writer.writeBatch(lines)));

    const series = await influxd.query(database, 'SELECT "count", "visitor", "zone" FROM visits', { epoch: 'ns' });
    expect(series).toHaveLength(1);
    const [visits] = series;
    expect(visits?.columns).toEqual(['time', 'count', 'visitor', 'zone']);
    const rows = (visits?.values ?? []).map(([time, count, visitor, zone]) => `${String(time)}|${String(count)}|${String(visitor)}|${String(zone)}`);
    const expected = Array.from({ length: 500 }, (_, i) => `${T0 + BigInt(i)}|${i}|p-${i}|z${i % 5}`);
    expect(rows.sort()).toEqual(expected.sort());
    expect(await counterValue(metrics.pointsWritten)).toBe(500);
    // each batch of 25 lines: requests of 10, 10 and 5
    expect(await histogramCount(metrics.batchPoints)).toBe(60);
    expect(await histogramCount(metrics.writeLatency)).toBe(60);
  });

  it('adds no points when the same batch is written again, also concurrently (a retried batch overwrites itself)', async () => {
    const { writer, metrics, database } = await startWriter({ batchSize: 4 });
    const lines = Array.from({ length: 10 }, (_, i) => visitLine(i));
    await writer.writeBatch(lines);
    await Promise.all([writer.writeBatch(lines), writer.writeBatch(lines)]);
    expect(await pointCount(database)).toBe(10);
    expect(await histogramCount(metrics.batchPoints)).toBe(9); // 4 + 4 + 2, three times
    expect(await counterValue(metrics.pointsWritten)).toBe(30);
  });

  it('writes gzip bodies (gzipThreshold 0) that influxd 1.6 accepts', async () => {
    const { writer, database } = await startWriter({ gzipThreshold: 0 });
    await writer.writeBatch([visitLine(1), visitLine(2)]);
    expect(await pointCount(database)).toBe(2);
  });

  it('rejects a field type conflict as a 400 with its context, so the sink bisects it (permanent)', async () => {
    const { writer, metrics } = await startWriter();
    await writer.writeBatch([`m,store=s1 f=1i ${T0}`]);
    const error = await writer.writeBatch([`m,store=s1 f="x" ${T0 + 1n}`]).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(InfluxWriteError);
    const writeError = error as InfluxWriteError;
    expect(writeError.code).toBe('SL_ERR_INFLUX_WRITE');
    expect(writeError.message).toContain('HTTP 400');
    expect(writeError.context).toMatchObject({ api: 'v1', status: 400, lines: 1 });
    expect(String(writeError.context['serverMessage'])).toContain('field type conflict');
    expect(await counterValue(metrics.writeFailures, { status: '400' })).toBe(1);
  });

  it('rejects a partial write, keeps its good lines and never puts line contents in the error or the log', async () => {
    const { writer, database, logs } = await startWriter();
    const secret = 'pseudo-7f3a9c';
    const error = await writer.writeBatch([visitLine(1), `visits,store=s1 visitor="${secret}" count=`, visitLine(2)]).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(InfluxWriteError);
    const writeError = error as InfluxWriteError;
    expect(writeError.context).toMatchObject({ status: 400, lines: 3 });
    expect(String(writeError.context['serverMessage'])).toContain("unable to parse '[line]'");
    expect(writeError.message).not.toContain(secret);
    expect(String(writeError.context['serverMessage'])).not.toContain(secret);
    expect(await pointCount(database)).toBe(2);
    expect(logs()).not.toContain(secret);
    expect(logs()).not.toContain('p-1');
  });

  it('recreates a database dropped while running: the failed batch is retryable and the retry lands', async () => {
    const { writer, database } = await startWriter();
    await writer.writeBatch([visitLine(1)]);
    await influxd.query(database, `DROP DATABASE "${database}"`);
    const error = (await writer.writeBatch([visitLine(2)]).catch((err: unknown) => err)) as InfluxWriteError;
    expect(error).toBeInstanceOf(InfluxWriteError);
    expect(error.context['status']).toBe(503); // not permanent: the sink retries the batch
    await writer.writeBatch([visitLine(2)]);
    expect(await pointCount(database)).toBe(1);
  });

  it('lets stop() wait for a batch in flight, then refuses batches as stopped', async () => {
    const { writer, database } = await startWriter();
    let settled = false;
    const pending = writer.writeBatch([visitLine(1), visitLine(2)]).then(() => (settled = true));
    await writer.stop();
    expect(settled).toBe(true);
    await pending;
    expect(await pointCount(database)).toBe(2);
    const error = (await writer.writeBatch([visitLine(3)]).catch((err: unknown) => err)) as InfluxWriteError;
    expect(error).toBeInstanceOf(InfluxWriteError);
    expect(error.message).toMatch(/stopped/);
    expect(error.context).toMatchObject({ api: 'v1', lines: 1, reason: 'stopped' });
    await expect(writer.writeIsolated([visitLine(3)])).rejects.toThrow(/stopped/);
  });

  it('refuses batches before start()', async () => {
    const config = InfluxSchema.parse({ url: influxd.url, api: 'v1', database: 'never_created' });
    const writer = new InfluxWriter(config, { log: createLogger('silent'), metrics: new GatewayMetrics({ processMetrics: false }) });
    const error = (await writer.writeBatch([visitLine(1)]).catch((err: unknown) => err)) as InfluxWriteError;
    expect(error).toBeInstanceOf(InfluxWriteError);
    expect(error.message).toMatch(/not started/);
    expect(error.context).toMatchObject({ api: 'v1', lines: 1, reason: 'new' });
  });

  it('rejects without a status when nothing listens (transient), counting the network failure', async () => {
    const port = await freePort();
    const { writer, metrics } = await startWriter({ createDatabase: false }, `http://127.0.0.1:${port}`);
    const error = (await writer.writeBatch([visitLine(1)]).catch((err: unknown) => err)) as InfluxWriteError;
    expect(error).toBeInstanceOf(InfluxWriteError);
    expect(error.context).toMatchObject({ api: 'v1', lines: 1 });
    expect(error.context['status']).toBeUndefined();
    expect(await counterValue(metrics.writeFailures, { status: 'network' })).toBe(1);
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
    await writer.writeBatch([visitLine(1)]);
    expect(await pointCount(database, late)).toBe(1);
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
