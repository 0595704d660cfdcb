import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterEach, describe, expect, it } from 'vitest';

import { createLogger } from '../../../lib/logger.js';
import { InfluxWriteError } from '../../influx/influx-errors.js';
import type { LogRecord } from '../../log/log-record.js';
import { GatewayMetrics } from '../../metrics.js';
import { DeadLetterStore, type DeadLetter } from '../dead-letters.js';
import { BatchEncoder } from './batch-encoder.js';
import { InfluxSink, type InfluxSinkWriter } from './influx-sink.js';
import { normaliseRecord } from './normalise.js';

const log = createLogger('silent');
const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const CONFLICT = 'partial write: field type conflict: input field "rssi" on measurement "sighting" is type string, already exists as type integer dropped=1';

/**
 * InfluxDB's write API as the sink sees it: a request holding a line from `refused` is answered 400
 * with the server's reason and writes nothing; a request whose number (1-based) is in `transient` is
 * answered with that status (503 as a restarting server, 429 as a busy one), whatever it holds. Every
 * request is recorded; `stored` holds each line written, with how often.
 */
class FakeInfluxWriter implements InfluxSinkWriter {
  readonly refused = new Set<string>();
  readonly transient = new Map<number, 503 | 429>();
  readonly stored = new Map<string, number>();
  readonly requests: Array<{ api: 'bodies' | 'isolated'; lines: string[]; status: number }> = [];

  async writeBodies(bodies: string[], bodyLines: number[]): Promise<void> {
    const lines = bodies.flatMap((body) => body.split('\n'));
    expect(lines).toHaveLength(bodyLines.reduce((a, b) => a + b, 0));
    this.answer('bodies', lines);
  }

  async writeIsolated(lines: string[]): Promise<void> {
    this.answer('isolated', lines);
  }

  private answer(api: 'bodies' | 'isolated', lines: string[]): void {
    const transient = this.transient.get(this.requests.length + 1);
    if (transient !== undefined) {
      this.requests.push({ api, lines, status: transient });
      throw new InfluxWriteError(`InfluxDB answered ${transient}`, {
        context: { api: 'v1', status: transient, lines: lines.length, serverMessage: 'try again later' },
      });
    }
    if (lines.some((line) => this.refused.has(line))) {
      this.requests.push({ api, lines, status: 400 });
      throw new InfluxWriteError('InfluxDB refused the write', { context: { api: 'v1', status: 400, lines: lines.length, serverMessage: CONFLICT } });
    }
    this.requests.push({ api, lines, status: 204 });
    for (const line of lines) this.stored.set(line, (this.stored.get(line) ?? 0) + 1);
  }
}

/** A BLE record of `sightings` sightings: each becomes one line. */
function bleRecord(seq: number, sightings: number): LogRecord {
  return {
    v: 1,
    seq,
    appendedAt: 1_700_000_000_000 + seq,
    kind: 'ble',
    source: { storeId: 's1', sourceId: 'ble-1', role: 'sensor', type: 'ble', zone: 'door' },
    eventTime: 1_700_000_000_000 + seq,
    receivedAt: 1_700_000_000_000 + seq,
    mid: `m-${seq}`,
    qos: 1,
    slot: { offset: 0 },
    message: {
      v: 1,
      ts: 1_700_000_000_000 + seq,
      mid: `m-${seq}`,
      sightings: Array.from({ length: sightings }, (_, i) => ({ id: `ibeacon:f7826da6-4fa2-4e98-8024-bc5b71e0893e:${seq}:${i + 1}`, rssi: -60 - i })),
    },
  };
}

function linesOf(record: LogRecord): string[] {
  return normaliseRecord(record).map((point) => point.line);
}

async function setup(
  linesPerBody = 5000,
): Promise<{ sink: InfluxSink; writer: FakeInfluxWriter; deadLetters: DeadLetterStore; metrics: GatewayMetrics; file: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'storeloop-influx-sink-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  const file = join(dir, 'dead-letters.jsonl');
  const deadLetters = new DeadLetterStore(file);
  await deadLetters.open();
  cleanups.push(() => deadLetters.close());
  const writer = new FakeInfluxWriter();
  const metrics = new GatewayMetrics({ processMetrics: false });
  const sink = new InfluxSink({ writer, encoder: new BatchEncoder(linesPerBody, log, false), deadLetters, metrics, log });
  cleanups.push(() => sink.stop());
  return { sink, writer, deadLetters, metrics, file };
}

async function counter(metrics: GatewayMetrics, name: string): Promise<number> {
  const metric = (await metrics.registry.getMetricsAsJSON()).find((m) => m.name === name);
  return (metric?.values ?? []).reduce((sum, v) => sum + v.value, 0);
}

