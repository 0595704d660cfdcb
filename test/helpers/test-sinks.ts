/**
 * Sinks for the event-log proofs: real implementations of the Sink interface that misbehave on
 * purpose, the way a slow or broken downstream (a CRM, a webhook) would. They consume the real log
 * through the real SinkRunner; nothing of the gateway is stubbed.
 */
import type { LogRecord } from '../../gateway/log/log-record.js';
import type { Sink, SinkOutcome } from '../../gateway/sinks/sink.js';

/** Takes the first batch and never answers (a hung HTTP call without a timeout). */
export class StuckSink implements Sink {
  readonly holdsBackIngest = false;
  batches = 0;
  private release: (() => void) | undefined;

  constructor(readonly name: string) {}

  deliver(): Promise<SinkOutcome[]> {
    this.batches += 1;
    return new Promise((_resolve, reject) => (this.release = () => reject(new Error(`${this.name} released`))));
  }

  async stop(): Promise<void> {
    this.release?.();
  }
}

/** Fails every batch (a destination answering 503). */
export class FailingSink implements Sink {
  readonly holdsBackIngest = false;
  attempts = 0;

  constructor(readonly name: string) {}

  async deliver(): Promise<SinkOutcome[]> {
    this.attempts += 1;
    throw new Error(`${this.name}: HTTP 503 from the destination`);
  }
}

/** Delivers everything and remembers which seqs it saw, how often. */
export class RecordingSink implements Sink {
  readonly holdsBackIngest = false;
  readonly seen = new Map<number, number>();

  constructor(readonly name: string) {}

  async deliver(records: readonly LogRecord[]): Promise<SinkOutcome[]> {
    for (const record of records) this.seen.set(record.seq, (this.seen.get(record.seq) ?? 0) + 1);
    return records.map(() => 'delivered');
  }
}
