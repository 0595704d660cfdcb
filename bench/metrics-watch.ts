/**
 * The gateway's /metrics, scraped every 500 ms while a load runs, for what one scrape at each end
 * cannot give:
 * - the InfluxDB sink lag: how far the sink that writes accepted messages to InfluxDB is behind
 *   what was acknowledged. The event-log gateway exports `storeloop_sink_lag_seconds{sink="influx"}`
 *   and `storeloop_sink_lag_records{sink="influx"}`; a gateway without them reports
 *   `present: false` (printed n/a), never an error.
 * - the event-loop delay: prom-client resets its event-loop histogram at every scrape, so with the
 *   lag polled the delay is only known per scrape; the watch keeps the scrapes inside the measured
 *   interval and reports their median p50, their largest p99 and their largest max.
 */
import { fetchText } from './gateway-api.js';
import type { RunWindow } from './ipc.js';
import { delay } from './processes.js';
import type { SinkLagFigures } from './scenario.js';
import { metricSamples } from './servers.js';

export const SINK_LAG_SECONDS_METRIC = 'storeloop_sink_lag_seconds';
export const SINK_LAG_RECORDS_METRIC = 'storeloop_sink_lag_records';
const EVENT_LOOP_METRIC_PREFIX = 'storeloop_process_nodejs_eventloop_lag';
const POLL_MS = 500;

const isInfluxSink = (labels: string) => /\bsink="influx"/.test(labels);

/** The gateway's event-loop delay over a run's measured interval, from its per-scrape figures. */
export interface EventLoopDelay {
  /** Median of the scrapes' p50. */
  p50Ms: number;
  /** Largest of the scrapes' p99. */
  p99Ms: number;
  maxMs: number;
  scrapes: number;
}

export interface MetricsWatchResult {
  sinkLag: SinkLagFigures;
  eventLoop: EventLoopDelay;
}

/** Polls /metrics from start() to stop(): the largest sink lag seen, and the event-loop delay inside `window`. */
export class MetricsWatch {
  private running = false;
  private loop: Promise<void> | undefined;
  private readonly lag: SinkLagFigures = { present: false, maxSeconds: Number.NaN, maxRecords: Number.NaN, samples: 0 };
  private readonly eventLoopScrapes: Array<{ p50Ms: number; p99Ms: number; maxMs: number }> = [];

  constructor(
    private readonly httpUrl: string,
    private readonly window: RunWindow | undefined,
    private readonly pollMs = POLL_MS,
  ) {}

  start(): void {
    this.running = true;
    this.loop = this.poll();
  }

  async stop(): Promise<MetricsWatchResult> {
    this.running = false;
    await this.loop;
    await this.scrapeOnce(); // the lag right after the load, which the last poll may have missed
    return { sinkLag: { ...this.lag }, eventLoop: this.eventLoop() };
  }

  private async poll(): Promise<void> {
    while (this.running) {
      await this.scrapeOnce();
      await delay(this.pollMs);
    }
  }

  private async scrapeOnce(): Promise<void> {
    let text: string;
    try {
      text = await fetchText(`${this.httpUrl}/metrics`);
    } catch {
      return; // a missed scrape under load only lowers the resolution; the run's checks catch a dead gateway
    }
    this.noteSinkLag(text);
    this.noteEventLoop(text, Date.now());
  }

  private noteSinkLag(text: string): void {
    const seconds = metricSamples(text, SINK_LAG_SECONDS_METRIC, isInfluxSink);
    if (seconds.length === 0) return;
    const records = metricSamples(text, SINK_LAG_RECORDS_METRIC, isInfluxSink);
    this.lag.present = true;
    this.lag.samples++;
    this.lag.maxSeconds = Math.max(Number.isNaN(this.lag.maxSeconds) ? 0 : this.lag.maxSeconds, ...seconds);
    if (records.length > 0) this.lag.maxRecords = Math.max(Number.isNaN(this.lag.maxRecords) ? 0 : this.lag.maxRecords, ...records);
  }

  private noteEventLoop(text: string, atMs: number): void {
    // a scrape covers the time since the one before: it belongs to the interval when it ends inside it, after the first poll there
    if (this.window && (atMs < this.window.measureFromMs + this.pollMs || atMs > this.window.endAtMs)) return;
    const ms = (name: string) => 1000 * (metricSamples(text, `${EVENT_LOOP_METRIC_PREFIX}_${name}_seconds`)[0] ?? Number.NaN);
    const scrape = { p50Ms: ms('p50'), p99Ms: ms('p99'), maxMs: ms('max') };
    // a histogram that saw no sample since the last scrape (two scrapes close together) reports max 0
    if (scrape.maxMs > 0) this.eventLoopScrapes.push(scrape);
  }

  private eventLoop(): EventLoopDelay {
    const scrapes = this.eventLoopScrapes;
    const p50s = scrapes.map((s) => s.p50Ms).sort((a, b) => a - b);
    return {
      p50Ms: p50s[Math.floor(p50s.length / 2)] ?? Number.NaN,
      p99Ms: scrapes.length === 0 ? Number.NaN : Math.max(...scrapes.map((s) => s.p99Ms)),
      maxMs: scrapes.length === 0 ? Number.NaN : Math.max(...scrapes.map((s) => s.maxMs)),
      scrapes: scrapes.length,
    };
  }
}

/** `max 1.20 s (34,000 records) over 40 samples …` or `n/a (no storeloop_sink_lag_seconds{sink="influx"})`. */
export function sinkLagLine(lag: SinkLagFigures | undefined): string {
  if (lag === undefined || !lag.present) return `n/a (the gateway exports no ${SINK_LAG_SECONDS_METRIC}{sink="influx"})`;
  const records = Number.isNaN(lag.maxRecords) ? 'records n/a' : `${Math.round(lag.maxRecords).toLocaleString('en-US')} records`;
  return `max ${lag.maxSeconds.toFixed(2)} s (${records}) over ${lag.samples} samples every ${POLL_MS} ms`;
}

/** `p50 0.4 / p99 ≤ 12.1 / max 30.2 ms over 24 scrapes`. */
export function eventLoopLine(e: EventLoopDelay): string {
  if (e.scrapes === 0) return 'n/a (no scrape inside the measured interval)';
  return `p50 ${e.p50Ms.toFixed(1)} / p99 ${e.p99Ms.toFixed(1)} / max ${e.maxMs.toFixed(1)} ms (median p50, largest p99 and max of ${e.scrapes} scrapes of ${POLL_MS} ms)`;
}
