/**
 * The crash-safe, append-only segment store of opaque records under the gateway's event log
 * (gateway/log/event-log.ts, `<state.dir>/log`) and the edge agent's queue (edge/queue/). `append()`
 * resolves once its records are fsynced (group commit: one writev and one fdatasync per touched
 * segment per group); readers `read()` in seq order from positions they keep themselves; `ack(seq)`
 * moves the trim point (log: durably consumed by every holding consumer and older than the replay
 * retention; edge queue: PUBACKed) and deletes segments holding only acked records.
 *
 * At-least-once. Files in `dir`, record format, recovery and the durability argument: README.md.
 */
import { unlink } from 'node:fs/promises';

import { StoreloopError } from '../errors.js';
import type { Logger } from '../logger.js';
import { INITIAL_CHECKPOINT, readCheckpoint, writeCheckpoint } from './checkpoint.js';
import { SyncCounter } from './durable-fs.js';
import { MAX_PAYLOAD_BYTES, RECORD_HEADER_BYTES, encodeHeader, recordBytes } from './record-codec.js';
import { firstSeqAppendedSince, pendingAfter, type PendingSpan } from './positions.js';
import { planRead } from './read-plan.js';
import { ensureDir, recoverSegments } from './recovery.js';
import type { Segment } from './segment.js';
import { readRecords } from './segment-reader.js';
import { SegmentWriter, type EncodedRecord } from './segment-writer.js';
import { SpoolAckError, SpoolFullError, SpoolOpenError, SpoolStateError, SpoolWriteError } from './spool-errors.js';

export { SpoolFullError };

const DEFAULT_SEGMENT_BYTES = 64 * 1024 * 1024;

export interface SpoolOptions {
  /** Directory of the spool; created if missing. One process per directory. */
  dir: string;
  /** Max bytes (headers included) of pending, not yet acked, records. */
  quotaBytes: number;
  /** Roll to a new segment file once the next record would pass this size (default 64 MiB). */
  segmentBytes?: number;
  log: Logger;
  /** Clock for appendedAt (epoch ms; default Date.now). */
  now?: () => number;
}

export interface SpoolRecord {
  seq: number;
  appendedAt: number;
  payload: Buffer;
}

export interface SpoolStats {
  pendingRecords: number;
  pendingBytes: number;
  oldestAppendedAt: number | null;
  segments: number;
  quotaBytes: number;
  /** fsync/fdatasync calls since open (segments, directories, checkpoint). */
  fsyncs: number;
  /** Records appended since open. */
  appendedRecords: number;
  /** Records acked since open. */
  ackedRecords: number;
}

export interface SpoolRecoveryReport {
  segments: number;
  pendingRecords: number;
  tornTails: Array<{ segment: string; offset: number; bytes: number; reason: string; setAsideAs: string }>;
}

type SpoolState = 'new' | 'opening' | 'open' | 'closing' | 'closed';

interface QueuedAppend {
  records: EncodedRecord[];
  bytes: number;
  resolve: (seqs: number[]) => void;
  reject: (err: unknown) => void;
}

export class Spool {
  private log: Logger;
  private state: SpoolState = 'new';
  private readonly syncs = new SyncCounter();
  private writer: SegmentWriter | null = null;
  /** Segments holding records, in seq order; the last one may be the active one. */
  private segments: Segment[] = [];
  private queue: QueuedAppend[] = [];
  /** Bytes accepted by append() and not yet durable (queued or being written); they count against the quota. */
  private inflightBytes = 0;
  private flushing: Promise<void> | null = null;
  private acking: Promise<void> = Promise.resolve();
  private opening: Promise<SpoolRecoveryReport> | null = null;
  private closing: Promise<void> | null = null;
  private ackedUpto = 0;
  private nextSeq = 1;
  private pendingRecords = 0;
  private pendingBytes = 0;
  private appendedRecords = 0;
  private ackedRecords = 0;

  /** Stores the options; nothing touches the disk before open(). */
  constructor(private readonly options: SpoolOptions) {
    this.log = options.log;
  }

