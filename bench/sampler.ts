/**
 * Publish→queryable latency: every ~200 ms the sampler publishes one tagged message (QoS 1, its own
 * connection, its own sensor) and polls InfluxDB `/query` until the point is visible. It also checks
 * the durable-ack promise: when the PUBACK arrives, one query must already find the point.
 */
import mqtt, { type MqttClient } from 'mqtt';

import type { InfluxQuery } from '../gateway/influx/influx-query.js';
import type { RunWindow } from './ipc.js';
import { LatencyHistogram } from './percentiles.js';
import { delay } from './processes.js';
import { bleTopic, blePayload, SAMPLER_SENSOR_ID, sightingsJson } from './traffic.js';

export interface SamplerOptions {
  intervalMs: number;
  pollMs: number;
  /** Give up on one sample after this long. */
  timeoutMs: number;
  /** Skip a tick while this many samples are still being polled (bounds the query load). */
  maxOutstanding: number;
}

export const DEFAULT_SAMPLER_OPTIONS: SamplerOptions = { intervalMs: 200, pollMs: 10, timeoutMs: 10_000, maxOutstanding: 10 };

export interface SamplerResult {
  published: number;
  acked: number;
  /** Points per sampler message (the final count adds acked × this). */
  sightingsPerMessage: number;
  queryable: LatencyHistogram;
  puback: LatencyHistogram;
  timedOut: number;
  skipped: number;
  /** Samples whose point a query at PUBACK time did not find (a broken durable ack). */
  notVisibleAtPuback: number;
  errors: string[];
}

const SAMPLER_SIGHTINGS = 1;
/** Beacon numbers far from the publishers' ranges. */
const SAMPLER_BEACON_BASE = 60_000 * 65_536;
const MAX_ERRORS = 5;

export class QueryableSampler {
  private readonly result: SamplerResult = {
    published: 0,
    acked: 0,
    sightingsPerMessage: SAMPLER_SIGHTINGS,
    queryable: new LatencyHistogram(),
    puback: new LatencyHistogram(),
    timedOut: 0,
    skipped: 0,
    notVisibleAtPuback: 0,
    errors: [],
  };
  private outstanding = 0;
  private lastTs = 0;

  private constructor(
    private readonly client: MqttClient,
    private readonly influx: InfluxQuery,
    private readonly options: SamplerOptions,
  ) {}

  static async connect(url: string, influx: InfluxQuery, options: SamplerOptions = DEFAULT_SAMPLER_OPTIONS): Promise<QueryableSampler> {
    const client = mqtt.connect(url, { clientId: `bench-sampler-${process.pid}`, clean: true, reconnectPeriod: 0, connectTimeout: 10_000, protocolVersion: 4 });
    await new Promise<void>((resolve, reject) => {
      client.once('connect', () => resolve());
      client.once('error', reject);
    });
    return new QueryableSampler(client, influx, options);
  }

  /** Samples from the window's measuring start to its end, then waits for the last samples. */
  async run(window: RunWindow): Promise<SamplerResult> {
    const samples: Promise<void>[] = [];
    await delay(Math.max(0, window.measureFromMs - Date.now()));
    const maxTicks = Math.ceil((window.endAtMs - window.measureFromMs) / this.options.intervalMs) + 1;
    for (let tick = 0; tick < maxTicks && Date.now() < window.endAtMs; tick++) {
      if (this.outstanding >= this.options.maxOutstanding) this.result.skipped++;
      else samples.push(this.sampleOnce(tick));
      await delay(this.options.intervalMs);
    }
    await Promise.all(samples);
    return this.result;
  }

  async close(): Promise<void> {
    await this.client.endAsync(true).catch(() => undefined);
  }

  private async sampleOnce(seq: number): Promise<void> {
    this.outstanding++;
    try {
      const ts = Math.max(Date.now(), this.lastTs + 1);
      this.lastTs = ts;
      const payload = blePayload(ts, `sampler-${process.pid}-${seq}`, sightingsJson(SAMPLER_BEACON_BASE + seq, SAMPLER_SIGHTINGS));
      const startedMs = performance.now();
      this.result.published++;
      const acked = this.client.publishAsync(bleTopic(SAMPLER_SENSOR_ID), payload, { qos: 1 }).then(async () => {
        this.result.acked++;
        this.result.puback.record((performance.now() - startedMs) * 1000);
        if (!(await this.isVisible(ts))) this.result.notVisibleAtPuback++;
      });
      const visibleAfterMs = await this.pollUntilVisible(ts, startedMs);
      if (visibleAfterMs === undefined) this.result.timedOut++;
      else this.result.queryable.record(visibleAfterMs * 1000);
      await acked;
    } catch (err) {
      this.noteError(err);
    } finally {
      this.outstanding--;
    }
  }

  /** Milliseconds from `startedMs` until the point is visible; undefined after the timeout. */
  private async pollUntilVisible(ts: number, startedMs: number): Promise<number | undefined> {
    const maxPolls = Math.ceil(this.options.timeoutMs / this.options.pollMs);
    for (let poll = 0; poll < maxPolls && performance.now() - startedMs < this.options.timeoutMs; poll++) {
      if (await this.isVisible(ts)) return performance.now() - startedMs;
      await delay(this.options.pollMs);
    }
    return undefined;
  }

  private async isVisible(ts: number): Promise<boolean> {
    // a point's time is ts ms plus a sub-millisecond offset (gateway/ingest/normalise.ts)
    const sql = `SELECT rssi FROM sighting WHERE sensor = '${SAMPLER_SENSOR_ID}' AND time >= ${ts}ms AND time < ${ts + 1}ms`;
    try {
      const series = await this.influx.query(sql);
      return series.some((s) => s.values.length > 0);
    } catch (err) {
      this.noteError(err);
      return false;
    }
  }

  private noteError(err: unknown): void {
    if (this.result.errors.length < MAX_ERRORS) this.result.errors.push(err instanceof Error ? err.message : String(err));
  }
}
