/**
 * Messages accepted and rejected per minute over the last hour, for the pipeline page: a ring of 60
 * minute buckets filled by sampling the gateway's running totals (the ledger's `logged` and
 * `rejected`) once a second, so a message is counted in the minute it was settled, give or take one
 * sample. Fixed memory (60 buckets), and nothing on the ingest path.
 */

/** Minutes kept. */
export const INGEST_RATE_MINUTES = 60;
/** How often the totals are sampled: the most a count can land in the neighbouring minute by. */
export const INGEST_SAMPLE_INTERVAL_MS = 1_000;
const MINUTE_MS = 60_000;

/** Running totals since the gateway started (they only grow). */
export interface IngestTotals {
  /** Messages appended to the event log (ledger state `logged`). */
  accepted: number;
  /** Messages refused, for any reason (ledger state `rejected`). */
  rejected: number;
}

export interface IngestMinute {
  /** Start of the minute (ISO 8601). */
  minute: string;
  accepted: number;
  rejected: number;
}

interface Bucket {
  /** Epoch minute the bucket holds; a bucket whose minute is not the one asked for is empty. */
  minute: number;
  accepted: number;
  rejected: number;
}

export class IngestRate {
  private readonly buckets: Bucket[] = Array.from({ length: INGEST_RATE_MINUTES }, () => ({ minute: -1, accepted: 0, rejected: 0 }));
  private last: IngestTotals | undefined;
  private timer: NodeJS.Timeout | undefined;
  private startedAt: number | undefined;

  constructor(
    private readonly totals: () => IngestTotals,
    private readonly now: () => number = Date.now,
  ) {}

  /** Takes the first sample (what came before counts for no minute) and samples every second. */
  start(): void {
    this.startedAt = this.now();
    this.last = this.totals();
    this.timer = setInterval(() => this.sample(), INGEST_SAMPLE_INTERVAL_MS);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** When sampling began (epoch ms): minutes before it were not measured. Undefined before start(). */
  get sampledSince(): number | undefined {
    return this.startedAt;
  }

  /** Adds what the totals grew by since the last sample to the current minute. */
  sample(): void {
    const totals = this.totals();
    const last = this.last ?? totals;
    this.last = totals;
    const accepted = Math.max(0, totals.accepted - last.accepted);
    const rejected = Math.max(0, totals.rejected - last.rejected);
    if (accepted === 0 && rejected === 0) return;
    const bucket = this.bucket(Math.floor(this.now() / MINUTE_MS));
    bucket.accepted += accepted;
    bucket.rejected += rejected;
  }

  /** The last 60 minutes, oldest first, the current (unfinished) minute last; minutes without traffic count 0. */
  lastHour(): IngestMinute[] {
    this.sample();
    const current = Math.floor(this.now() / MINUTE_MS);
    const minutes: IngestMinute[] = [];
    for (let m = current - INGEST_RATE_MINUTES + 1; m <= current; m++) {
      const bucket = this.buckets[m % INGEST_RATE_MINUTES];
      const held = bucket !== undefined && bucket.minute === m;
      minutes.push({ minute: new Date(m * MINUTE_MS).toISOString(), accepted: held ? bucket.accepted : 0, rejected: held ? bucket.rejected : 0 });
    }
    return minutes;
  }

  private bucket(minute: number): Bucket {
    const index = minute % INGEST_RATE_MINUTES;
    // the ring always holds 60 buckets: the index is in range
    const bucket = this.buckets[index] as Bucket;
    if (bucket.minute !== minute) {
      bucket.minute = minute;
      bucket.accepted = 0;
      bucket.rejected = 0;
    }
    return bucket;
  }
}
