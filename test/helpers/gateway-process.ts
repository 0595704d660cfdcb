/**
 * The gateway as a separate process (`node <build>/cli/main.js gateway`), as it runs in a store, so a
 * test can `kill -9` it and start it again on the same ports and state dir. The build is private to
 * the test file (test/helpers/private-build.ts), so no concurrent `tsc` rewrites it under the child.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { stringify } from 'yaml';

import { freePort } from '../../cli/free-port.js';
import { DEMO_STORE } from '../../config/index.js';

import type { PrivateBuild } from './private-build.js';

export interface GatewayLedger {
  balanced: boolean;
  totals: { received: number; recovered: number; states: Record<string, number>; rejectedBy: Record<string, number> };
  delivery: { mode: string; spool: { pendingMessages: number; pendingBytes: number; full: boolean } };
}

export class GatewayProcess {
  private child: ChildProcess | undefined;
  private output = '';

  private constructor(
    readonly dir: string,
    readonly ports: { mqtt: number; ws: number; http: number },
    private readonly configFile: string,
    private readonly main: string,
  ) {}

  /** Writes a config (demo store plus `overrides`) into a fresh dir; the state dir lives there too. */
  static async create(build: PrivateBuild, influxUrl: string, overrides: Record<string, unknown> = {}): Promise<GatewayProcess> {
    const dir = await mkdtemp(join(tmpdir(), 'storeloop-gw-'));
    const ports = { mqtt: await freePort(), ws: await freePort(), http: await freePort() };
    const config = {
      mqtt: { host: '127.0.0.1', port: ports.mqtt, wsPort: ports.ws },
      http: { host: '127.0.0.1', port: ports.http },
      influx: { url: influxUrl, api: 'v1', database: 'proof', flushIntervalMs: 20, maxRetryDelayMs: 200, maxRetries: 2, timeoutMs: 2000 },
      state: { dir: join(dir, 'state') },
      log: { level: 'warn' },
      stores: [DEMO_STORE],
      ...overrides,
    };
    const configFile = join(dir, 'storeloop.yaml');
    await writeFile(configFile, stringify(config));
    return new GatewayProcess(dir, ports, configFile, join(build.dir, 'cli', 'main.js'));
  }

  get mqttUrl(): string {
    return `mqtt://127.0.0.1:${this.ports.mqtt}`;
  }

  get httpUrl(): string {
    return `http://127.0.0.1:${this.ports.http}`;
  }

  get log(): string {
    return this.output;
  }

  /** Spawns the gateway and waits until its HTTP API answers (not necessarily ready: InfluxDB may be down). */
  async start(): Promise<void> {
    const child = spawn(process.execPath, [this.main, 'gateway', '--config', this.configFile], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    child.stdout?.on('data', (d: Buffer) => (this.output += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (this.output += d.toString()));
    for (let i = 0; i < 200; i++) {
      if (child.exitCode !== null) throw new Error(`gateway exited with ${child.exitCode}:\n${this.output.slice(-2000)}`);
      const up = await fetch(`${this.httpUrl}/healthz`).then((r) => r.ok, () => false);
      if (up) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`gateway did not answer /healthz:\n${this.output.slice(-2000)}`);
  }

  /** SIGKILL: no flush, no goodbye; what was acknowledged must survive. */
  async kill9(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await exited;
    this.child = undefined;
  }

  /** SIGTERM and the exit code. */
  async stop(): Promise<number | null> {
    const child = this.child;
    if (!child || child.exitCode !== null) return child?.exitCode ?? null;
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    child.kill('SIGTERM');
    const code = await exited;
    this.child = undefined;
    return code;
  }

  async ledger(): Promise<GatewayLedger> {
    return (await (await fetch(`${this.httpUrl}/api/v1/ledger`)).json()) as GatewayLedger;
  }

  async destroy(): Promise<void> {
    await this.kill9();
    await rm(this.dir, { recursive: true, force: true });
  }
}
