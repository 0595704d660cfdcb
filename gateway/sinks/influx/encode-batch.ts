/**
 * A batch of log records as InfluxDB request bodies: every record normalised to its points
 * (normalise.ts), the lines joined into bodies of at most `linesPerBody` lines. Pure; runs in the
 * encoder worker, or in the gateway's own thread when there is no worker (in-process tests).
 */
import type { LogRecord } from '../../log/log-record.js';
import { normaliseRecord } from './normalise.js';

export interface EncodedBatch {
  /** Request bodies: line protocol, at most `linesPerBody` lines each, joined with '\n'. */
  bodies: string[];
  /** Lines in each body. */
  bodyLines: number[];
  /** Points per measurement, for storeloop_points_queued_total. */
  perMeasurement: Record<string, number>;
}

export function encodeRecords(records: readonly Pick<LogRecord, 'kind' | 'source' | 'eventTime' | 'slot' | 'message'>[], linesPerBody: number): EncodedBatch {
  const bodies: string[] = [];
  const bodyLines: number[] = [];
  const perMeasurement: Record<string, number> = {};
  let body = '';
  let lines = 0;
  for (const record of records) {
    for (const point of normaliseRecord(record as LogRecord)) {
      body = lines === 0 ? point.line : `${body}\n${point.line}`;
      lines += 1;
      perMeasurement[point.measurement] = (perMeasurement[point.measurement] ?? 0) + 1;
      if (lines === linesPerBody) {
        bodies.push(body);
        bodyLines.push(lines);
        body = '';
        lines = 0;
      }
    }
  }
  if (lines > 0) {
    bodies.push(body);
    bodyLines.push(lines);
  }
  return { bodies, bodyLines, perMeasurement };
}