describe('InfluxSink', () => {
  it('writes a batch InfluxDB accepts in one go and reports every record delivered', async () => {
    const { sink, writer, deadLetters, metrics } = await setup();
    const records = [bleRecord(1, 3), bleRecord(2, 4), bleRecord(3, 1)];

    expect(await sink.deliver(records)).toEqual(['delivered', 'delivered', 'delivered']);
    expect(writer.requests.map((r) => [r.api, r.status])).toEqual([['bodies', 204]]);
    expect([...writer.stored.keys()]).toEqual(records.flatMap(linesOf));
    expect(deadLetters.count).toBe(0);
    expect(await counter(metrics, 'storeloop_points_queued_total')).toBe(8);
  });

  it('bisects a refused batch down to the refused lines, dead-letters them with the server’s reason and writes every other line', async () => {
    const { sink, writer, deadLetters, metrics, file } = await setup();
    const records = [bleRecord(10, 8), bleRecord(11, 3), bleRecord(12, 5)];
    const poisoned = [linesOf(records[0] as LogRecord)[5] as string, linesOf(records[2] as LogRecord)[1] as string];
    for (const line of poisoned) writer.refused.add(line);

    expect(await sink.deliver(records)).toEqual(['dead_lettered', 'delivered', 'dead_lettered']);

    // everything but the two refused lines reached InfluxDB; the refused ones never did
    const good = records.flatMap(linesOf).filter((line) => !poisoned.includes(line));
    expect(new Set(writer.stored.keys())).toEqual(new Set(good));
    // halving: a record of 8 lines with one refused line takes 1 + 2 + 2 + 2 requests, not one per line
    const isolatedOfFirst = writer.requests.filter((r) => r.api === 'isolated' && r.lines.every((line) => linesOf(records[0] as LogRecord).includes(line)));
    expect(isolatedOfFirst).toHaveLength(7);
    expect(isolatedOfFirst.filter((r) => r.status === 400).map((r) => r.lines.length)).toEqual([8, 4, 2, 1]);

    const expected = [
      { sink: 'influx', seq: 10, store: 's1', kind: 'ble', line: poisoned[0], status: 400, error: CONFLICT },
      { sink: 'influx', seq: 12, store: 's1', kind: 'ble', line: poisoned[1], status: 400, error: CONFLICT },
    ];
    expect(deadLetters.count).toBe(2);
    expect(deadLetters.list()).toEqual(expected.map((letter) => expect.objectContaining(letter)).reverse());
    const onDisk = (await readFile(file, 'utf8'))
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as DeadLetter);
    expect(onDisk).toEqual(expected.map((letter) => expect.objectContaining(letter)));
    expect(await counter(metrics, 'storeloop_dead_lettered_lines_total')).toBe(2);
  });

  it('dead-letters every line of a record InfluxDB refuses whole, and delivers the records around it', async () => {
    const { sink, writer, deadLetters } = await setup();
    const records = [bleRecord(20, 2), bleRecord(21, 3), bleRecord(22, 2)];
    for (const line of linesOf(records[1] as LogRecord)) writer.refused.add(line);

    expect(await sink.deliver(records)).toEqual(['delivered', 'dead_lettered', 'delivered']);
    expect(
      deadLetters
        .list()
        .map((letter) => letter.line)
        .sort(),
    ).toEqual(linesOf(records[1] as LogRecord).sort());
    expect(new Set(writer.stored.keys())).toEqual(new Set([...linesOf(records[0] as LogRecord), ...linesOf(records[2] as LogRecord)]));
  });

  it.each([503, 429] as const)('throws a batch answered %i back to the runner to retry whole, without looking for refused lines', async (status) => {
    const { sink, writer, deadLetters } = await setup();
    writer.transient.set(1, status);
    const records = [bleRecord(30, 3)];
    await expect(sink.deliver(records)).rejects.toMatchObject({ code: 'SL_ERR_INFLUX_WRITE', context: { status } });
    expect(writer.requests.map((r) => r.api)).toEqual(['bodies']);
    expect(deadLetters.count).toBe(0);

    // the runner's retry: InfluxDB is back and takes the batch whole
    expect(await sink.deliver(records)).toEqual(['delivered']);
    expect([...writer.stored.values()]).toEqual([1, 1, 1]);
  });

  it('stores no dead letter while a transient failure interrupts the bisection, and stores each exactly once when the retried batch gets through', async () => {
    const { sink, writer, deadLetters, metrics } = await setup();
    const records = [bleRecord(40, 4), bleRecord(41, 4)];
    const poisoned = [linesOf(records[0] as LogRecord)[0] as string, linesOf(records[1] as LogRecord)[3] as string];
    for (const line of poisoned) writer.refused.add(line);

    // requests: 1 the batch (400), 2-6 the first record halved down to its refused line (found at 4),
    // 7 the second record: InfluxDB restarts right then
    writer.transient.set(7, 503);
    await expect(sink.deliver(records)).rejects.toMatchObject({ context: { status: 503 } });
    expect(writer.requests[3]).toMatchObject({ api: 'isolated', lines: [poisoned[0]], status: 400 });
    expect(writer.requests.map((r) => r.status)).toEqual([400, 400, 400, 400, 204, 204, 503]);
    expect(deadLetters.count).toBe(0);
    expect(await counter(metrics, 'storeloop_dead_lettered_lines_total')).toBe(0);

    expect(await sink.deliver(records)).toEqual(['dead_lettered', 'dead_lettered']);
    expect(deadLetters.list().map((letter) => [letter.seq, letter.line])).toEqual([
      [41, poisoned[1]],
      [40, poisoned[0]],
    ]);
    expect(await counter(metrics, 'storeloop_dead_lettered_lines_total')).toBe(2);
    // the good lines were written again by the retry: the same lines, so the same points
    const good = records.flatMap(linesOf).filter((line) => !poisoned.includes(line));
    expect(new Set(writer.stored.keys())).toEqual(new Set(good));
  });
});
