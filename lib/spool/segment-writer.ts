/**
 * Writes groups of encoded records to the active segment with one positional writev per segment
 * and one fdatasync per touched segment, rolling to a new segment file past `segmentBytes`.
 * A new file's directory entry is fsynced right after it is created, before the group resolves.
 * Records are indexed into their segment only after their data is synced, so readers never see
 * bytes that are not durable.
 */
import { open, unlink } from 'node:fs/promises';

import type { Logger } from '../logger.js';
import { syncData, syncDir, writeAllAt, type SyncCounter } from './durable-fs.js';
import { Segment } from './segment.js';

/** A record ready to write: `bytes` is [header, payload], `size` their total length. */
export interface EncodedRecord {
  seq: number;
  appendedAt: number;
  bytes: [Buffer, Buffer];
  size: number;
}

export interface SegmentWriterHooks {
  /** A segment file was created and belongs to the spool from now on. */
  created(segment: Segment): void;
  /** A record is durable and indexed in `segment`. */
  committed(segment: Segment, record: EncodedRecord): void;
  /** A segment created by a failed group held no record and was removed. */
  discarded(segment: Segment): void;
}

export interface SegmentWriterOptions {
  dir: string;
  segmentBytes: number;
  syncs: SyncCounter;
  log: Logger;
  hooks: SegmentWriterHooks;
}

export class SegmentWriter {
  private active: Segment | null = null;

  constructor(private readonly options: SegmentWriterOptions) {}

  /** The segment the next group goes to first (null until one is created, or after a failure). */
  get activeSegment(): Segment | null {
    return this.active;
  }

  /**
   * Writes `records` (in seq order) and syncs them; resolves once all are durable and indexed.
   * On failure, the touched segments are cut back to their last durable record and closed, the
   * next group starts a new segment, and the error is rethrown.
   */
  async write(records: EncodedRecord[]): Promise<{ segments: number; bytes: number }> {
    const touched: Segment[] = [];
    const placed: Array<{ segment: Segment; record: EncodedRecord; offset: number }> = [];
    let bytes = 0;
    try {
      let segment = this.active;
      let chunk: Buffer[] = [];
      let chunkAt = 0;
      if (segment !== null) {
        segment.busy = true;
        touched.push(segment);
        chunkAt = segment.writeEnd;
      }
      for (const record of records) {
        if (segment === null || (segment.writeEnd > 0 && segment.writeEnd + record.size > this.options.segmentBytes)) {
          if (segment !== null) await writeAllAt(handleOf(segment), chunk, chunkAt);
          segment = await this.roll(record.seq, touched);
          chunk = [];
          chunkAt = 0;
        }
        placed.push({ segment, record, offset: segment.writeEnd });
        chunk.push(...record.bytes);
        segment.writeEnd += record.size;
        bytes += record.size;
      }
      if (segment !== null) await writeAllAt(handleOf(segment), chunk, chunkAt);
      for (const each of touched) await syncData(handleOf(each), this.options.syncs);
      for (const { segment: each, record, offset } of placed) {
        each.add(record.seq, offset, record.appendedAt, offset + record.size);
        this.options.hooks.committed(each, record);
      }
      await this.closeRolledOut(touched);
      return { segments: touched.length, bytes };
    } catch (err) {
      await this.abandon(touched);
      throw err;
    } finally {
      for (const each of touched) each.busy = false;
    }
  }

  /** Takes the active segment out of service (all acked, failed or closing); the next group starts a new one. */
  detachActive(): Segment | null {
    const segment = this.active;
    this.active = null;
    return segment;
  }

  /** Closes the active segment's file. */
  async close(): Promise<void> {
    const segment = this.detachActive();
    await segment?.handle?.close();
    if (segment !== null) segment.handle = null;
  }

  /** Creates the segment starting at `firstSeq` and makes its directory entry durable. */
  private async roll(firstSeq: number, touched: Segment[]): Promise<Segment> {
    const segment = new Segment(this.options.dir, firstSeq);
    segment.handle = await open(segment.path, 'wx');
    segment.busy = true;
    touched.push(segment);
    this.options.hooks.created(segment);
    this.active = segment;
    // the file's name must survive a power cut before any append in it resolves
    await syncDir(this.options.dir, this.options.syncs);
    return segment;
  }

  /** Closes the segments this group rolled away from (synced already). */
  private async closeRolledOut(touched: Segment[]): Promise<void> {
    for (const segment of touched) {
      if (segment === this.active || segment.handle === null) continue;
      const handle = segment.handle;
      segment.handle = null;
      try {
        await handle.close();
      } catch (err) {
        this.options.log.warn({ err, segment: segment.name }, 'spool segment close failed');
      }
    }
  }

  /** After a failed group: cut each touched segment back to its durable end, close it, drop empty ones. */
  private async abandon(touched: Segment[]): Promise<void> {
    const active = this.detachActive();
    const affected = active === null || touched.includes(active) ? touched : [...touched, active];
    for (const segment of affected) {
      segment.writeEnd = segment.committedBytes;
      const handle = segment.handle;
      segment.handle = null;
      if (handle !== null) {
        // best effort: recovery cuts whatever is left past the last good record anyway
        await handle
          .truncate(segment.committedBytes)
          .catch((err: unknown) => this.options.log.warn({ err, segment: segment.name }, 'spool segment truncate failed'));
        await handle.close().catch((err: unknown) => this.options.log.warn({ err, segment: segment.name }, 'spool segment close failed'));
      }
      if (segment.count === 0) {
        this.options.hooks.discarded(segment);
        await unlink(segment.path).catch((err: unknown) => this.options.log.warn({ err, segment: segment.name }, 'spool segment unlink failed'));
      }
    }
  }
}

function handleOf(segment: Segment): NonNullable<Segment['handle']> {
  if (segment.handle === null) throw new Error(`spool segment ${segment.name} is not open for writing`);
  return segment.handle;
}
