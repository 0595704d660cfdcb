/**
 * The InfluxDB sink: turns log records into points (normalise.ts) and writes each batch through the
 * InfluxWriter (requests of influx.batchSize lines, gzip; resolved only on a 2xx for every request).
 * It holds back ingest: the log keeps every record it has not written, and when that fills the log's
 * quota, PUBACKs stop (backpressure) until InfluxDB catches up.
 *
 * - InfluxDB down, slow or answering 5xx/429: the batch throws; the runner backs off and retries it
 *   (the sink lags; ingest and PUBACKs go on).
 * - A batch refused for good (4xx): each record is written alone, and a refused record is bisected
 *   down to the lines InfluxDB refuses, which are dead-lettered with the server's reason; the rest is
 *   written. A record with a dead-lettered line counts as `dead_lettered`.
 */
import { Gauge } from 'prom-client';

import type { Logger } from '../../../lib/logger.js';
import type { GatewayMetrics } from '../../metrics.js';
import type { LogRecord } from '../../log/log-record.js';
import type { DeadLetter, DeadLetterStore } from '../dead-letters.js';
import type { Sink, SinkOutcome } from '../sink.js';
import type { BatchEncoder } from './batch-encoder.js';
import { normaliseRecord } from './normalise.js';
import { isPermanentWriteFailure } from './write-failure.js';

export interface InfluxSinkWriter {
  /** Request bodies made already, written together; throws with the HTTP status in `context`. */
  writeBodies(bodies: string[], bodyLines: number[]): Promise<void>;
  /** Exactly these lines in one request (for finding the refused ones). */
  writeIsolated(lines: string[]): Promise<void>;
}

export const INFLUX_SINK_NAME = 'influx';

export class InfluxSink implements Sink {
  readonly name = INFLUX_SINK_NAME;
  readonly holdsBackIngest = true;
  private readonly log: Logger;

  constructor(
    private readonly deps: {
      writer: InfluxSinkWriter;
      encoder: Pick<BatchEncoder, 'encode' | 'stop' | 'inWorker'>;
      deadLetters: DeadLetterStore;
      metrics: GatewayMetrics;
      log: Logger;
    },
  ) {
    this.log = deps.log.child({ module: 'influx-sink' });
    const inWorker = deps.encoder.inWorker ? 1 : 0;
    new Gauge({
      name: 'storeloop_influx_sink_encoder_worker',
      help: '1 when the InfluxDB sink decodes and encodes batches in its worker thread (sinks.influx.encodeInWorker), 0 in the event loop',
      registers: [deps.metrics.registry],
      collect() {
        this.set(inWorker);
      },
    });
  }

  async stop(): Promise<void> {
    await this.deps.encoder.stop();
  }

  async deliver(records: readonly LogRecord[]): Promise<SinkOutcome[]> {
    const encoded = await this.deps.encoder.encode(records);
    for (const [measurement, count] of Object.entries(encoded.perMeasurement)) this.deps.metrics.pointsQueued.inc({ measurement }, count);
    if (encoded.bodies.length === 0) return records.map(() => 'delivered');
    try {
      await this.deps.writer.writeBodies(encoded.bodies, encoded.bodyLines);
      return records.map(() => 'delivered');
    } catch (err) {
      if (!isPermanentWriteFailure(err)) throw err;
    }
    const linesByRecord = records.map((record) => normaliseRecord(record));
    // refused for good: find the refused lines record by record. A transient failure on the way throws
    // (the batch is retried whole), so dead letters are stored once the whole batch is through.
    const outcomes: SinkOutcome[] = [];
    const dead: DeadLetter[] = [];
    for (const [i, record] of records.entries()) {
      const refused = await this.findRefused(
        record,
        (linesByRecord[i] ?? []).map((p) => p.line),
      );
      outcomes.push(refused.length === 0 ? 'delivered' : 'dead_lettered');
      dead.push(...refused);
    }
    if (dead.length > 0) {
      this.deps.metrics.deadLettered.inc(dead.length);
      await this.deps.deadLetters.add(dead);
      for (const letter of dead.slice(0, 5))
        this.log.warn(
          { store: letter.store, kind: letter.kind, seq: letter.seq, status: letter.status, error: letter.error },
          'line dead-lettered: InfluxDB refuses it for good',
        );
    }
    return outcomes;
  }

  /** Writes a record's lines alone, halving down to the lines InfluxDB refuses; returns those. */
  private async findRefused(record: LogRecord, lines: string[]): Promise<DeadLetter[]> {
    const dead: DeadLetter[] = [];
    const visit = async (part: string[]): Promise<void> => {
      try {
        await this.deps.writer.writeIsolated(part);
        return;
      } catch (err) {
        if (!isPermanentWriteFailure(err)) throw err;
        if (part.length === 1) {
          const context = (err as { context?: { status?: number; serverMessage?: string } }).context;
          dead.push({
            time: new Date().toISOString(),
            sink: this.name,
            seq: record.seq,
            store: record.source.storeId,
            kind: record.kind,
            line: part[0] as string,
            status: context?.status ?? null,
            error: context?.serverMessage ?? String((err as Error).message).slice(0, 300),
          });
          return;
        }
      }
      const half = Math.ceil(part.length / 2);
      await visit(part.slice(0, half));
      await visit(part.slice(half));
    };
    if (lines.length > 0) await visit(lines);
    return dead;
  }
}
