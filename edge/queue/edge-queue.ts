/**
 * The agent's store-and-forward queue: every message (live or not) goes through it, on disk, before
 * it is published. Built on the crash-safe spool the gateway uses too (lib/spool: CRC-checked records,
 * group commit with fdatasync, torn tails set aside at open; see its README for the fsync policy).
 *
 * - `enqueue()` resolves once the record is fsynced (or with the reason it was shed: shed-policy.ts),
 *   and answers the message's `mid` = `<agentId>-<epoch>-<seq>` (queue-identity.ts, queue-record.ts).
 * - `take()` hands out the oldest records not handed out yet, with their mid; records older than
 *   `maxAgeSeconds` (event time) are dropped there, counted.
 * - `settle(seq)` marks a record delivered; the spool is acked up to the highest seq below which
 *   every handed-out record is settled, so a crash re-sends (same mid), never skips.
 */
import { EventEmitter } from 'node:events';
import { join } from 'node:path';

import { buildTopic, type MessageKind, type StatusMessage } from '../../protocol/index.js';
import type { Logger } from '../../lib/logger.js';
import { RateLimitedLog } from '../../lib/rate-limited-log.js';
import { recordBytes } from '../../lib/spool/record-codec.js';
import { Spool, SpoolFullError, type SpoolRecord, type SpoolRecoveryReport } from '../../lib/spool/spool.js';
import type { SourcePayload } from '../types.js';
import { EdgeQueueError } from '../agent/errors.js';
import { QueueCounters, type QueueCountsSnapshot } from './queue-counters.js';
import { readOrCreateEpoch } from './queue-identity.js';
import { decodeQueueRecord, encodeQueueRecord, messageId, publishedPayload } from './queue-record.js';
import { decideAdmission, isExpired, type ShedReason } from './shed-policy.js';

/** What the agent queues: a source's payload, or a status on behalf of the agent or a sensor. */
export type QueueMessage = SourcePayload | { kind: 'status'; sourceId: string; payload: Omit<StatusMessage, 'mid'>; retain?: boolean };

export type EnqueueResult = { status: 'queued'; seq: number; mid: string } | { status: 'shed'; reason: ShedReason };

/** A record ready to publish. */
export interface OutgoingMessage {
  seq: number;
  mid: string;
  kind: MessageKind;
  topic: string;
  payload: Buffer;
  retain: boolean;
}

export interface QueuePolicy {
  shedRawAbovePct: number;
  maxAgeSeconds: number;
}

export interface EdgeQueueOptions extends QueuePolicy {
  dir: string;
  quotaBytes: number;
  segmentBytes: number;
  agentId: string;
  storeId: string;
  topicPrefix: string;
  log: Logger;
  /** Clock (epoch ms) for record ages; default Date.now. */
  now?: () => number;
}

export interface EdgeQueueStats {
  depth: number;
  bytes: number;
  quotaBytes: number;
  fillPct: number;
  /** Epoch ms the oldest pending record was queued, or null. */
  oldestQueuedAt: number | null;
  counts: QueueCountsSnapshot;
}

interface EdgeQueueEvents {
  /** Records were appended: a publisher waiting for work can take() again. */
  appended: [];
}

/** Records read from the spool per take() at most, in bytes. */
const TAKE_MAX_BYTES = 1 << 20;
const ACK_RETRY_MS = 1000;

export class EdgeQueue extends EventEmitter<EdgeQueueEvents> {
  readonly counters = new QueueCounters();
  private readonly spool: Spool;
  private log: Logger;
  private readonly shedLog: RateLimitedLog;
  private policy: QueuePolicy;
  private epoch = '';
  private cursor = 0;
  /** Seqs handed out by take() and not acked in the spool yet, in seq order. */
  private readonly handedOut: number[] = [];
  private readonly settled = new Set<number>();
  private ackTarget = 0;
  private ackedUpto = 0;
  private acking: Promise<void> | null = null;
  private ackRetry: NodeJS.Timeout | null = null;
  /** Bytes accepted by enqueue() and still being appended (they count against the quota). */
  private appendingBytes = 0;
  private opened = false;