  /** Recovers the directory (verify, cut bad tails, load the checkpoint) and makes the spool usable. */
  async open(): Promise<SpoolRecoveryReport> {
    if (this.state !== 'new') throw new SpoolStateError(`spool is ${this.state}: cannot open`, { context: { dir: this.options.dir, state: this.state } });
    assertPositiveInteger('quotaBytes', this.options.quotaBytes);
    assertPositiveInteger('segmentBytes', this.options.segmentBytes ?? DEFAULT_SEGMENT_BYTES);
    this.state = 'opening';
    this.log = this.options.log.child({ module: 'spool' });
    this.opening = this.recover();
    return this.opening;
  }

  /**
   * Appends `payloads` as consecutive records and resolves with their seqs once they are fsynced.
   * Rejects with SpoolFullError, writing nothing, when they do not fit in the quota. The payload
   * buffers must not be modified until the returned promise settles.
   */
  async append(payloads: Buffer[]): Promise<number[]> {
    this.assertState('append', 'open');
    if (payloads.length === 0) return [];
    let bytes = 0;
    for (const payload of payloads) {
      if (payload.length > MAX_PAYLOAD_BYTES) throw new RangeError(`spool payload of ${payload.length} bytes exceeds ${MAX_PAYLOAD_BYTES} bytes`);
      bytes += recordBytes(payload.length);
    }
    const heldBytes = this.pendingBytes + this.inflightBytes;
    if (heldBytes + bytes > this.options.quotaBytes) {
      throw new SpoolFullError({ quotaBytes: this.options.quotaBytes, pendingBytes: heldBytes, recordBytes: bytes });
    }
    const records = this.encode(payloads);
    this.inflightBytes += bytes;
    return new Promise<number[]>((resolve, reject) => {
      this.queue.push({ records, bytes, resolve, reject });
      this.flushing ??= this.flushQueue();
    });
  }

  /**
   * Pending records with seq >= fromSeq, in seq order, read from disk (nothing is consumed). Stops
   * at maxRecords, or before the payloads pass maxBytes; the first record is returned even if larger.
   */
  async read(fromSeq: number, maxRecords: number, maxBytes: number): Promise<SpoolRecord[]> {
    this.assertState('read', 'open', 'closing');
    if (!Number.isSafeInteger(fromSeq) || !Number.isSafeInteger(maxRecords) || !Number.isSafeInteger(maxBytes)) {
      throw new RangeError(`spool read expects integers, got fromSeq ${fromSeq}, maxRecords ${maxRecords}, maxBytes ${maxBytes}`);
    }
    const runs = planRead(this.segments, Math.max(fromSeq, this.ackedUpto + 1), maxRecords, maxBytes);
    const records: SpoolRecord[] = [];
    for (const run of runs) records.push(...(await readRecords(run.segment, run.from, run.to)));
    return records;
  }

  /**
   * Marks records with seq <= uptoSeq drained: persists the checkpoint atomically, then deletes
   * segment files holding only acked records. Seqs beyond the last durable record are ignored.
   */
  async ack(uptoSeq: number): Promise<void> {
    this.assertState('ack', 'open');
    if (!Number.isSafeInteger(uptoSeq)) throw new RangeError(`spool ack expects an integer seq, got ${uptoSeq}`);
    const run = this.acking.then(() => this.persistAck(uptoSeq));
    // the caller sees a failure through `run`; the next ack still runs
    this.acking = run.catch(() => undefined);
    return run;
  }

  /** Seq of the oldest pending record, or null when nothing is pending. */
  firstPendingSeq(): number | null {
    const segment = this.firstPendingSegment();
    return segment === undefined ? null : segment.seqAt(segment.firstPending);
  }

  /** Seq of the newest durable record, or null when the spool holds none (all acked or empty). */
  lastSeq(): number | null {
    const last = this.lastDurableSeq();
    return last > this.ackedUpto ? last : null;
  }

  /** Pending records with seq > `afterSeq`: how many, their bytes (headers included), the oldest append time. */
  pendingAfter(afterSeq: number): PendingSpan {
    return pendingAfter(this.segments, afterSeq);
  }

  /** Seq of the first pending record appended at or after `epochMs`, or null when none is. */
  firstSeqAppendedSince(epochMs: number): number | null {
    return firstSeqAppendedSince(this.segments, epochMs);
  }

