/**
 * The gateway's InfluxDB sink lag while a run lasts: how far the sink that writes accepted messages
 * to InfluxDB is behind what was acknowledged, polled from /metrics. The event-log gateway exports
 * `storeloop_sink_lag_seconds{sink="influx"}` and `storeloop_sink_lag_records{sink="influx"}`; a
 * gateway without them reports `present: false` (printed n/a), never an error.
 */
import { fetchText } from './gateway-api.js';
import { delay } from './processes.js';
import type { SinkLagFigures } from './scenario.js';
import { metricSamples } from './servers.js';

export const SINK_LAG_SECONDS_METRIC = 'storeloop_sink_lag_seconds';
export const SINK_LAG_RECORDS_METRIC = 'storeloop_sink_lag_records';
const POLL_MS = 500;

const isInfluxSink = (labels: string) => /\bsink="influx"/.test(labels);

/** Polls /metrics from start() to stop() and keeps the largest lag seen. */
export class SinkLagWatch {
  private running = false;
  private loop: Promise<void> | undefined;
  private maxSeconds = Number.NaN;
  private maxRecords = Number.NaN;
  private samples = 0;
  private present = false;

  constructor(
    private readonly httpUrl: string,
    private readonly pollMs = POLL_MS,
  ) {}

  start(): void {
    this.running = true;
    this.loop = this.poll();
  }

  async stop(): Promise<SinkLagFigures> {
    this.running = false;
    await this.loop;
    await this.sampleOnce(); // the lag right after the load, which the last poll may have missed
    return { present: this.present, maxSeconds: this.maxSeconds, maxRecords: this.maxRecords, samples: this.samples };
  }

  private async poll(): Promise<void> {
    while (this.running) {
      await this.sampleOnce();
      await delay(this.pollMs);
    }
  }

  private async sampleOnce(): Promise<void> {
    let text: string;
    try {
      text = await fetchText(`${this.httpUrl}/metrics`);
    } catch {
      return; // a missed scrape under load only lowers the resolution; the run's checks catch a dead gateway
    }
    const seconds = metricSamples(text, SINK_LAG_SECONDS_METRIC, isInfluxSink);
    const records = metricSamples(text, SINK_LAG_RECORDS_METRIC, isInfluxSink);
    if (seconds.length === 0) return;
    this.present = true;
    this.samples++;
    this.maxSeconds = Math.max(Number.isNaN(this.maxSeconds) ? 0 : this.maxSeconds, ...seconds);
    if (records.length > 0) this.maxRecords = Math.max(Number.isNaN(this.maxRecords) ? 0 : this.maxRecords, ...records);
  }
}

/** `1.2 s (34,000 records), 40 samples` or `n/a (no storeloop_sink_lag_seconds{sink="influx"})`. */
export function sinkLagLine(lag: SinkLagFigures | undefined): string {
  if (lag === undefined || !lag.present) return `n/a (the gateway exports no ${SINK_LAG_SECONDS_METRIC}{sink="influx"})`;
  const records = Number.isNaN(lag.maxRecords) ? 'records n/a' : `${Math.round(lag.maxRecords).toLocaleString('en-US')} records`;
  return `max ${lag.maxSeconds.toFixed(2)} s (${records}) over ${lag.samples} samples every ${POLL_MS} ms`;
}
