/**
 * A small HDR-style latency histogram: log-spaced buckets with ~1 % relative precision, an exact
 * count, min, max and sum. Fixed memory however many values it holds, and mergeable, so every
 * publisher process records its own and the runner adds them up.
 */

/** Relative width of one bucket: a percentile is within ±0.5 % of the true value. */
const PRECISION = 0.01;
const LOG_BASE = Math.log1p(PRECISION);
/** Values are microseconds; anything under 1 µs lands in bucket 0. */
const MIN_VALUE_US = 1;

/** A histogram in a form that survives JSON (IPC between processes). */
export interface HistogramData {
  count: number;
  minUs: number;
  maxUs: number;
  sumUs: number;
  /** Sparse [bucket index, count] pairs. */
  buckets: Array<[number, number]>;
}

/** Percentiles in milliseconds, as the report prints them. */
export interface LatencySummary {
  count: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  maxMs: number;
  meanMs: number;
}

function bucketOf(valueUs: number): number {
  return valueUs <= MIN_VALUE_US ? 0 : Math.floor(Math.log(valueUs / MIN_VALUE_US) / LOG_BASE);
}

/** The middle of bucket `index` (geometric), in microseconds. */
function valueOf(index: number): number {
  return MIN_VALUE_US * Math.exp((index + 0.5) * LOG_BASE);
}

export class LatencyHistogram {
  private readonly counts = new Map<number, number>();
  private total = 0;
  private min = Number.POSITIVE_INFINITY;
  private max = 0;
  private sum = 0;

  /** Records one latency in microseconds (negative values, from clock skew, count as 0). */
  record(valueUs: number): void {
    const value = Math.max(0, valueUs);
    const index = bucketOf(value);
    this.counts.set(index, (this.counts.get(index) ?? 0) + 1);
    this.total++;
    this.sum += value;
    if (value < this.min) this.min = value;
    if (value > this.max) this.max = value;
  }

  get count(): number {
    return this.total;
  }

  /** Adds another histogram's values (e.g. one publisher's) to this one. */
  merge(data: HistogramData): this {
    for (const [index, count] of data.buckets) this.counts.set(index, (this.counts.get(index) ?? 0) + count);
    if (data.count > 0) {
      this.total += data.count;
      this.sum += data.sumUs;
      this.min = Math.min(this.min, data.minUs);
      this.max = Math.max(this.max, data.maxUs);
    }
    return this;
  }

  /** The value at quantile `q` (0–1) in microseconds; NaN when empty. */
  quantileUs(q: number): number {
    if (this.total === 0) return Number.NaN;
    const rank = Math.max(1, Math.ceil(q * this.total));
    let seen = 0;
    for (const index of [...this.counts.keys()].sort((a, b) => a - b)) {
      seen += this.counts.get(index) ?? 0;
      if (seen >= rank) return Math.min(this.max, Math.max(this.min, valueOf(index)));
    }
    return this.max;
  }

  summary(): LatencySummary {
    const ms = (us: number) => us / 1000;
    return {
      count: this.total,
      p50Ms: ms(this.quantileUs(0.5)),
      p90Ms: ms(this.quantileUs(0.9)),
      p99Ms: ms(this.quantileUs(0.99)),
      maxMs: this.total === 0 ? Number.NaN : ms(this.max),
      meanMs: this.total === 0 ? Number.NaN : ms(this.sum / this.total),
    };
  }

  toJSON(): HistogramData {
    return {
      count: this.total,
      minUs: this.total === 0 ? 0 : this.min,
      maxUs: this.max,
      sumUs: this.sum,
      buckets: [...this.counts.entries()],
    };
  }

  static from(data: HistogramData): LatencyHistogram {
    return new LatencyHistogram().merge(data);
  }
}

/** Epoch time in microseconds with sub-millisecond resolution, comparable across processes. */
export function epochMicros(): number {
  return Math.round((performance.timeOrigin + performance.now()) * 1000);
}
