import { describe, expect, it, onTestFinished } from 'vitest';

import { InfluxSchema, type InfluxConfig } from '../../config/schema.js';
import { startFakeInfluxV2, type FakeInfluxV2, type FakeInfluxV2Options } from '../../test/helpers/fake-influx-v2.js';
import { InfluxWriteError } from './influx-errors.js';
import { createLogger } from '../../lib/logger.js';
import { GatewayMetrics } from '../metrics.js';
import { InfluxWriter } from './influx-writer.js';

const T0 = 1_700_000_000_123_456_789n;
const BUCKET = 'store_a';

interface Harness {
  fake: FakeInfluxV2;
  writer: InfluxWriter;
  metrics: GatewayMetrics;
}

/** A fake 2.x server and a started writer on it; both closed when the test finishes. */
async function setup(overrides: Partial<InfluxConfig> = {}, fakeOptions: FakeInfluxV2Options = {}): Promise<Harness> {
  const fake = await startFakeInfluxV2(fakeOptions);
  onTestFinished(() => fake.close());
  const config = InfluxSchema.parse({
    url: fake.url,
    api: 'v2',
    org: 'acme',
    bucket: BUCKET,
    token: fake.token,
    batchSize: 50,
    timeoutMs: 2000,
    gzipThreshold: 10_000_000,
    ...overrides,
  });
  const metrics = new GatewayMetrics({ processMetrics: false });
  const writer = new InfluxWriter(config, { log: createLogger('silent'), metrics });
  onTestFinished(() => writer.stop({ timeoutMs: 2000 }));
  await writer.start();
  return { fake, writer, metrics };
}

async function counterValue(
  metric: { get(): Promise<{ values: Array<{ value: number; labels: Record<string, string | number | undefined> }> }> },
  labels: Record<string, string> = {},
): Promise<number> {
  const { values } = await metric.get();
  return values.filter((v) => Object.entries(labels).every(([k, want]) => String(v.labels[k]) === want)).reduce((sum, v) => sum + v.value, 0);
}

function line(i: number, measurement = 'visits'): string {
  return `${measurement},store=s1 count=${i}i,visitor="p-${i}" ${T0 + BigInt(i)}`;
}

async function rejection(promise: Promise<unknown>): Promise<InfluxWriteError> {
  const error = await promise.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(error).toBeInstanceOf(InfluxWriteError);
  return error as InfluxWriteError;
}