  /** Seq of the last pending record appended before `epochMs` (what a time-based trim may drop), or null. */
  lastSeqAppendedBefore(epochMs: number): number | null {
    const first = this.firstSeqAppendedSince(epochMs);
    if (first === null) return this.lastSeq();
    return first - 1 > this.ackedUpto ? first - 1 : null;
  }

  stats(): SpoolStats {
    const oldest = this.firstPendingSegment();
    return {
      pendingRecords: this.pendingRecords,
      pendingBytes: this.pendingBytes,
      oldestAppendedAt: oldest === undefined ? null : oldest.appendedAtAt(oldest.firstPending),
      segments: this.segments.length,
      quotaBytes: this.options.quotaBytes,
      fsyncs: this.syncs.count,
      appendedRecords: this.appendedRecords,
      ackedRecords: this.ackedRecords,
    };
  }

  /** Waits for appends and acks already called, then closes the files; idempotent. */
  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    // a failed open has nothing left open; its caller sees the error
    await this.opening?.catch(() => undefined);
    if (this.state !== 'open') {
      // never opened, or open() failed (then nothing is left open)
      this.state = 'closed';
      return;
    }
    this.state = 'closing';
    await this.flushing;
    await this.acking;
    await this.writer?.close();
    this.state = 'closed';
    this.log.info({ pendingRecords: this.pendingRecords, pendingBytes: this.pendingBytes, fsyncs: this.syncs.count }, 'spool closed');
  }

  private async recover(): Promise<SpoolRecoveryReport> {
    const { dir } = this.options;
    try {
      await ensureDir(dir, this.syncs);
      const checkpoint = await readCheckpoint(dir);
      const recovered = await recoverSegments(dir, checkpoint.ackedUpto, this.log, this.syncs);
      this.segments = recovered.segments;
      this.ackedUpto = checkpoint.ackedUpto;
      this.nextSeq = Math.max(checkpoint.nextSeq, recovered.maxSeq + 1, checkpoint.ackedUpto + 1, INITIAL_CHECKPOINT.nextSeq);
      for (const segment of this.segments) {
        this.pendingRecords += segment.pendingCount;
        this.pendingBytes += segment.pendingBytes;
      }
      this.writer = this.createWriter();
      this.state = 'open';
      const report = { segments: this.segments.length, pendingRecords: this.pendingRecords, tornTails: recovered.tornTails };
      const { pendingBytes, nextSeq } = this;
      this.log.info({ dir, ...report, tornTails: report.tornTails.length, pendingBytes, nextSeq }, 'spool opened');
      return report;
    } catch (err) {
      this.state = 'closed';
      if (err instanceof StoreloopError) throw err;
      throw new SpoolOpenError(`cannot open spool in ${dir}`, { cause: err, context: { dir } });
    }
  }

  private createWriter(): SegmentWriter {
    return new SegmentWriter({
      dir: this.options.dir,
      segmentBytes: this.options.segmentBytes ?? DEFAULT_SEGMENT_BYTES,
      syncs: this.syncs,
      log: this.log,
      hooks: {
        created: (segment) => this.segments.push(segment),
        committed: (_segment, record) => {
          this.pendingRecords += 1;
          this.pendingBytes += record.size;
          this.inflightBytes -= record.size;
          this.appendedRecords += 1;
        },
        discarded: (segment) => this.removeSegment(segment),
      },
    });
  }

  /** Assigns seqs and builds the headers (one buffer for all of them). */
  private encode(payloads: Buffer[]): EncodedRecord[] {
    const appendedAt = Math.max(0, Math.trunc(this.options.now?.() ?? Date.now()));
    const headers = Buffer.allocUnsafe(RECORD_HEADER_BYTES * payloads.length);
    return payloads.map((payload, index) => {
      const seq = this.nextSeq++;
      const at = index * RECORD_HEADER_BYTES;
      encodeHeader(headers, at, seq, appendedAt, payload);
      return { seq, appendedAt, bytes: [headers.subarray(at, at + RECORD_HEADER_BYTES), payload], size: recordBytes(payload.length) };
    });
  }

  /** Writes queued appends group by group until the queue is empty. */
  private async flushQueue(): Promise<void> {
    // let every append() called in the same tick join the first group
    await Promise.resolve();
    try {
      while (this.queue.length > 0) {
        const group = this.queue;
        this.queue = [];
        await this.commitGroup(group);
      }
    } finally {
      this.flushing = null;
    }
  }

  /** Writes one group and settles its appends; never throws. */
  private async commitGroup(group: QueuedAppend[]): Promise<void> {
    const records = group.flatMap((append) => append.records);
    try {
      const written = await this.writerOrThrow().write(records);
      this.log.debug({ appends: group.length, records: records.length, bytes: written.bytes, segments: written.segments }, 'spool group committed');
      for (const append of group) append.resolve(append.records.map((record) => record.seq));
    } catch (err) {
      const bytes = group.reduce((sum, append) => sum + append.bytes, 0);
      this.inflightBytes -= bytes;
      const error = new SpoolWriteError(`spool write of ${records.length} records failed`, {
        cause: err,
        context: { dir: this.options.dir, records: records.length, bytes, firstSeq: records[0]?.seq },
      });
      this.log.error({ err: error, records: records.length }, 'spool write failed');
      for (const append of group) append.reject(error);
    }
  }

  private async persistAck(uptoSeq: number): Promise<void> {
    const target = Math.min(uptoSeq, this.lastDurableSeq());
    if (target <= this.ackedUpto) return;
    const checkpoint = { version: 1 as const, ackedUpto: target, nextSeq: this.nextSeq };
    try {
      await writeCheckpoint(this.options.dir, checkpoint, this.syncs);
    } catch (err) {
      throw new SpoolAckError(`cannot persist spool checkpoint at seq ${target}`, { cause: err, context: { dir: this.options.dir, ackedUpto: target } });
    }
    this.ackedUpto = target;
    for (const segment of this.segments) {
      const released = segment.ackUpto(target);
      this.pendingRecords -= released.records;
      this.pendingBytes -= released.bytes;
      this.ackedRecords += released.records;
      if (!segment.isFullyAcked) break;
    }
    await this.deleteAckedSegments();
  }

  /** Deletes segment files whose records are all acked, except ones a group is writing to. */
  private async deleteAckedSegments(): Promise<void> {
    const doomed = this.segments.filter(
      (segment) => segment.isFullyAcked && !segment.busy && (segment !== this.writer?.activeSegment || this.flushing === null),
    );
    for (const segment of doomed) {
      if (segment === this.writer?.activeSegment) this.writer.detachActive();
      this.removeSegment(segment);
    }
    for (const segment of doomed) {
      try {
        const handle = segment.handle;
        segment.handle = null;
        await handle?.close();
        await unlink(segment.path);
      } catch (err) {
        // the checkpoint already says acked: a leftover file is removed again at the next open
        this.log.warn({ err, segment: segment.name }, 'spool segment delete failed');
      }
    }
  }

  private removeSegment(segment: Segment): void {
    segment.deleted = true;
    this.segments = this.segments.filter((each) => each !== segment);
  }

  private firstPendingSegment(): Segment | undefined {
    return this.segments.find((segment) => !segment.isFullyAcked);
  }

  private lastDurableSeq(): number {
    for (let s = this.segments.length - 1; s >= 0; s -= 1) {
      const last = this.segments[s]?.lastSeq;
      if (last !== undefined) return last;
    }
    return this.ackedUpto;
  }

  private writerOrThrow(): SegmentWriter {
    if (this.writer === null) throw new SpoolStateError('spool has no writer (not open)', { context: { dir: this.options.dir } });
    return this.writer;
  }

  private assertState(operation: string, ...allowed: SpoolState[]): void {
    if (!allowed.includes(this.state)) {
      throw new SpoolStateError(`spool is ${this.state}: cannot ${operation}`, { context: { dir: this.options.dir, state: this.state, operation } });
    }
  }
}

function assertPositiveInteger(name: string, value: number): void {
  if (!Number.isSafeInteger(value) || value <= 0) throw new RangeError(`spool ${name} must be a positive integer, got ${value}`);
}
