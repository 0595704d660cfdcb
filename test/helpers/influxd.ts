/** A real influxd 1.x for tests: free port, fresh temp data dir (removed on stop). */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { startLocalInfluxd } from '../../devtools/local-influxd.js';
import { InfluxSchema } from '../../config/schema.js';
import { InfluxQuery, type QueryOptions, type QuerySeries } from '../../gateway/influx/influx-query.js';

export interface TestInfluxd {
  url: string;
  port: number;
  /** Stops influxd and removes its data dir; safe to call twice. */
  stop(): Promise<void>;
  /** InfluxQL against database `db` (SELECT/SHOW as GET, the rest as POST). */
  query(db: string, influxql: string, opts?: QueryOptions): Promise<QuerySeries[]>;
}

/** Starts influxd on loopback (on `port`, or a free one); pair it with `onTestFinished(() => influxd.stop())` or afterAll. */
export async function startInfluxd(opts: { port?: number } = {}): Promise<TestInfluxd> {
  const dataDir = await mkdtemp(join(tmpdir(), 'storeloop-influxd-'));
  let server;
  try {
    server = await startLocalInfluxd(opts.port === undefined ? { dataDir } : { dataDir, port: opts.port });
  } catch (err) {
    await rm(dataDir, { recursive: true, force: true });
    throw err;
  }
  const { url, port } = server;
  let stopped: Promise<void> | undefined;
  return {
    url,
    port,
    stop: () => {
      stopped ??= server.stop().finally(() => rm(dataDir, { recursive: true, force: true }));
      return stopped;
    },
    query: (db, influxql, opts) => new InfluxQuery(InfluxSchema.parse({ url, api: 'v1', database: db })).query(influxql, opts),
  };
}