  /** Stores the options; nothing touches the disk before open(). */
  constructor(private readonly options: EdgeQueueOptions) {
    super();
    this.log = options.log;
    this.shedLog = new RateLimitedLog(options.log, 10_000);
    this.policy = { shedRawAbovePct: options.shedRawAbovePct, maxAgeSeconds: options.maxAgeSeconds };
    this.spool = new Spool({ dir: join(options.dir, 'spool'), quotaBytes: options.quotaBytes, segmentBytes: options.segmentBytes, log: options.log });
  }

  /** Opens (and recovers) the queue: torn tails are set aside by the spool, counted and logged. */
  async open(): Promise<SpoolRecoveryReport> {
    this.log = this.options.log.child({ module: 'edge-queue' });
    const { epoch, created } = await readOrCreateEpoch(this.options.dir);
    this.epoch = epoch;
    let report: SpoolRecoveryReport;
    try {
      report = await this.spool.open();
    } catch (err) {
      throw new EdgeQueueError(`cannot open the edge queue in ${this.options.dir}`, { cause: err, context: { dir: this.options.dir } });
    }
    this.opened = true;
    this.cursor = this.spool.firstPendingSeq() ?? 0;
    this.counters.countTornTails(report.tornTails.length);
    for (const tail of report.tornTails) {
      this.log.warn(
        { segment: tail.segment, offset: tail.offset, bytes: tail.bytes, reason: tail.reason, setAsideAs: tail.setAsideAs },
        'queue tail set aside, never sent',
      );
    }
    this.log.info({ dir: this.options.dir, epoch, created, pendingRecords: report.pendingRecords, tornTails: report.tornTails.length }, 'edge queue opened');
    return report;
  }

  get queueEpoch(): string {
    return this.epoch;
  }

  /** Changes the shedding threshold and the maximum age (remote config); applies to the next enqueue/take. */
  setPolicy(policy: QueuePolicy): void {
    this.policy = { ...policy };
  }

  /** Queues a message durably; answers its mid, or the reason it was shed (counted and logged, never silent). */
  async enqueue(message: QueueMessage): Promise<EnqueueResult> {
    const { agentId, storeId, topicPrefix, quotaBytes } = this.options;
    let topic: string;
    try {
      topic = buildTopic(topicPrefix, { storeId, kind: message.kind, sourceId: message.sourceId });
    } catch {
      return this.shed(message.kind, 'invalid_topic', { sourceId: message.sourceId.slice(0, 70) });
    }
    const retain = message.kind === 'status' && message.retain === true;
    const bytes = encodeQueueRecord({ agentId, kind: message.kind, topic, payload: message.payload as Record<string, unknown>, retain });
    const size = recordBytes(bytes.length);
    const heldBytes = this.spool.stats().pendingBytes + this.appendingBytes;
    const admission = decideAdmission({ kind: message.kind, heldBytes, recordBytes: size, quotaBytes, shedRawAbovePct: this.policy.shedRawAbovePct });
    if (!admission.admit) return this.shed(message.kind, admission.reason, { heldBytes, quotaBytes });
    this.appendingBytes += size;
    try {
      const [seq] = await this.spool.append([bytes]);
      if (seq === undefined) throw new Error('spool answered no seq for one payload');
      this.counters.countEnqueued(message.kind);
      this.emit('appended');
      return { status: 'queued', seq, mid: messageId(agentId, this.epoch, seq) };
    } catch (err) {
      if (err instanceof SpoolFullError) return this.shed(message.kind, 'queue_full', { heldBytes, quotaBytes });
      this.log.error({ err, kind: message.kind }, 'queue write failed: message shed');
      return this.shed(message.kind, 'write_failed', {});
    } finally {
      this.appendingBytes -= size;
    }
  }

  /**
   * The oldest records not handed out yet, at most `maxRecords`, each with its mid. Records past the
   * maximum age or that do not decode are dropped here (counted, logged) and settled.
   * Not reentrant: one publisher calls it and awaits it.
   */
  async take(maxRecords: number): Promise<OutgoingMessage[]> {
    const out: OutgoingMessage[] = [];
    // read on while everything read was dropped, so an empty answer means the queue is drained
    while (out.length === 0 && maxRecords > 0) {
      const records = await this.spool.read(this.cursor, maxRecords, TAKE_MAX_BYTES);
      if (records.length === 0) break;
      this.handOut(records, out);
    }
    return out;
  }