describe('InfluxWriter.writeBatch against the InfluxDB 2.x write API', () => {
  it('writes the exact lines into the bucket once, with token auth, gzip for big bodies', async () => {
    const { fake, writer, metrics } = await setup({ gzipThreshold: 2000 });
    const big = Array.from({ length: 40 }, (_, i) => line(i)); // ~2.2 kB: gzip
    const small = [line(100)]; // ~60 B: plain
    await writer.writeBatch(big);
    await writer.writeBatch(small);

    expect(fake.lines(BUCKET)).toEqual([...big, ...small]);
    expect(fake.lines('other')).toEqual([]);
    expect(fake.requests.map((r) => r.status)).toEqual([204, 204]);
    for (const request of fake.requests) {
      expect(request).toMatchObject({ method: 'POST', path: '/api/v2/write', org: 'acme', bucket: BUCKET, precision: 'ns' });
      expect(request.headers.authorization).toBe(`Token ${fake.token}`);
    }
    expect(fake.requests.map((r) => r.headers['content-encoding'])).toEqual(['gzip', undefined]);
    expect(await counterValue(metrics.pointsWritten)).toBe(41);
  });

  it('sends a batch as requests of at most batchSize lines, sent together', async () => {
    const { fake, writer, metrics } = await setup({ batchSize: 4 });
    const lines = Array.from({ length: 10 }, (_, i) => line(i));
    await writer.writeBatch(lines);
    expect(fake.requests.map((r) => r.lines.length).sort()).toEqual([2, 4, 4]);
    expect(fake.lines(BUCKET).sort()).toEqual([...lines].sort());
    expect(await counterValue(metrics.pointsWritten)).toBe(10);
  });

  it('gzips a body from gzipThreshold bytes on, and the server takes it', async () => {
    const { fake, writer } = await setup({ gzipThreshold: 100 });
    const lines = Array.from({ length: 20 }, (_, i) => line(i));
    await writer.writeBatch(lines);
    expect(fake.requests.at(-1)?.headers['content-encoding']).toBe('gzip');
    expect(fake.lines(BUCKET)).toEqual(lines);
  });

  it('rejects on 401 with a wrong token, with one request', async () => {
    const { fake, writer, metrics } = await setup({ token: 'wrong-token' });
    const error = await rejection(writer.writeBatch([line(1)]));
    expect(error.context).toMatchObject({ api: 'v2', status: 401, lines: 1 });
    expect(error.message).toContain('unauthorized access');
    expect(fake.requests.map((r) => r.status)).toEqual([401]);
    expect(fake.requests[0]?.headers.authorization).toBe('Token wrong-token');
    expect(fake.lines(BUCKET)).toEqual([]);
    expect(await counterValue(metrics.writeFailures, { status: '401' })).toBe(1);
  });

  it('rejects on 413 when the body is larger than the server takes', async () => {
    const { fake, writer } = await setup({}, { maxBodyBytes: 500 });
    const lines = Array.from({ length: 20 }, (_, i) => line(i));
    const error = await rejection(writer.writeBatch(lines));
    expect(error.context).toMatchObject({ api: 'v2', status: 413, lines: 20 });
    expect(fake.requests.map((r) => r.status)).toEqual([413]);
  });

  it.each([429, 503])('surfaces a %i with its status and Retry-After, sends it once, and the caller’s retry lands', async (status) => {
    const { fake, writer, metrics } = await setup();
    fake.failNext(status, 1, 3);
    const error = await rejection(writer.writeBatch([line(1)]));
    expect(error.message).toContain(`HTTP ${status}`);
    expect(error.context).toMatchObject({ api: 'v2', status, lines: 1, retryAfterMs: 3000 });
    expect(error.context['serverMessage']).toEqual(expect.any(String));
    expect(fake.requests.map((r) => r.status)).toEqual([status]); // no retries in the writer
    expect(fake.lines(BUCKET)).toEqual([]);
    expect(await counterValue(metrics.writeFailures, { status: String(status) })).toBe(1);
    if (status >= 500) expect(await counterValue(metrics.influxUp)).toBe(0); // a 429 says nothing about InfluxDB being down

    await writer.writeBatch([line(1)]); // the sink's retry
    expect(fake.lines(BUCKET)).toEqual([line(1)]);
    expect(await counterValue(metrics.influxUp)).toBe(1);
  });

  it('surfaces a 500 without Retry-After', async () => {
    const { fake, writer } = await setup();
    fake.failNext(500, 1);
    const error = await rejection(writer.writeBatch([line(1), line(2)]));
    expect(error.context).toMatchObject({ api: 'v2', status: 500, lines: 2 });
    expect(error.context).not.toHaveProperty('retryAfterMs');
  });

  it('rejects the batch when one of its requests fails; the others landed, and the retried batch lands whole', async () => {
    const { fake, writer } = await setup({ batchSize: 2 });
    fake.failNext(503, 1);
    const lines = [line(1), line(2), line(3), line(4)];
    const error = await rejection(writer.writeBatch(lines));
    expect(error.context).toMatchObject({ status: 503, lines: 2 });
    expect(fake.requests.map((r) => r.status).sort()).toEqual([204, 503]);
    expect(fake.lines(BUCKET)).toHaveLength(2);
    await writer.writeBatch(lines);
    expect(new Set(fake.lines(BUCKET))).toEqual(new Set(lines));
  });

  it('rejects a malformed line (400 partial write) with the line cut from the message, and keeps the valid lines', async () => {
    const { fake, writer } = await setup();
    const error = await rejection(writer.writeBatch([line(1), 'visits,store=s1 count=', line(2)]));
    expect(error.context).toMatchObject({ api: 'v2', status: 400, lines: 3 });
    expect(String(error.context['serverMessage'])).toContain("unable to parse '[line]'");
    expect(fake.lines(BUCKET)).toEqual([line(1), line(2)]);
    await writer.writeBatch([line(3)]);
    expect(fake.lines(BUCKET)).toEqual([line(1), line(2), line(3)]);
  });

  it('rejects a field type conflict (422) and leaves other batches alone', async () => {
    const { writer } = await setup();
    await writer.writeBatch([`m f=1i ${T0}`]);
    const error = await rejection(writer.writeBatch([`m f="x" ${T0 + 1n}`]));
    expect(error.context).toMatchObject({ api: 'v2', status: 422, lines: 1 });
    expect(String(error.context['serverMessage'])).toContain('partial write');
    await expect(writer.writeBatch([`m f=2i ${T0 + 2n}`])).resolves.toBeUndefined();
  });

  it('writes isolated lines as one request, whatever batchSize', async () => {
    const { fake, writer } = await setup({ batchSize: 2 });
    await writer.writeIsolated([line(1), line(2), line(3)]);
    expect(fake.requests.map((r) => r.lines)).toEqual([[line(1), line(2), line(3)]]);
  });

  it('lets stop() wait for a batch in flight, then refuses batches as stopped', async () => {
    const { fake, writer } = await setup();
    let settled = false;
    const pending = writer.writeBatch([line(1)]).then(() => (settled = true));
    await writer.stop();
    expect(settled).toBe(true);
    await pending;
    expect(fake.lines(BUCKET)).toEqual([line(1)]);
    const error = await rejection(writer.writeBatch([line(2)]));
    expect(error.context).toMatchObject({ api: 'v2', lines: 1, reason: 'stopped' });
    expect(fake.requests).toHaveLength(1);
  });

  it('refuses batches before start()', async () => {
    const config = InfluxSchema.parse({ url: 'http://127.0.0.1:9', api: 'v2', org: 'acme', bucket: BUCKET });
    const writer = new InfluxWriter(config, { log: createLogger('silent'), metrics: new GatewayMetrics({ processMetrics: false }) });
    const error = await rejection(writer.writeBatch([line(1)]));
    expect(error.message).toMatch(/not started/);
    expect(error.context).toMatchObject({ api: 'v2', lines: 1, reason: 'new' });
  });

  it('answers ping from GET /ping, with the token', async () => {
    const { writer, fake } = await setup();
    expect(await writer.ping()).toBe(true);
    expect(fake.requests.at(-1)).toMatchObject({ method: 'GET', path: '/ping', status: 204 });
    expect(fake.requests.at(-1)?.headers.authorization).toBe(`Token ${fake.token}`);
  });
});
