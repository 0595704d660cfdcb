/**
 * A worker thread that runs one simulation (runSimulation) for runSimulationInWorker (run-in-worker.ts):
 * making the messages and the MQTT client's work go to another core than the caller's event loop (the
 * demo's gateway, which ingests what is published). Speaks only the messages of run-in-worker.ts.
 */
import { parentPort, workerData } from 'node:worker_threads';

import type { FromWorker, ToWorker, WorkerRunOptions } from './run-in-worker.js';
import { runSimulation } from './run.js';

/** Progress goes to the caller at most this often. */
const PROGRESS_EVERY_MS = 250;

async function main(): Promise<void> {
  const port = parentPort;
  if (port === null) throw new Error('run-worker.js runs as a worker thread (runSimulationInWorker)');
  const post = (message: FromWorker) => port.postMessage(message);
  const controller = new AbortController();
  port.on('message', (message: ToWorker) => {
    if (message.type === 'stop') controller.abort();
  });
  const opts = workerData as WorkerRunOptions;
  let lastProgressAt = 0;
  try {
    const truth = await runSimulation({
      ...opts,
      progress: false,
      signal: controller.signal,
      log: (line) => post({ type: 'log', line }),
      onProgress: (simulatedMs) => {
        const now = Date.now();
        if (now - lastProgressAt < PROGRESS_EVERY_MS) return;
        lastProgressAt = now;
        post({ type: 'progress', simulatedMs });
      },
    });
    post({ type: 'done', publishedMessages: truth.publishedMessages, completed: truth.completed, stoppedAt: truth.stoppedAt ?? null });
  } catch (err) {
    post({ type: 'failed', message: (err as Error).message });
  }
  port.close();
}

void main();