  private handOut(records: SpoolRecord[], out: OutgoingMessage[]): void {
    const now = (this.options.now ?? Date.now)();
    for (const record of records) {
      this.cursor = record.seq + 1;
      this.handedOut.push(record.seq);
      const decoded = decodeQueueRecord(record.payload);
      if (decoded === undefined) {
        this.log.error({ seq: record.seq, bytes: record.payload.length }, 'queue record does not decode: dropped');
        this.dropAtReplay('status', 'undecodable', record.seq);
        continue;
      }
      const ts = typeof decoded.payload.ts === 'number' ? decoded.payload.ts : undefined;
      if (isExpired(ts, now, this.policy.maxAgeSeconds)) {
        this.dropAtReplay(decoded.kind, 'expired', record.seq, { maxAgeSeconds: this.policy.maxAgeSeconds });
        continue;
      }
      const mid = messageId(decoded.agentId, this.epoch, record.seq);
      out.push({ seq: record.seq, mid, kind: decoded.kind, topic: decoded.topic, payload: publishedPayload(decoded, mid), retain: decoded.retain });
    }
  }

  /** Marks a handed-out record delivered (PUBACK); acks the spool up to the contiguous settled prefix. */
  settle(seq: number, counted = true): void {
    if (counted) this.counters.countPublished();
    this.settled.add(seq);
    let target = 0;
    while (this.handedOut.length > 0 && this.settled.has(this.handedOut[0] as number)) {
      target = this.handedOut.shift() as number; // length > 0
      this.settled.delete(target);
    }
    if (target > 0) this.scheduleAck(target);
  }

  stats(): EdgeQueueStats {
    const spool = this.spool.stats();
    return {
      depth: spool.pendingRecords,
      bytes: spool.pendingBytes,
      quotaBytes: spool.quotaBytes,
      fillPct: Math.round((1000 * spool.pendingBytes) / spool.quotaBytes) / 10,
      oldestQueuedAt: spool.oldestAppendedAt,
      counts: this.counters.snapshot(),
    };
  }

  /** Resolves once the acks of every record settled so far are persisted (so `stats().depth` counts them out). */
  async flushAcks(): Promise<void> {
    while (this.acking !== null) await this.acking;
  }

  /** Waits for appends and acks in progress, then closes the spool; idempotent. */
  async close(): Promise<void> {
    if (this.ackRetry !== null) clearTimeout(this.ackRetry);
    this.ackRetry = null;
    await this.flushAcks();
    this.opened = false;
    await this.spool.close();
  }

  private dropAtReplay(kind: MessageKind, reason: ShedReason, seq: number, fields: Record<string, unknown> = {}): void {
    this.counters.countShed(kind, reason);
    this.shedLog.warn(
      `${kind}/${reason}`,
      { kind, reason, ...fields, total: this.counters.snapshot().shed[`${kind}/${reason}`] },
      'queued message dropped at replay',
    );
    this.settle(seq, false);
  }

  private shed(kind: MessageKind, reason: ShedReason, fields: Record<string, unknown>): EnqueueResult {
    this.counters.countShed(kind, reason);
    this.shedLog.warn(`${kind}/${reason}`, { kind, reason, ...fields, total: this.counters.snapshot().shed[`${kind}/${reason}`] }, 'message shed: not queued');
    return { status: 'shed', reason };
  }

  private scheduleAck(target: number): void {
    this.ackTarget = Math.max(this.ackTarget, target);
    if (this.acking !== null || this.ackRetry !== null || !this.opened) return;
    const run = this.runAcks();
    this.acking = run;
    void run.then(() => {
      this.acking = null;
      // a settle that came while the last ack was being written
      if (this.ackTarget > this.ackedUpto && this.ackRetry === null) this.scheduleAck(this.ackTarget);
    });
  }

  /** Acks the spool up to the latest target, one checkpoint write (two fsyncs) at a time; never rejects. */
  private async runAcks(): Promise<void> {
    while (this.ackTarget > this.ackedUpto && this.opened) {
      const target = this.ackTarget;
      try {
        await this.spool.ack(target);
        this.ackedUpto = target;
      } catch (err) {
        // the records stay pending: a crash now re-sends them (same mids), nothing is lost
        this.log.error({ err, target }, 'queue ack failed: retrying');
        this.ackRetry = setTimeout(() => {
          this.ackRetry = null;
          this.scheduleAck(this.ackTarget);
        }, ACK_RETRY_MS);
        return;
      }
    }
  }
}
