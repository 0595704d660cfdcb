import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

import { afterEach, describe, expect, it, vi } from 'vitest';

import { eventLoopLine, MetricsWatch, sinkLagLine } from './metrics-watch.js';

let server: Server | undefined;

afterEach(async () => {
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server = undefined;
});

let scrapes = 0;

/** A /metrics endpoint that answers the next text of `bodies` on each scrape (the last one from then on). */
async function serveMetrics(bodies: string[]): Promise<string> {
  scrapes = 0;
  server = createServer((_req, res) => {
    res.end(bodies[Math.min(scrapes++, bodies.length - 1)]);
  });
  await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

const lagText = (seconds: number, records: number) =>
  [
    '# TYPE storeloop_sink_lag_seconds gauge',
    `storeloop_sink_lag_seconds{sink="influx"} ${seconds}`,
    'storeloop_sink_lag_seconds{sink="crm"} 99',
    `storeloop_sink_lag_records{sink="influx"} ${records}`,
  ].join('\n');

const eventLoopText = (p50: number, p99: number, max: number) =>
  [
    `storeloop_process_nodejs_eventloop_lag_p50_seconds ${p50}`,
    `storeloop_process_nodejs_eventloop_lag_p99_seconds ${p99}`,
    `storeloop_process_nodejs_eventloop_lag_max_seconds ${max}`,
  ].join('\n');

describe('MetricsWatch', () => {
  it('keeps the largest InfluxDB sink lag seen, ignoring the other sinks', async () => {
    const url = await serveMetrics([lagText(0.5, 100), lagText(3.25, 9_000), lagText(1, 10)]);
    const watch = new MetricsWatch(url, undefined, 5);
    watch.start();
    await vi.waitFor(() => expect(scrapes, 'scrapes of the fake /metrics').toBeGreaterThanOrEqual(3));
    const { sinkLag: lag } = await watch.stop();
    expect(lag).toMatchObject({ present: true, maxSeconds: 3.25, maxRecords: 9_000 });
    expect(sinkLagLine(lag)).toMatch(/^max 3\.25 s \(9,000 records\)/);
  });

  it('reports absent, printed n/a, when the gateway has no such metric', async () => {
    const url = await serveMetrics(['storeloop_mqtt_clients{transport="tcp"} 4']);
    const watch = new MetricsWatch(url, undefined, 5);
    watch.start();
    const { sinkLag: lag } = await watch.stop();
    expect(lag.present).toBe(false);
    expect(sinkLagLine(lag)).toMatch(/^n\/a/);
  });

  it('sums up the per-scrape event-loop delay: median p50, largest p99 and max, skipping empty scrapes', async () => {
    const url = await serveMetrics([
      eventLoopText(0.001, 0.01, 0.02),
      eventLoopText(0.003, 0.05, 0.09),
      eventLoopText(0, 0, 0),
      eventLoopText(0.002, 0.02, 0.03),
    ]);
    const watch = new MetricsWatch(url, undefined, 5);
    watch.start();
    await vi.waitFor(() => expect(scrapes, 'scrapes of the fake /metrics').toBeGreaterThanOrEqual(4));
    const { eventLoop } = await watch.stop();
    expect(eventLoop).toMatchObject({ p50Ms: 2, p99Ms: 50, maxMs: 90 });
    expect(eventLoopLine(eventLoop)).toMatch(/^p50 2\.0 \/ p99 50\.0 \/ max 90\.0 ms/);
  });
});
