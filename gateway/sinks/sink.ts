/**
 * The one interface every consumer of the event log implements: the InfluxDB writer first, later
 * the experience engine and the CRM forwarder. A sink only delivers; the SinkRunner
 * (sink-runner.ts) reads the log from the sink's checkpoint, hands it batches in log order, retries,
 * commits the checkpoint durably, keeps the sink's ledger and measures its lag.
 */
import type { LogRecord } from '../log/log-record.js';

/**
 * What became of one record at a sink:
 * - `delivered`: the destination holds it (or its effect);
 * - `dead_lettered`: the destination refuses it for good; set aside with the reason;
 * - `filtered`: deliberately not sent (e.g. no consent): counted with the reason, never retried.
 */
export type SinkOutcome = 'delivered' | 'dead_lettered' | 'filtered';

export interface SinkHealth {
  /** ok: delivering; failing: the last attempt failed and is being retried; idle: nothing to do. */
  state: 'ok' | 'failing' | 'idle' | 'stopped';
  detail?: string;
}

export interface Sink {
  /** Stable name: the checkpoint file, the metrics label and the API path use it. */
  readonly name: string;
  /**
   * true (InfluxDB): the log never drops what this sink has not consumed, and when that fills the
   * log's quota, ingest is held back (backpressure). false: the sink has a lag budget; records past
   * it are counted `expired` in its ledger and dropped, so it can never stop the store's devices.
   */
  readonly holdsBackIngest: boolean;
  /** Opens connections; called once before the first deliver. */
  start?(): Promise<void>;
  /**
   * Delivers a batch in log order. Resolves with one outcome per record, in order. Throws when the
   * batch should be retried as a whole (destination down, timeout): the runner backs off and retries.
   * Must be idempotent: after a crash, records since the last durable checkpoint are delivered again.
   * The records are shared with other sinks (the log's in-memory tail): read them, never modify them.
   */
  deliver(records: readonly LogRecord[]): Promise<SinkOutcome[]>;
  /**
   * For a sink that keeps state of its own (the experience engine's open visits): makes that state
   * durable as of `position` (every record up to it absorbed). The runner calls it before each
   * checkpoint it writes, so the state is never behind the checkpoint; after a crash between the two,
   * records after the older checkpoint are delivered again, and the sink skips those its state holds.
   */
  persist?(position: number): Promise<void>;
  /** Stops; what is not delivered stays in the log for the next start. */
  stop?(): Promise<void>;
}
