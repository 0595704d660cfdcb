/**
 * The InfluxDB sink: turns log records into points (normalise.ts) and writes them through the
 * InfluxWriter (batching, gzip, retries; `write()` resolves only on writeSuccess for every line).
 * It holds back ingest: the log keeps every record it has not written, and when that fills the log's
 * quota, PUBACKs stop (backpressure) until InfluxDB catches up.
 *
 * - InfluxDB down, slow or answering 5xx/429: the batch throws; the runner backs off and retries it
 *   (the sink lags; ingest and PUBACKs go on).
 * - A batch refused for good (4xx): each record is written alone, and a refused record is bisected
 *   down to the lines InfluxDB refuses, which are dead-lettered with the server's reason; the rest is
 *   written. A record with a dead-lettered line counts as `dead_lettered`.
 */
import type { Logger } from '../../../lib/logger.js';
import type { GatewayMetrics } from '../../metrics.js';
import type { LogRecord } from '../../log/log-record.js';
import type { DeadLetter, DeadLetterStore } from '../dead-letters.js';
import type { Sink, SinkOutcome } from '../sink.js';
import { normaliseRecord } from './normalise.js';
import { isPermanentWriteFailure } from './write-failure.js';

export interface InfluxSinkWriter {
  write(lines: string[]): Promise<void>;
  writeIsolated(lines: string[]): Promise<void>;
}

export const INFLUX_SINK_NAME = 'influx';

export class InfluxSink implements Sink {
  readonly name = INFLUX_SINK_NAME;
  readonly holdsBackIngest = true;
  private readonly log: Logger;

  constructor(private readonly deps: { writer: InfluxSinkWriter; deadLetters: DeadLetterStore; metrics: GatewayMetrics; log: Logger }) {
    this.log = deps.log.child({ module: 'influx-sink' });
  }

  async deliver(records: readonly LogRecord[]): Promise<SinkOutcome[]> {
    const linesByRecord = records.map((record) => normaliseRecord(record));
    const lines: string[] = [];
    for (const points of linesByRecord) {
      for (const point of points) {
        lines.push(point.line);
        this.deps.metrics.pointsQueued.inc({ measurement: point.measurement });
      }
    }
    if (lines.length === 0) return records.map(() => 'delivered');
    try {
      await this.deps.writer.write(lines);
      return records.map(() => 'delivered');
    } catch (err) {
      if (!isPermanentWriteFailure(err)) throw err;
    }
    // refused for good: find the refused lines record by record; a transient failure throws (retried)
    const outcomes: SinkOutcome[] = [];
    for (const [i, record] of records.entries()) {
      outcomes.push(await this.writeAlone(record, (linesByRecord[i] ?? []).map((p) => p.line)));
    }
    return outcomes;
  }

  private async writeAlone(record: LogRecord, lines: string[]): Promise<SinkOutcome> {
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
    if (lines.length === 0) return 'delivered';
    await visit(lines);
    if (dead.length === 0) return 'delivered';
    this.deps.metrics.deadLettered.inc(dead.length);
    await this.deps.deadLetters.add(dead);
    this.log.warn({ store: record.source.storeId, kind: record.kind, seq: record.seq, lines: dead.length, status: dead[0]?.status, error: dead[0]?.error }, 'lines dead-lettered: InfluxDB refuses them for good');
    return 'dead_lettered';
  }
}
