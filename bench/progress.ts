/** The progress line shown while a scenario runs: elapsed time, current rate, count so far (acks by default). */
import cliProgress from 'cli-progress';

import type { RunWindow } from './ipc.js';
import type { ProgressReporter, ProgressUnits } from './scenario.js';

const UPDATE_EVERY_MS = 250;
/** The rate shown is averaged over this long. */
const RATE_WINDOW_MS = 1_000;
const MESSAGES: ProgressUnits = { rate: 'msg/s', total: 'acked' };

export function createProgressReporter(stream: NodeJS.WriteStream = process.stderr): ProgressReporter {
  return {
    track(label: string, window: RunWindow, count: () => number, units: ProgressUnits = MESSAGES) {
      const totalSeconds = Math.round((window.endAtMs - window.startAtMs) / 1000);
      const bar = new cliProgress.SingleBar(
        {
          format: `  ${label.padEnd(22)} [{bar}] {value}/{total} s | {phase} | {rate} ${units.rate} | {acked} ${units.total}`,
          stream,
          hideCursor: false,
          noTTYOutput: true,
          notTTYSchedule: 5_000,
        },
        cliProgress.Presets.shades_classic,
      );
      bar.start(totalSeconds, 0, { phase: 'warm-up', rate: 0, acked: 0 });
      const history: Array<{ atMs: number; count: number }> = [];
      const timer = setInterval(() => {
        const now = Date.now();
        const acked = count();
        history.push({ atMs: now, count: acked });
        while (history.length > 1 && (history[0]?.atMs ?? now) < now - RATE_WINDOW_MS) history.shift();
        const first = history[0];
        const rate = first && now > first.atMs ? ((acked - first.count) * 1000) / (now - first.atMs) : 0;
        const elapsed = Math.min(totalSeconds, Math.max(0, Math.floor((now - window.startAtMs) / 1000)));
        const phase = now < window.measureFromMs ? 'warm-up' : now < window.endAtMs ? 'measuring' : 'draining';
        bar.update(elapsed, { phase, rate: Math.round(rate), acked });
      }, UPDATE_EVERY_MS);
      return {
        stop() {
          clearInterval(timer);
          bar.update(totalSeconds, { phase: 'done', acked: count() });
          bar.stop();
        },
      };
    },
  };
}
