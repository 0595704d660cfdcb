/**
 * Writes sighting points straight to InfluxDB 1.x `/write` as fast as a few concurrent requests
 * go, through the official client's own HTTP transport (the one the gateway's V1Transport wraps:
 * same keep-alive agent, same gzip above `gzipThreshold`), with no gateway in between.
 */
import { InfluxDB, type Transport } from '@influxdata/influxdb-client';

import type { RunWindow } from './ipc.js';
import { LatencyHistogram } from './percentiles.js';
import type { SightingLines } from './sighting-lines.js';

export interface RawWriteOptions {
  url: string;
  database: string;
  linesPerRequest: number;
  concurrentRequests: number;
  /** Bodies larger than this many bytes are gzipped (the gateway's influx.gzipThreshold). */
  gzipThreshold: number;
  timeoutMs: number;
}

export interface RawWriteResult {
  /** Points InfluxDB acknowledged (204), whole run. */
  pointsWritten: number;
  /** Points whose request was acknowledged inside the measured interval. */
  pointsInWindow: number;
  requestsInWindow: number;
  /** Send → 204 of the requests acknowledged inside the measured interval. */
  request: LatencyHistogram;
  failedRequests: number;
  errors: string[];
}

const MAX_ERRORS = 5;
/** After a failed request a writer waits this long, so a broken server is not hammered. */
const FAILURE_BACKOFF_MS = 200;

export class RawInfluxWriter {
  private readonly transport: Transport;
  private readonly path: string;
  private readonly result: RawWriteResult = {
    pointsWritten: 0,
    pointsInWindow: 0,
    requestsInWindow: 0,
    request: new LatencyHistogram(),
    failedRequests: 0,
    errors: [],
  };

  constructor(
    private readonly options: RawWriteOptions,
    private readonly lines: SightingLines,
  ) {
    // no token: the transport would send `Authorization: Token`, which 1.x does not understand
    this.transport = new InfluxDB({ url: options.url, timeout: options.timeoutMs }).transport;
    this.path = `/write?${new URLSearchParams({ db: options.database, precision: 'n' }).toString()}`;
  }

  /** Keeps `concurrentRequests` requests going from the window's start to its end; resolves once the last one answered. */
  async run(window: RunWindow): Promise<RawWriteResult> {
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, window.startAtMs - Date.now())));
    await Promise.all(Array.from({ length: this.options.concurrentRequests }, () => this.writeUntil(window)));
    return this.result;
  }

  /** Acknowledged points so far, for the progress bar. */
  get written(): number {
    return this.result.pointsWritten;
  }

  private async writeUntil(window: RunWindow): Promise<void> {
    while (Date.now() < window.endAtMs) {
      const n = this.options.linesPerRequest;
      const body = this.lines.batch(n);
      const startedMs = performance.now();
      try {
        await this.transport.request(this.path, body, {
          method: 'POST',
          headers: { 'content-type': 'text/plain; charset=utf-8' },
          gzipThreshold: this.options.gzipThreshold,
        });
      } catch (err) {
        this.noteFailure(err);
        await new Promise((resolve) => setTimeout(resolve, FAILURE_BACKOFF_MS));
        continue;
      }
      this.result.pointsWritten += n;
      const now = Date.now();
      if (now >= window.measureFromMs && now < window.endAtMs) {
        this.result.pointsInWindow += n;
        this.result.requestsInWindow++;
        this.result.request.record((performance.now() - startedMs) * 1000);
      }
    }
  }

  private noteFailure(err: unknown): void {
    this.result.failedRequests++;
    const message = err instanceof Error ? err.message : String(err);
    if (this.result.errors.length < MAX_ERRORS) this.result.errors.push(message.slice(0, 200));
  }
}
