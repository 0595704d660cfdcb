/**
 * Drives N publisher processes against one broker URL: spawns them, waits until all are connected,
 * starts them on one shared window and adds up what they report. Closed-loop by default (each keeps
 * `inflight` unacknowledged publishes); open-loop spreads one fixed total rate evenly over them.
 */
import { spawnBenchChild, type BenchChild } from './children.js';
import type { PublisherResult, RunWindow } from './ipc.js';
import type { PacingSpec } from './pacing.js';
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
  /** Messages scheduled (sent, closed-loop) in the measured interval: the ones `puback` holds. */
  scheduledInWindow: number;
  /** Open-loop: messages due by the end but not sent (many only when the in-flight cap was reached). */
  missed: number;
  unacked: number;
  disconnects: number;
  errorCount: number;
  errors: string[];
  puback: LatencyHistogram;
  /** Open-loop: actual minus scheduled send time. */
  sendLag: LatencyHistogram;
  perPublisher: PublisherResult[];
}

/** How the fleet paces its publishes: a window per publisher, or one total rate spread over all. */
export type FleetPacing = { mode: 'closed-loop'; inflight: number } | { mode: 'open-loop'; totalRate: number };

const READY_TIMEOUT_MS = 15_000;
/** How long publishers wait for their last PUBACKs after publishing stops. */
export const DRAIN_TIMEOUT_MS = 15_000;
/** Open-loop: a server behind its schedule has up to the in-flight cap to acknowledge at the end. */
const OPEN_LOOP_DRAIN_TIMEOUT_MS = 30_000;
/**
 * Open-loop in-flight cap per publisher: high enough that only a server far behind its schedule
 * reaches it (then sends wait, still measured from their schedule), low enough to bound memory and
 * the drain, and under MQTT's 65 535 packet identifiers.
 */
export const OPEN_LOOP_MAX_INFLIGHT = 10_000;
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
    private readonly drainTimeoutMs: number,
  ) {}

  /**
   * Spawns the publishers and resolves once every one is connected to `url` (one URL for all, or each
   * publisher's own, e.g. with its own login); closed-loop with `options.inflight` unless `pacing` says otherwise.
   */
  static async connect(
    group: ProcessGroup,
    url: string | ((publisher: number) => string),
    options: LoadOptions,
    pacing: FleetPacing = { mode: 'closed-loop', inflight: options.inflight },
  ): Promise<PublisherFleet> {
    const drainTimeoutMs = pacing.mode === 'closed-loop' ? DRAIN_TIMEOUT_MS : OPEN_LOOP_DRAIN_TIMEOUT_MS;
    const children = Array.from({ length: options.publishers }, (_, publisher) => {
      const spec: PublisherSpec = {
        publisher,
        url: typeof url === 'string' ? url : url(publisher),
        sightings: options.sightings,
        pacing: publisherPacing(pacing, publisher, options.publishers),
        drainTimeoutMs,
      };
      return spawnBenchChild(group, `publisher ${publisher}`, 'publisher.js', spec);
    });
    await Promise.all(children.map((c) => c.ready(READY_TIMEOUT_MS)));
    return new PublisherFleet(children, options, drainTimeoutMs);
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
    const timeoutMs = window.endAtMs - Date.now() + this.drainTimeoutMs + REPORT_SLACK_MS;
    const messages = await Promise.all(this.children.map((c) => c.result(timeoutMs)));
    const perPublisher = messages.flatMap((m) => (m.type === 'publisher-result' ? [m.result] : []));
    return combine(window, perPublisher, this.options);
  }
}

/** Publisher `index`'s share of the fleet's pacing: open-loop publishers interleave their schedules. */
function publisherPacing(pacing: FleetPacing, index: number, publishers: number): PacingSpec {
  if (pacing.mode === 'closed-loop') return pacing;
  return { mode: 'open-loop', ratePerSecond: pacing.totalRate / publishers, phase: index / publishers, maxInflight: OPEN_LOOP_MAX_INFLIGHT };
}

function combine(window: RunWindow, results: PublisherResult[], options: LoadOptions): LoadResult {
  const sum = (pick: (r: PublisherResult) => number) => results.reduce((total, r) => total + pick(r), 0);
  const puback = new LatencyHistogram();
  const sendLag = new LatencyHistogram();
  for (const r of results) {
    puback.merge(r.puback);
    sendLag.merge(r.sendLag);
  }
  return {
    window,
    measuredSeconds: (options.durationMs - options.warmupMs) / 1000,
    sent: sum((r) => r.sent),
    acked: sum((r) => r.acked),
    ackedInWindow: sum((r) => r.ackedInWindow),
    scheduledInWindow: sum((r) => r.scheduledInWindow),
    missed: sum((r) => r.missed),
    unacked: sum((r) => r.unacked),
    disconnects: sum((r) => r.disconnects),
    errorCount: sum((r) => r.errorCount),
    errors: results.flatMap((r) => r.errors.map((e) => `publisher ${r.publisher}: ${e}`)),
    puback,
    sendLag,
    perPublisher: results,
  };
}
