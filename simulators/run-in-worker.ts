/**
 * runSimulation in a worker thread (run-worker.ts): for a long run published as fast as it goes from a
 * process that also runs the gateway (the demo's backfill), so that planning the run (seconds for days
 * of store life) and making and publishing its messages do not hold up the gateway's event loop, and
 * use a core of their own. The truth stays in the worker: the caller gets what it needs to go on.
 */
import { Worker } from 'node:worker_threads';

import type { RunSimulationOptions } from './run.js';

/** The options a worker can be given: data only (no functions, no signal). */
export type WorkerRunOptions = Omit<RunSimulationOptions, 'log' | 'signal' | 'onProgress' | 'influxOutage' | 'progress' | 'truthFile'>;

export type ToWorker = { type: 'stop' };
export type FromWorker =
  | { type: 'log'; line: string }
  | { type: 'progress'; simulatedMs: number }
  | { type: 'done'; publishedMessages: number; completed: boolean; stoppedAt: number | null }
  | { type: 'failed'; message: string };

export interface WorkerRunResult {
  publishedMessages: number;
  /** False: stopped early (by the signal). */
  completed: boolean;
}

export interface WorkerRunHooks {
  log?: (line: string) => void;
  /** Stops the run: the worker reports its agents offline and ends. */
  signal?: AbortSignal;
  /** How far the run has published (simulated epoch ms), a few times a second. */
  onProgress?: (simulatedMs: number) => void;
}

/** Runs a simulation in a worker thread; resolves once it has ended (every publish acknowledged, or stopped). */
export async function runSimulationInWorker(opts: WorkerRunOptions, hooks: WorkerRunHooks = {}): Promise<WorkerRunResult> {
  const worker = new Worker(new URL('./run-worker.js', import.meta.url), { workerData: opts });
  const stop = () => worker.postMessage({ type: 'stop' } satisfies ToWorker);
  if (hooks.signal?.aborted) stop();
  hooks.signal?.addEventListener('abort', stop, { once: true });
  try {
    return await new Promise<WorkerRunResult>((resolve, reject) => {
      let result: WorkerRunResult | undefined;
      let failure: Error | undefined;
      worker.on('message', (message: FromWorker) => {
        if (message.type === 'log') hooks.log?.(message.line);
        else if (message.type === 'progress') hooks.onProgress?.(message.simulatedMs);
        else if (message.type === 'done') result = { publishedMessages: message.publishedMessages, completed: message.completed };
        else failure = new Error(message.message);
      });
      worker.once('error', (err) => (failure ??= err));
      worker.once('exit', (code) => {
        if (result) resolve(result);
        else reject(failure ?? new Error(`the simulation worker exited with code ${code} before it finished`));
      });
    });
  } finally {
    hooks.signal?.removeEventListener('abort', stop);
  }
}
