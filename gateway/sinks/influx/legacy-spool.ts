/**
 * Upgrading from storeloop 0.1: its outage spool (`<state.dir>/spool`) may still hold acknowledged
 * points (line protocol) that never reached InfluxDB. They are written to InfluxDB in the background
 * (oldest first, isolated writes; lines InfluxDB refuses for good are dead-lettered), then the spool
 * directory is removed. New data never goes there: it goes to the event log.
 */
import { rm, stat } from 'node:fs/promises';

import type { Logger } from '../../../lib/logger.js';
import { Spool, type SpoolRecord } from '../../../lib/spool/spool.js';
import type { DeadLetterStore } from '../dead-letters.js';
import { isPermanentWriteFailure } from './write-failure.js';

const RETRY_MS = 5_000;

export async function drainLegacySpool(deps: {
  dir: string;
  writer: { writeIsolated(lines: string[]): Promise<void> };
  deadLetters: DeadLetterStore;
  log: Logger;
  stopped: () => boolean;
}): Promise<void> {
  const exists = await stat(deps.dir).then(
    (s) => s.isDirectory(),
    () => false,
  );
  if (!exists) return;
  const log = deps.log.child({ module: 'legacy-spool' });
  const spool = new Spool({ dir: deps.dir, quotaBytes: Number.MAX_SAFE_INTEGER, log });
  const report = await spool.open();
  log.warn(
    { dir: deps.dir, pendingRecords: report.pendingRecords },
    'a storeloop 0.1 outage spool was found: writing what it holds to InfluxDB, then removing it',
  );
  while (!deps.stopped()) {
    const first = spool.firstPendingSeq();
    if (first === null) break;
    const records = await spool.read(first, 500, 8 * 1024 * 1024);
    try {
      for (const record of records) await writeRecord(record, deps);
      await spool.ack((records[records.length - 1] as SpoolRecord).seq);
    } catch (err) {
      log.warn({ err: (err as Error).message }, 'legacy spool: InfluxDB unavailable, retrying');
      await new Promise((resolve) => setTimeout(resolve, RETRY_MS));
    }
  }
  const done = spool.firstPendingSeq() === null;
  await spool.close();
  if (done) {
    await rm(deps.dir, { recursive: true, force: true });
    log.warn({ dir: deps.dir }, 'legacy spool drained and removed');
  }
}

async function writeRecord(
  record: SpoolRecord,
  deps: { writer: { writeIsolated(lines: string[]): Promise<void> }; deadLetters: DeadLetterStore },
): Promise<void> {
  const { s: store, k: kind, l: lines } = JSON.parse(record.payload.toString('utf8')) as { s: string; k: string; l: string[] };
  try {
    await deps.writer.writeIsolated(lines);
  } catch (err) {
    if (!isPermanentWriteFailure(err)) throw err;
    const context = (err as { context?: { status?: number; serverMessage?: string } }).context;
    await deps.deadLetters.add(
      lines.map((line) => ({
        time: new Date().toISOString(),
        sink: 'influx',
        seq: record.seq,
        store,
        kind,
        line,
        status: context?.status ?? null,
        error: context?.serverMessage ?? 'refused',
      })),
    );
  }
}
