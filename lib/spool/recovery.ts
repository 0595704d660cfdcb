/**
 * Brings a spool directory to a consistent state at open: verifies every segment, sets each torn
 * or corrupt tail aside under `torn/` and truncates it off, and removes segments that hold no
 * pending record. Order per tail: the bad bytes are copied and fsynced (file and `torn/`) before
 * the segment is truncated and fsynced, so a crash during recovery never loses them; recovery is
 * idempotent and simply runs again.
 */
import { mkdir, open, readdir, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';

import type { Logger } from '../logger.js';
import { readAt, syncData, syncDir, syncFile, writeAllAt, type SyncCounter } from './durable-fs.js';
import { Segment, parseSegmentFileName } from './segment.js';
import { scanSegment } from './segment-scanner.js';

export const TORN_DIR = 'torn';
const COPY_CHUNK_BYTES = 1 << 20;

export interface TornTail {
  segment: string;
  offset: number;
  bytes: number;
  reason: string;
  setAsideAs: string;
}

export interface Recovered {
  /** Segments that still hold pending records, in seq order, with `firstPending` set. */
  segments: Segment[];
  tornTails: TornTail[];
  /** Highest seq of any good record found (0 if none), acked or not. */
  maxSeq: number;
}

/** Creates `dir` if missing and makes its directory entry durable. */
export async function ensureDir(dir: string, syncs: SyncCounter): Promise<void> {
  const created = await mkdir(dir, { recursive: true });
  if (created !== undefined) await syncDir(dirname(created), syncs);
}

/** Scans, repairs and prunes the segments of `dir`; records with seq <= ackedUpto are acked. */
export async function recoverSegments(dir: string, ackedUpto: number, log: Logger, syncs: SyncCounter): Promise<Recovered> {
  const tornTails: TornTail[] = [];
  const kept: Segment[] = [];
  let maxSeq = 0;
  let removed = 0;
  for (const segment of await listSegments(dir)) {
    const scan = await scanSegment(segment, maxSeq);
    if (scan.defect !== null) {
      const tail = { segment: segment.name, offset: scan.validEnd, bytes: scan.fileBytes - scan.validEnd, reason: scan.defect };
      const setAsideAs = await setTailAside(dir, segment, tail, syncs);
      tornTails.push({ ...tail, setAsideAs });
      log.warn({ ...tail, setAsideAs, goodRecords: segment.count }, 'spool segment tail set aside');
    }
    maxSeq = segment.lastSeq ?? maxSeq;
    segment.ackUpto(ackedUpto);
    if (segment.pendingCount > 0) {
      kept.push(segment);
    } else {
      await unlink(segment.path);
      removed += 1;
    }
  }
  if (removed > 0) await syncDir(dir, syncs);
  return { segments: kept, tornTails, maxSeq };
}

/** The segment files of `dir`, in seq order; other files are left alone. */
async function listSegments(dir: string): Promise<Segment[]> {
  const segments: Segment[] = [];
  for (const name of await readdir(dir)) {
    const firstSeq = parseSegmentFileName(name);
    if (firstSeq !== null) segments.push(new Segment(dir, firstSeq));
  }
  return segments.sort((a, b) => a.firstSeq - b.firstSeq);
}

/** Copies bytes [offset, offset+bytes) to <dir>/torn/<segment>.<offset>.bin, then truncates the segment there; returns that path. */
async function setTailAside(dir: string, segment: Segment, tail: { offset: number; bytes: number }, syncs: SyncCounter): Promise<string> {
  const tornDir = join(dir, TORN_DIR);
  await ensureDir(tornDir, syncs);
  const setAsideAs = join(tornDir, `${segment.name}.${tail.offset}.bin`);
  const source = await open(segment.path, 'r+');
  try {
    const target = await open(setAsideAs, 'w');
    try {
      for (let done = 0; done < tail.bytes;) {
        const chunk = await readAt(source, Math.min(COPY_CHUNK_BYTES, tail.bytes - done), tail.offset + done);
        if (chunk.length === 0) break;
        await writeAllAt(target, [chunk], done);
        done += chunk.length;
      }
      await syncData(target, syncs);
    } finally {
      await target.close();
    }
    await syncDir(tornDir, syncs);
    await source.truncate(tail.offset);
    await syncFile(source, syncs);
  } finally {
    await source.close();
  }
  return setAsideAs;
}
