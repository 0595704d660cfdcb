/**
 * Keeps the message index up with the event log, for the gateway's composition root. At start it
 * takes in the log records appended after the seq the index covers on disk (mids, event slots: after
 * a crash, or a log dir replaced or wiped) and joins the log as a consumer that holds back retention
 * until the index has persisted what it took in. While the gateway runs, it flushes the index a few
 * times a second and forgets the mids past the dedup window. `stop()` ends that; closing the index
 * and the log stays with the gateway.
 */
import type { Logger } from '../../lib/logger.js';
import type { EventLog } from './event-log.js';
import type { MessageIndex } from './message-index.js';

/** Each flush is one SQLite commit with an fsync on the event loop: a few per second. */
const INDEX_FLUSH_INTERVAL_MS = 250;
const INDEX_PRUNE_INTERVAL_MS = 1_000;
const INDEX_REPLAY_BATCH = 5_000;

export interface MessageIndexUpkeepOptions {
  index: MessageIndex;
  eventLog: EventLog;
  log: Logger;
}

export class MessageIndexUpkeep {
  private timer: NodeJS.Timeout | undefined;
  private lastPruneAt = 0;

  constructor(private readonly options: MessageIndexUpkeepOptions) {}

  /**
   * Opens the message index and brings it up to the log (which must be open): the records appended
   * after the seq it covers on disk are taken in. It then holds back the log's retention until it has
   * persisted what it takes in.
   */
  async start(): Promise<void> {
    const { index, eventLog, log } = this.options;
    let covered = index.open();
    if (covered > eventLog.head) {
      // the index is ahead of the log: the log dir was replaced or wiped; take in what the log holds
      log.warn(
        { indexCoveredSeq: covered, logHead: eventLog.head },
        'message index: it covers more of the log than the log holds (log dir replaced?); taking in the log again from its start',
      );
      covered = index.resetCoverage();
    }
    const first = eventLog.firstSeq();
    if (first !== null && first > covered + 1) {
      log.warn(
        { indexCoveredSeq: covered, firstLogSeq: first },
        'message index: log records it never took in are gone; resends of those messages within the dedup window will not be recognised',
      );
    }
    let next = Math.max(covered + 1, first ?? covered + 1);
    let replayed = 0;
    for (;;) {
      const records = await eventLog.read(next, INDEX_REPLAY_BATCH, 32 * 1024 * 1024);
      if (records.length === 0) break;
      for (const record of records) index.committed(record, record.seq);
      replayed += records.length;
      next = (records[records.length - 1]?.seq ?? next) + 1;
    }
    index.flush();
    if (replayed > 0) log.info({ records: replayed, coveredSeq: index.durableSeq }, 'message index: took in the log records it had not persisted');
    eventLog.addConsumer({ name: 'message-index', holdsBackIngest: true, durablePosition: () => index.durableSeq });
    this.timer = setInterval(() => this.maintain(), INDEX_FLUSH_INTERVAL_MS);
    this.timer.unref();
  }

  /** Ends the periodic flush and prune (the gateway then closes the log and the index, which flushes). */
  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  private maintain(): void {
    try {
      this.options.index.flush();
      if (Date.now() - this.lastPruneAt > INDEX_PRUNE_INTERVAL_MS) {
        this.lastPruneAt = Date.now();
        this.options.index.prune();
      }
    } catch (err) {
      this.options.log.error({ err }, 'message index: flush failed (retried; the log keeps the records until it succeeds)');
    }
  }
}
