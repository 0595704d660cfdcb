/**
 * The InfluxDB sink's encoder thread: takes a batch of log records as their encoded bytes (one
 * transferred buffer), decodes and normalises them, and answers with the request bodies. It keeps
 * the JSON parsing, the line building and their garbage off the gateway's event loop.
 */
import { parentPort } from 'node:worker_threads';

import type { LogRecord } from '../../log/log-record.js';
import { encodeRecords } from './encode-batch.js';

export interface EncodeRequest {
  id: number;
  buffer: ArrayBuffer;
  /** End offset of each record's bytes in `buffer`. */
  ends: number[];
  linesPerBody: number;
}

export type EncodeResponse =
  { id: number; ok: true; bodies: string[]; bodyLines: number[]; perMeasurement: Record<string, number> } | { id: number; ok: false; error: string };

parentPort?.on('message', (request: EncodeRequest) => {
  try {
    const bytes = Buffer.from(request.buffer);
    const records: LogRecord[] = [];
    let start = 0;
    for (const end of request.ends) {
      records.push(JSON.parse(bytes.toString('utf8', start, end)) as LogRecord);
      start = end;
    }
    const encoded = encodeRecords(records, request.linesPerBody);
    parentPort?.postMessage({ id: request.id, ok: true, ...encoded } satisfies EncodeResponse);
  } catch (err) {
    parentPort?.postMessage({ id: request.id, ok: false, error: err instanceof Error ? err.message : String(err) } satisfies EncodeResponse);
  }
});
