/** A real influxd that can be stopped and started again on the same port and data dir (outage tests). */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { freePort } from '../../devtools/free-port.js';
import { startLocalInfluxd, type LocalInfluxd } from '../../devtools/local-influxd.js';
import { InfluxSchema } from '../../config/schema.js';
import { InfluxQuery, type QueryOptions, type QuerySeries } from '../../gateway/influx/influx-query.js';

export class RestartableInfluxd {
  private server: LocalInfluxd | undefined;

  private constructor(
    readonly dataDir: string,
    readonly port: number,
  ) {}

  static async create(options: { running?: boolean } = {}): Promise<RestartableInfluxd> {
    const influxd = new RestartableInfluxd(await mkdtemp(join(tmpdir(), 'storeloop-influxd-')), await freePort());
    if (options.running ?? true) await influxd.start();
    return influxd;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    this.server ??= await startLocalInfluxd({ dataDir: this.dataDir, port: this.port });
  }

  /** SIGSTOP: influxd hangs, connections stay open and nothing answers (a stalled database). */
  pause(): void {
    if (this.server) process.kill(this.server.pid, 'SIGSTOP');
  }

  resume(): void {
    if (this.server) process.kill(this.server.pid, 'SIGCONT');
  }

  /** Stops the process; the data stays for the next start(). */
  async stop(): Promise<void> {
    await this.server?.stop();
    this.server = undefined;
  }

  async destroy(): Promise<void> {
    await this.stop();
    await rm(this.dataDir, { recursive: true, force: true });
  }

  query(db: string, influxql: string, opts?: QueryOptions): Promise<QuerySeries[]> {
    return new InfluxQuery(InfluxSchema.parse({ url: this.url, api: 'v1', database: db })).query(influxql, opts);
  }
}
