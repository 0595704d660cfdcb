/**
 * Encodes InfluxDB sink batches in a worker thread (encoder-worker.ts) when the gateway runs from its
 * compiled build, so decoding and line building use the machine's other core instead of the event
 * loop that answers MQTT. Records whose bytes are unknown, and runs from TypeScript sources
 * (in-process tests), are encoded in this thread: same function, same output.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';

import { StoreloopError } from '../../../lib/errors.js';
import type { Logger } from '../../../lib/logger.js';
import { rawPayload, type LogRecord } from '../../log/log-record.js';
import { encodeRecords, type EncodedBatch } from './encode-batch.js';
import type { EncodeRequest, EncodeResponse } from './encoder-worker.js';

/** The compiled worker beside this module, or null when running from sources. */
function workerScript(): string | null {
  const here = import.meta.url;
  if (!here.endsWith('.js')) return null;
  const path = fileURLToPath(new URL('./encoder-worker.js', here));
  return existsSync(path) ? path : null;
}

export class BatchEncoder {
  private worker: Worker | undefined;
  private readonly pending = new Map<number, { resolve: (encoded: EncodedBatch) => void; reject: (err: Error) => void }>();
  private nextId = 1;
  private stopped = false;
  readonly inWorker: boolean;

  constructor(
    private readonly linesPerBody: number,
    private readonly log: Logger,
    useWorker: boolean,
  ) {
    this.inWorker = useWorker && workerScript() !== null;
  }

  async encode(records: readonly LogRecord[]): Promise<EncodedBatch> {
    const raws = this.inWorker && !this.stopped ? records.map((r) => rawPayload(r)) : [];
    if (raws.length === 0 || raws.some((raw) => raw === undefined)) return encodeRecords(records, this.linesPerBody);
    const total = raws.reduce((sum, raw) => sum + (raw as Buffer).length, 0);
    const buffer = Buffer.allocUnsafeSlow(total); // its own ArrayBuffer: transferred, not copied again
    const ends: number[] = [];
    let at = 0;
    for (const raw of raws as Buffer[]) {
      raw.copy(buffer, at);
      at += raw.length;
      ends.push(at);
    }
    const id = this.nextId++;
    const worker = this.ensureWorker();
    return new Promise<EncodedBatch>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      const request: EncodeRequest = { id, buffer: buffer.buffer as ArrayBuffer, ends, linesPerBody: this.linesPerBody };
      worker.postMessage(request, [buffer.buffer as ArrayBuffer]);
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    const worker = this.worker;
    this.worker = undefined;
    this.failAll(new StoreloopError('SL_ERR_ENCODER_STOPPED', 'the InfluxDB sink encoder stopped', {}));
    await worker?.terminate();
  }

  private ensureWorker(): Worker {
    if (this.worker) return this.worker;
    const worker = new Worker(workerScript() as string);
    worker.unref();
    worker.on('message', (response: EncodeResponse) => {
      const waiter = this.pending.get(response.id);
      if (!waiter) return;
      this.pending.delete(response.id);
      if (response.ok) waiter.resolve({ bodies: response.bodies, bodyLines: response.bodyLines, perMeasurement: response.perMeasurement });
      else waiter.reject(new StoreloopError('SL_ERR_ENCODER', `InfluxDB sink encoder: ${response.error}`, {}));
    });
    worker.on('error', (err) => {
      if (this.worker === worker) this.worker = undefined;
      this.log.error({ err }, 'InfluxDB sink encoder thread failed; starting a new one for the next batch');
      this.failAll(new StoreloopError('SL_ERR_ENCODER', 'the InfluxDB sink encoder thread failed', {}, err));
    });
    worker.on('exit', (code) => {
      if (this.worker === worker) this.worker = undefined;
      if (!this.stopped && code !== 0)
        this.failAll(new StoreloopError('SL_ERR_ENCODER', `the InfluxDB sink encoder thread exited with code ${code}`, { code }));
    });
    this.worker = worker;
    return worker;
  }

  private failAll(err: Error): void {
    for (const waiter of this.pending.values()) waiter.reject(err);
    this.pending.clear();
  }
}
