/**
 * Progress of a run: a cli-progress bar on stderr when it is a terminal, otherwise a one-line
 * summary every few seconds through the caller's log function.
 */
import cliProgress from 'cli-progress';

import { formatDuration } from '../lib/duration.js';

export interface ProgressState {
  /** Messages handed to the client. */
  sent: number;
  /** Messages acknowledged (QoS 1) or written (QoS 0). */
  completed: number;
  /** Simulated time of the last message sent (epoch ms). */
  simulatedTs: number;
}

export interface ProgressReporter {
  update(state: ProgressState): void;
  stop(state: ProgressState): void;
}

export interface ProgressParams {
  /** False: no progress output at all. */
  enabled: boolean;
  /** The simulated window (epoch ms): progress is how far through it the run has published (a streamed run has no message total up front). */
  windowStartMs: number;
  windowEndMs: number;
  /** Where the bar goes; a bar is drawn only when it is a TTY. */
  stream: NodeJS.WriteStream;
  log: (line: string) => void;
  /** Seconds between progress lines when there is no bar. */
  lineIntervalMs?: number;
}

export const PROGRESS_LINE_INTERVAL_MS = 5000;

/** Picks the bar, periodic lines, or nothing. */
export function createProgressReporter(params: ProgressParams): ProgressReporter {
  if (!params.enabled) return { update: () => undefined, stop: () => undefined };
  return params.stream.isTTY ? barReporter(params) : lineReporter(params);
}

function simulatedClock(params: ProgressParams, ts: number): string {
  return `+${formatDuration(Math.max(0, ts - params.windowStartMs))}`;
}

function barReporter(params: ProgressParams): ProgressReporter {
  const bar = new cliProgress.SingleBar(
    {
      stream: params.stream,
      format: 'simulate [{bar}] {percentage}% | sim {clock} of {length} | {sent} messages, acked {completed}',
      hideCursor: true,
      fps: 5,
    },
    cliProgress.Presets.shades_classic,
  );
  const seconds = (ts: number) => Math.round(Math.max(0, ts - params.windowStartMs) / 1000);
  const length = formatDuration(params.windowEndMs - params.windowStartMs);
  bar.start(seconds(params.windowEndMs), 0, { sent: 0, completed: 0, clock: simulatedClock(params, params.windowStartMs), length });
  const payload = (s: ProgressState) => ({ sent: s.sent, completed: s.completed, clock: simulatedClock(params, s.simulatedTs), length });
  return {
    update: (s) => bar.update(seconds(s.simulatedTs), payload(s)),
    stop: (s) => {
      bar.update(seconds(s.simulatedTs), payload(s));
      bar.stop();
    },
  };
}

function lineReporter(params: ProgressParams): ProgressReporter {
  const interval = params.lineIntervalMs ?? PROGRESS_LINE_INTERVAL_MS;
  let lastAt = Date.now();
  const spanMs = params.windowEndMs - params.windowStartMs;
  const line = (s: ProgressState) => {
    const pct = spanMs <= 0 ? 100 : Math.floor((100 * Math.max(0, s.simulatedTs - params.windowStartMs)) / spanMs);
    params.log(
      `simulate: simulated ${simulatedClock(params, s.simulatedTs)} of ${formatDuration(spanMs)} (${pct}%), ${s.sent} messages sent, ${s.completed} acknowledged`,
    );
  };
  return {
    update: (s) => {
      const now = Date.now();
      if (now - lastAt < interval) return;
      lastAt = now;
      line(s);
    },
    stop: line,
  };
}
