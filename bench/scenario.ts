/**
 * What a scenario is, what it gets and what it returns, plus the pieces every scenario shares: the
 * result skeleton, the load checks and process watching over the measured interval.
 */
import type { RunWindow } from './ipc.js';
import type { LoadResult } from './load.js';
import type { LatencyHistogram, LatencySummary } from './percentiles.js';
import type { ProcessUsage, ProcessWatch } from './proc-stats.js';
import { delay, type ProcessGroup } from './processes.js';

export interface BenchOptions {
  publishers: number;
  durationMs: number;
  warmupMs: number;
  sightings: number;
  inflight: number;
}

/** Shows a running scenario; the runner implements it with a progress bar. */
export interface ProgressReporter {
  track(label: string, window: RunWindow, count: () => number): { stop(): void };
}

export interface ScenarioContext {
  options: BenchOptions;
  group: ProcessGroup;
  /** A fresh directory for this scenario's files (configs, logs, InfluxDB data, gateway state). */
  workDir: string;
  /** Paths of the system programs every scenario declared in `requires`. */
  programs: Record<string, string>;
  progress: ProgressReporter;
  log(line: string): void;
}

/** A pass/fail statement about a run; a failed check fails the benchmark loudly. */
export interface Check {
  name: string;
  ok: boolean;
  detail: string;
}

/** The outage scenario's spool figures: what the PUBACKs cost on disk and how fast it drained. */
export interface OutageFigures {
  /** Messages and points (lines) appended to the spool while InfluxDB was down. */
  appendedMessages: number;
  appendedLines: number;
  /** Spool size once publishing stopped. */
  pendingBytes: number;
  /** fsync/fdatasync calls of the spool until InfluxDB came back (from the gateway's info log); undefined when not logged. */
  fsyncs: number | undefined;
  /** From the restarted influxd answering /ping until the spool was empty. */
  recoverySeconds: number;
  /** From the first drained message until the spool was empty. */
  drainSeconds: number;
  drainLinesPerSecond: number;
  /** The drain rate /api/v1/ledger reported last while draining (the gateway's average since the drain started). */
  reportedDrainLinesPerSecond: number;
  /** delivery.drainLinesPerSecond, the gateway's upper bound. */
  drainCapLinesPerSecond: number;
  /** False when the spool was not empty within the drain timeout. */
  drained: boolean;
}

export interface ScenarioResult {
  id: string;
  title: string;
  role: 'subject' | 'reference';
  messagesPerSecond: number;
  pointsPerSecond: number;
  puback: LatencySummary;
  /** publish→queryable (storeloop) or publish→subscriber (reference); empty when not measured. */
  endToEnd: { label: string; latency: LatencySummary };
  /** The server under test first, then the other processes of the run (influxd, publishers, …). */
  processes: ProcessUsage[];
  load: Omit<LoadResult, 'puback' | 'perPublisher' | 'window'>;
  /** Messages the gateway appended to its outage spool (storeloop only). */
  spoolAppends?: number;
  outage?: OutageFigures;
  checks: Check[];
  /** Extra figures worth printing under the table, as label → value. */
  facts: Array<[string, string]>;
}

export interface Scenario {
  id: string;
  title: string;
  role: 'subject' | 'reference';
  /** System programs (and the Debian package that has each) to ensure before any scenario runs. */
  requires: Array<{ program: string; debianPackage: string }>;
  run(ctx: ScenarioContext): Promise<ScenarioResult>;
}

export const BENCH_DATABASE = 'storeloop_bench';

/** The figures every scenario reports the same way, from its load and its processes. */
export function baseResult(scenario: Pick<Scenario, 'id' | 'title' | 'role'>, ctx: ScenarioContext, load: LoadResult, processes: ProcessUsage[], checks: Check[]) {
  const messagesPerSecond = load.ackedInWindow / load.measuredSeconds;
  const { puback, perPublisher: _perPublisher, window: _window, ...counts } = load;
  return {
    id: scenario.id,
    title: scenario.title,
    role: scenario.role,
    messagesPerSecond,
    pointsPerSecond: messagesPerSecond * ctx.options.sightings,
    puback: puback.summary(),
    processes,
    load: counts,
    checks,
  };
}

export function loadChecks(load: LoadResult): Check[] {
  return [
    { name: 'publishers stayed connected, no publish errors', ok: load.disconnects === 0 && load.errorCount === 0, detail: load.errors.join('; ') || 'no errors' },
    { name: 'every publish was acked before the drain timeout', ok: load.unacked === 0, detail: `${load.unacked} unacked of ${load.sent}` },
  ];
}

/** Starts watching at the window's measuring start and resolves with the usage at its end. */
export function watchDuring(window: RunWindow, watches: ProcessWatch[]): Promise<ProcessUsage[]> {
  return (async () => {
    await delay(Math.max(0, window.measureFromMs - Date.now()));
    for (const w of watches) w.begin();
    await delay(Math.max(0, window.endAtMs - Date.now()));
    return watches.map((w) => w.end());
  })();
}

/** Runs `fn` at epoch `ms`. */
export async function atTime<T>(ms: number, fn: () => Promise<T>): Promise<T> {
  await delay(Math.max(0, ms - Date.now()));
  return fn();
}

/** `p50 / p99 ms (n=…)` of a histogram, for the facts under the table. */
export function latencyPair(h: LatencyHistogram): string {
  const s = h.summary();
  return `${s.p50Ms.toFixed(1)} / ${s.p99Ms.toFixed(1)} ms (n=${s.count})`;
}

/** A latency summary with no values, for a scenario that cannot measure one (prints n/a). */
export function emptyLatency(): LatencySummary {
  return { count: 0, p50Ms: Number.NaN, p90Ms: Number.NaN, p99Ms: Number.NaN, maxMs: Number.NaN, meanMs: Number.NaN };
}
