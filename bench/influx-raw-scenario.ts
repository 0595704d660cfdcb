/**
 * influx-raw: the storage limit. The same sighting points the gateway writes (same line protocol,
 * same sensors and zones, K per message does not matter here) go straight to a throwaway influxd of
 * the same kind, in requests of the gateway's batch size, a few at a time, gzipped as the gateway
 * does. Its points/s is the reference for the gateway's InfluxDB-sink drain rate.
 */
import { join } from 'node:path';

import { startLocalInfluxd } from '../devtools/local-influxd.js';
import { InfluxSchema } from '../config/schema.js';
import { InfluxQuery } from '../gateway/influx/influx-query.js';
import { countPointsSettled } from './influx-count.js';
import { planWindow } from './load.js';
import { ProcessWatch } from './proc-stats.js';
import { RawInfluxWriter } from './raw-influx-writer.js';
import { BENCH_DATABASE, watchDuring, type Check, type Scenario, type ScenarioContext, type ScenarioResult, type StorageFigures } from './scenario.js';
import { benchSensors } from './servers.js';
import { SightingLines } from './sighting-lines.js';

/** The gateway's default influx.batchSize: lines per write request. */
export const LINES_PER_REQUEST = 5_000;
/**
 * Requests in flight at once. On the 2-core reference machine (influxd 1.6), points/s by requests in
 * flight, quiet machine: 2 → 277k, 4 → 279k, 6 → 292k, 8 → 258k (influxd and the writer use both
 * cores); shared with another CPU-heavy job: 2 → 71k, 4 → 108k, 6 → 106k, 8 → 101k. 4 is at the top
 * of both within their noise; more only queue in influxd.
 */
export const CONCURRENT_REQUESTS = 4;
/** The gateway's default influx.gzipThreshold (bytes): every batch of this size is gzipped. */
const GZIP_THRESHOLD_BYTES = 1_000;
const REQUEST_TIMEOUT_MS = 30_000;

export const influxRawScenario: Scenario = {
  id: 'influx-raw',
  title: `influx-raw (reference: sighting points straight to influxd /write, ${CONCURRENT_REQUESTS} × ${LINES_PER_REQUEST} lines in flight, gzip)`,
  role: 'reference',
  requires: [{ program: 'influxd', debianPackage: 'influxdb' }],
  run: (ctx) => runInfluxRaw(ctx),
};

async function runInfluxRaw(ctx: ScenarioContext): Promise<ScenarioResult> {
  const influxd = await startLocalInfluxd({ dataDir: join(ctx.workDir, 'influxd') });
  const stopInfluxd = ctx.group.adopt('influxd', influxd.stop);
  try {
    const influx = new InfluxQuery(InfluxSchema.parse({ url: influxd.url, database: BENCH_DATABASE }));
    await influx.query(`CREATE DATABASE ${BENCH_DATABASE}`);
    const lines = new SightingLines(benchSensors(ctx.options.publishers), Date.now());
    const writer = new RawInfluxWriter(
      {
        url: influxd.url,
        database: BENCH_DATABASE,
        linesPerRequest: LINES_PER_REQUEST,
        concurrentRequests: CONCURRENT_REQUESTS,
        gzipThreshold: GZIP_THRESHOLD_BYTES,
        timeoutMs: REQUEST_TIMEOUT_MS,
      },
      lines,
    );
    const window = planWindow(ctx.options.durationMs, ctx.options.warmupMs);
    const usage = watchDuring(window, [new ProcessWatch('influxd', influxd.pid), new ProcessWatch('runner (writer)', process.pid)]);
    const bar = ctx.progress.track('influx-raw', window, () => writer.written, { rate: 'points/s', total: 'written' });
    const written = await writer.run(window).finally(() => bar.stop());
    const processes = await usage;
    const stored = await countPointsSettled(influx, written.pointsWritten);
    const measuredSeconds = (ctx.options.durationMs - ctx.options.warmupMs) / 1000;
    const storage: StorageFigures = {
      pointsPerSecond: written.pointsInWindow / measuredSeconds,
      requestsPerSecond: written.requestsInWindow / measuredSeconds,
      linesPerRequest: LINES_PER_REQUEST,
      concurrentRequests: CONCURRENT_REQUESTS,
      request: written.request.summary(),
      pointsWritten: written.pointsWritten,
    };
    const checks: Check[] = [
      {
        name: 'every write request answered 204',
        ok: written.failedRequests === 0,
        detail: written.errors.join('; ') || `${written.pointsWritten / LINES_PER_REQUEST} requests, no errors`,
      },
      {
        name: 'InfluxDB holds exactly the acknowledged points',
        ok: stored === written.pointsWritten,
        detail: `${stored} stored, ${written.pointsWritten} acknowledged`,
      },
    ];
    return {
      kind: 'storage',
      id: influxRawScenario.id,
      title: influxRawScenario.title,
      role: influxRawScenario.role,
      storage,
      processes,
      checks,
      facts: [
        [
          'write path',
          `@influxdata/influxdb-client transport, POST /write?db=${BENCH_DATABASE}&precision=n, ${LINES_PER_REQUEST} lines per request, gzip above ${GZIP_THRESHOLD_BYTES} bytes, ${CONCURRENT_REQUESTS} requests in flight`,
        ],
        [
          'points',
          `measurement sighting, tags id_type/sensor/source/store/zone over ${benchSensors(ctx.options.publishers).length} sensors, fields rssi (int), tx (int), visitor (string), a unique ns timestamp each`,
        ],
      ],
    };
  } finally {
    await stopInfluxd();
  }
}
