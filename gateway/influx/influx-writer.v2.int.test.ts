import { describe, expect, it, onTestFinished, vi } from 'vitest';

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
    flushIntervalMs: 10,
    maxRetries: 2,
    maxRetryDelayMs: 50,
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

describe('InfluxWriter against the InfluxDB 2.x write API', () => {
  it('writes the exact lines into the bucket with token auth, gzip for big bodies', async () => {
    const { fake, writer, metrics } = await setup({ gzipThreshold: 2000 });
    const big = Array.from({ length: 40 }, (_, i) => line(i)); // ~2.2 kB: gzip
    const small = [line(100)]; // ~60 B: plain
    await Promise.all([writer.write(big.slice(0, 20)), writer.write(big.slice(20))]);
    await writer.write(small);

    expect(fake.lines(BUCKET).sort()).toEqual([...big, ...small].sort());
    expect(fake.lines('other')).toEqual([]);
    expect(fake.requests.map((r) => r.status)).toEqual([204, 204]);
    for (const request of fake.requests) {
      expect(request).toMatchObject({ method: 'POST', path: '/api/v2/write', org: 'acme', bucket: BUCKET, precision: 'ns' });
      expect(request.headers.authorization).toBe(`Token ${fake.token}`);
    }
    expect(fake.requests.map((r) => r.headers['content-encoding'])).toEqual(['gzip', undefined]);
    expect(await counterValue(metrics.pointsWritten)).toBe(41);
  });

  it('rejects on 401 with a wrong token, without retrying', async () => {
    const { fake, writer, metrics } = await setup({ token: 'wrong-token' });
    const error = await rejection(writer.write([line(1)]));
    expect(error.context).toMatchObject({ api: 'v2', status: 401, reason: 'rejected', lines: 1 });
    expect(error.message).toContain('unauthorized access');
    expect(fake.requests.map((r) => r.status)).toEqual([401]);
    expect(fake.lines(BUCKET)).toEqual([]);
    expect(await counterValue(metrics.pointsDropped, { reason: 'rejected' })).toBe(1);
  });

  it('rejects on 413 when the body is larger than the server takes', async () => {
    const { fake, writer } = await setup({}, { maxBodyBytes: 500 });
    const lines = Array.from({ length: 20 }, (_, i) => line(i));
    const error = await rejection(writer.write(lines));
    expect(error.context).toMatchObject({ status: 413, reason: 'rejected', lines: 20 });
    expect(fake.requests.map((r) => r.status)).toEqual([413]);
  });

  it.each([429, 503])('retries a %i after its Retry-After and succeeds, while later batches go first', async (status) => {
    const { fake, writer, metrics } = await setup();
    fake.failNext(status, 1, 1);
    const resolved: string[] = [];
    const first = writer.write([line(1)]).then(() => resolved.push('first'));
    await vi.waitFor(() => expect(fake.requests).toHaveLength(1));
    // Sent during the 1 s the server asked for: must reach the server before the retry.
    const second = writer.write([line(2)]).then(() => resolved.push('second'));
    await Promise.all([first, second]);

    expect(fake.requests.map((r) => [r.status, r.lines])).toEqual([
      [status, [line(1)]],
      [204, [line(2)]],
      [204, [line(1)]],
    ]);
    expect(fake.requests[0]?.retryAfterSec).toBe(1);
    expect(resolved).toEqual(['second', 'first']);
    expect(fake.lines(BUCKET).sort()).toEqual([line(1), line(2)].sort());
    expect(await counterValue(metrics.writeFailures, { status: String(status) })).toBe(1);
    expect(await counterValue(metrics.pointsDropped)).toBe(0);
  });

  it('resolves calls with identical lines once any copy is accepted, across reordered batches', async () => {
    const { fake, writer } = await setup({ batchSize: 2 });
    fake.failNext(503, 1, 1);
    const a = writer.write([line(1), line(2)]); // first batch: 503, retried after 1 s
    await vi.waitFor(() => expect(fake.requests).toHaveLength(1));
    const b = writer.write([line(2), line(3)]); // accepted first: credits line(2) to a or b
    await Promise.all([a, b]);
    expect(fake.requests.map((r) => r.status)).toEqual([503, 204, 204]);
    expect(fake.lines(BUCKET).sort()).toEqual([line(2), line(3), line(1), line(2)].sort());
  });

  it('rejects with retries_exhausted when 503 outlasts maxRetries', async () => {
    const { fake, writer, metrics } = await setup({ maxRetries: 2 });
    fake.failNext(503, 3);
    const error = await rejection(writer.write([line(1), line(2)]));
    expect(error.context).toMatchObject({ status: 503, reason: 'retries_exhausted', lines: 2 });
    expect(fake.requests.map((r) => r.status)).toEqual([503, 503, 503]);
    expect(await counterValue(metrics.writeFailures, { status: '503' })).toBe(3);
    expect(await counterValue(metrics.pointsDropped, { reason: 'retries_exhausted' })).toBe(2);
  });

  it('rejects the call with a malformed line (400 partial write) and keeps its valid lines', async () => {
    const { fake, writer } = await setup();
    const error = await rejection(writer.write([line(1), 'visits,store=s1 count=', line(2)]));
    expect(error.context).toMatchObject({ status: 400, reason: 'partial_write', lines: 3 });
    expect(String(error.context['serverMessage'])).toContain("unable to parse '[line]'");
    expect(fake.lines(BUCKET)).toEqual([line(1), line(2)]);
    await writer.write([line(3)]);
    expect(fake.lines(BUCKET)).toEqual([line(1), line(2), line(3)]);
  });

  it('rejects a field type conflict (422) and leaves other calls alone', async () => {
    const { writer } = await setup();
    await writer.write([`m f=1i ${T0}`]);
    const error = await rejection(writer.write([`m f="x" ${T0 + 1n}`]));
    expect(error.context).toMatchObject({ status: 422, reason: 'partial_write' });
    await expect(writer.write([`m f=2i ${T0 + 2n}`])).resolves.toBeUndefined();
  });

  it('lets stop() wait for a write that is being retried', async () => {
    const { fake, writer } = await setup();
    fake.failNext(503, 1, 1);
    let settled = false;
    const pending = writer.write([line(1)]).then(() => (settled = true));
    await vi.waitFor(() => expect(fake.requests).toHaveLength(1));
    await writer.stop();
    expect(settled).toBe(true);
    await pending;
    expect(fake.lines(BUCKET)).toEqual([line(1)]);
  });

  it('rejects writes still waiting for a retry when stop() times out', async () => {
    const { fake, writer, metrics } = await setup();
    fake.failNext(503, 1, 60);
    const pending = writer.write([line(1), line(2)]);
    await vi.waitFor(() => expect(fake.requests).toHaveLength(1));
    await writer.stop({ timeoutMs: 100 });
    const error = await rejection(pending);
    expect(error.context).toMatchObject({ reason: 'stopped', lines: 2 });
    expect(await counterValue(metrics.pointsDropped, { reason: 'stopped' })).toBe(2);
    expect(fake.requests).toHaveLength(1);
  });

  it('answers ping from GET /ping', async () => {
    const { writer, fake } = await setup();
    expect(await writer.ping()).toBe(true);
    expect(fake.requests.at(-1)).toMatchObject({ method: 'GET', path: '/ping', status: 204 });
  });
});

describe('InfluxWriter.writeBatch, the InfluxDB sink’s path, against the 2.x write API', () => {
  it('passes the server’s Retry-After on to the sink, which waits that long before retrying the batch', async () => {
    const { fake, writer } = await setup();
    fake.failNext(429, 1, 3);
    const error = (await writer.writeBatch([line(1)]).catch((err: unknown) => err)) as InfluxWriteError;
    expect(error).toBeInstanceOf(InfluxWriteError);
    expect(error.context).toMatchObject({ status: 429, retryAfterMs: 3000 });
    await writer.writeBatch([line(1)]);
    expect(fake.lines(BUCKET)).toEqual([line(1)]);
  });

  it('gzips a body from gzipThreshold bytes on, and the server takes it', async () => {
    const { fake, writer } = await setup({ gzipThreshold: 100 });
    const lines = Array.from({ length: 20 }, (_, i) => line(i));
    await writer.writeBatch(lines);
    expect(fake.requests.at(-1)?.headers['content-encoding']).toBe('gzip');
    expect(fake.lines(BUCKET)).toEqual(lines);
  });
});
