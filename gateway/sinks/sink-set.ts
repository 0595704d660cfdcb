/**
 * The sinks attached to the event log, by name: starts and stops their runners, detaches one,
 * starts a replay, and shows their lag and ledgers in /metrics.
 */
import { Counter, Gauge, type Registry } from 'prom-client';

import { StoreloopError } from '../../lib/errors.js';
import type { Logger } from '../../lib/logger.js';
import type { ConsumableLog } from '../log/event-log.js';
import type { Sink } from './sink.js';
import { SinkRunner, type SinkRunnerOptions, type SinkStatus } from './sink-runner.js';

export class UnknownSinkError extends StoreloopError {
  constructor(name: string, known: string[]) {
    super('SL_ERR_SINK_UNKNOWN', `no sink named '${name}' is attached (attached: ${known.join(', ') || 'none'})`, { name, known });
  }
}

export class SinkSet {
  private readonly runners = new Map<string, SinkRunner>();
  private readonly settledCounter: Counter<'sink' | 'outcome'>;

  constructor(
    private readonly eventLog: ConsumableLog,
    private readonly deps: { checkpointDir: string; log: Logger; registry: Registry },
  ) {
    const registers = [deps.registry];
    const statuses = () => this.status();
    this.settledCounter = new Counter({
      name: 'storeloop_sink_records_total',
      help: 'Log records settled by each sink, by outcome (delivered, dead_lettered, filtered, expired)',
      labelNames: ['sink', 'outcome'],
      registers,
    });
    const gauge = (name: string, help: string, pick: (s: SinkStatus) => number) =>
      new Gauge({
        name,
        help,
        labelNames: ['sink'],
        registers,
        collect() {
          this.reset();
          for (const status of statuses()) this.set({ sink: status.name }, pick(status));
        },
      });
    gauge('storeloop_sink_lag_records', 'Log records a sink has not settled yet', (s) => s.lag.records);
    gauge('storeloop_sink_lag_bytes', 'Bytes of log records a sink has not settled yet', (s) => s.lag.bytes);
    gauge('storeloop_sink_lag_seconds', 'Age of the oldest log record a sink has not settled (0 when caught up)', (s) => s.lag.seconds);
    gauge('storeloop_sink_up', '1 while a sink delivers or is idle, 0 while its deliveries fail', (s) =>
      s.health.state === 'failing' || s.health.state === 'stopped' ? 0 : 1,
    );
    gauge('storeloop_sink_ledger_balanced', '1 when logged = pending + delivered + dead_lettered + filtered + expired for the sink', (s) =>
      s.ledger.balanced ? 1 : 0,
    );
  }

  /** Attaches a sink (its runner starts from its checkpoint). */
  async attach(sink: Sink, options: SinkRunnerOptions): Promise<SinkRunner> {
    if (this.runners.has(sink.name)) throw new StoreloopError('SL_ERR_SINK_EXISTS', `a sink named '${sink.name}' is already attached`, { name: sink.name });
    const runner = new SinkRunner(
      sink,
      this.eventLog,
      {
        checkpointDir: this.deps.checkpointDir,
        log: this.deps.log,
        onSettled: (name, outcome, count) => this.settledCounter.inc({ sink: name, outcome }, count),
      },
      options,
    );
    await runner.start();
    this.runners.set(sink.name, runner);
    return runner;
  }

  /** Detaches a sink: it stops, its checkpoint is removed, and the log no longer keeps records for it. */
  async detach(name: string): Promise<SinkStatus> {
    const runner = this.get(name);
    await runner.detach();
    this.runners.delete(name);
    const status = runner.status();
    await this.eventLog.applyRetention();
    return status;
  }

  /** Re-delivers the retained records appended since `sinceMs` to one sink. */
  replay(name: string, sinceMs: number): { from: number | null; until: number } {
    const runner = this.get(name);
    const from = this.eventLog.firstSeqSince(sinceMs);
    if (from === null) return { from: null, until: runner.status().position };
    return runner.replayFrom(from);
  }

  status(): SinkStatus[] {
    return [...this.runners.values()].map((runner) => runner.status());
  }

  get(name: string): SinkRunner {
    const runner = this.runners.get(name);
    if (!runner) throw new UnknownSinkError(name, [...this.runners.keys()]);
    return runner;
  }

  async stop(): Promise<void> {
    await Promise.all([...this.runners.values()].map((runner) => runner.stop()));
  }
}
