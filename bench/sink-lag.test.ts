import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

import { afterEach, describe, expect, it } from 'vitest';

import { SinkLagWatch, sinkLagLine } from './sink-lag.js';

let server: Server | undefined;

afterEach(async () => {
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server = undefined;
});

/** A /metrics endpoint that answers the next text of `bodies` on each scrape (the last one from then on). */
async function serveMetrics(bodies: string[]): Promise<string> {
  let scrape = 0;
  server = createServer((_req, res) => {
    res.end(bodies[Math.min(scrape++, bodies.length - 1)]);
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

describe('SinkLagWatch', () => {
  it('keeps the largest InfluxDB sink lag seen, ignoring the other sinks', async () => {
    const url = await serveMetrics([lagText(0.5, 100), lagText(3.25, 9_000), lagText(1, 10)]);
    const watch = new SinkLagWatch(url, 5);
    watch.start();
    await new Promise((resolve) => setTimeout(resolve, 50));
    const lag = await watch.stop();
    expect(lag).toMatchObject({ present: true, maxSeconds: 3.25, maxRecords: 9_000 });
    expect(sinkLagLine(lag)).toMatch(/^max 3\.25 s \(9,000 records\)/);
  });

  it('reports absent, printed n/a, when the gateway has no such metric', async () => {
    const url = await serveMetrics(['storeloop_mqtt_clients{transport="tcp"} 4']);
    const watch = new SinkLagWatch(url, 5);
    watch.start();
    const lag = await watch.stop();
    expect(lag.present).toBe(false);
    expect(sinkLagLine(lag)).toMatch(/^n\/a/);
  });
});
