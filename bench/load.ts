/**
 * Drives N publisher processes against one broker URL: spawns them, waits until all are connected,
 * starts them on one shared window and adds up what they report.
 */
import { spawnBenchChild, type BenchChild } from './children.js';
import type { PublisherResult, RunWindow } from './ipc.js';
import { LatencyHistogram } from './percentiles.js';
import type { PublisherSpec } from './publisher.js';
import type { ProcessGroup } from './processes.js';

export interface LoadOptions {
  publishers: number;
  sightings: number;
  inflight: number;
  durationMs: number;
  warmupMs: number;
}

export interface LoadResult {
  window: RunWindow;
  /** Length of the measured interval (duration minus warm-up), seconds. */
  measuredSeconds: number;
  sent: number;
  acked: number;
  ackedInWindow: number;
  unacked: number;
  disconnects: number;
  errorCount: number;
  errors: string[];
  puback: LatencyHistogram;
  perPublisher: PublisherResult[];
}

const READY_TIMEOUT_MS = 15_000;
/** How long publishers wait for their last PUBACKs after publishing stops. */
export const DRAIN_TIMEOUT_MS = 15_000;
/** Time between `start` and the first publish, so every publisher begins together. */
const START_LEAD_MS = 300;
/** Slack on top of the run and drain before a silent publisher is declared lost. */
const REPORT_SLACK_MS = 10_000;

/** The shared window: start shortly after now, measure after the warm-up, stop at the end. */
export function planWindow(durationMs: number, warmupMs: number): RunWindow {
  const startAtMs = Date.now() + START_LEAD_MS;
  return { startAtMs, measureFromMs: startAtMs + warmupMs, endAtMs: startAtMs + durationMs };
}

export class PublisherFleet {
  private constructor(
    private readonly children: BenchChild[],
    private readonly options: LoadOptions,
  ) {}

  /** Spawns the publishers and resolves once every one is connected to `url`. */
  static async connect(group: ProcessGroup, url: string, options: LoadOptions): Promise<PublisherFleet> {
    const children = Array.from({ length: options.publishers }, (_, publisher) => {
      const spec: PublisherSpec = { publisher, url, sightings: options.sightings, inflight: options.inflight, drainTimeoutMs: DRAIN_TIMEOUT_MS };
      return spawnBenchChild(group, `publisher ${publisher}`, 'publisher.js', spec);
    });
    await Promise.all(children.map((c) => c.ready(READY_TIMEOUT_MS)));
    return new PublisherFleet(children, options);
  }

  /** The publisher processes (for CPU accounting: they share the machine with the servers). */
  get processes(): Array<{ name: string; pid: number }> {
    return this.children.map((c) => ({ name: c.proc.name, pid: c.proc.pid }));
  }

  /** Acks reported so far by all publishers (for the progress bar). */
  get acked(): number {
    return this.children.reduce((sum, c) => sum + c.progress, 0);
  }

  /** Starts every publisher on `window` and resolves with their combined result once all reported. */
  async run(window: RunWindow): Promise<LoadResult> {
    for (const child of this.children) child.send({ type: 'start', window });
    const timeoutMs = window.endAtMs - Date.now() + DRAIN_TIMEOUT_MS + REPORT_SLACK_MS;
    const messages = await Promise.all(this.children.map((c) => c.result(timeoutMs)));
    const perPublisher = messages.flatMap((m) => (m.type === 'publisher-result' ? [m.result] : []));
    return combine(window, perPublisher, this.options);
  }
}

function combine(window: RunWindow, results: PublisherResult[], options: LoadOptions): LoadResult {
  const sum = (pick: (r: PublisherResult) => number) => results.reduce((total, r) => total + pick(r), 0);
  const puback = new LatencyHistogram();
  for (const r of results) puback.merge(r.puback);
  return {
    window,
    measuredSeconds: (options.durationMs - options.warmupMs) / 1000,
    sent: sum((r) => r.sent),
    acked: sum((r) => r.acked),
    ackedInWindow: sum((r) => r.ackedInWindow),
    unacked: sum((r) => r.unacked),
    disconnects: sum((r) => r.disconnects),
    errorCount: sum((r) => r.errorCount),
    errors: results.flatMap((r) => r.errors.map((e) => `publisher ${r.publisher}: ${e}`)),
    puback,
    perPublisher: results,
  };
}
