/**
 * The edge agent as a separate process (`node <build>/cli/main.js edge --config …`), as it runs on a
 * store box, so a test can `kill -9` it with a full queue and start it again on the same queue dir and
 * ingress port. The build is private to the test file (test/helpers/private-build.ts).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { stringify } from 'yaml';

import { freePort } from '../../cli/free-port.js';
import { demoEdgeConfig } from './edge-agent.js';
import type { PrivateBuild } from './private-build.js';

export class EdgeAgentProcess {
  private child: ChildProcess | undefined;
  private output = '';

  private constructor(
    readonly dir: string,
    readonly ingressPort: number,
    readonly configFile: string,
    private readonly main: string,
  ) {}

  /** Writes an edge.yaml for agent edge-1 of the demo store (plus `overrides`) into a fresh dir holding its queue. */
  static async create(build: PrivateBuild, gatewayUrl: string, overrides: Record<string, unknown> = {}): Promise<EdgeAgentProcess> {
    const dir = await mkdtemp(join(tmpdir(), 'storeloop-edge-proc-'));
    const ingressPort = await freePort();
    const config = demoEdgeConfig(gatewayUrl, join(dir, 'queue'), { sources: { ingress: { host: '127.0.0.1', port: ingressPort } }, log: { level: 'info' }, ...overrides });
    const configFile = join(dir, 'edge.yaml');
    await writeFile(configFile, stringify(config));
    return new EdgeAgentProcess(dir, ingressPort, configFile, join(build.dir, 'cli', 'main.js'));
  }

  get ingressUrl(): string {
    return `http://127.0.0.1:${this.ingressPort}`;
  }

  get queueDir(): string {
    return join(this.dir, 'queue');
  }

  /** Everything the process wrote to stdout and stderr (its pino log). */
  get log(): string {
    return this.output;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Spawns the agent and waits until its ingress answers /healthz. */
  async start(env: Record<string, string> = {}): Promise<void> {
    const child = spawn(process.execPath, [this.main, 'edge', '--config', this.configFile], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
    this.child = child;
    child.stdout?.on('data', (d: Buffer) => (this.output += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (this.output += d.toString()));
    for (let i = 0; i < 300; i++) {
      if (child.exitCode !== null) throw new Error(`edge agent exited with ${child.exitCode}:\n${this.output.slice(-2000)}`);
      const up = await fetch(`${this.ingressUrl}/healthz`).then((r) => r.ok, () => false);
      if (up) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`edge agent did not answer /healthz:\n${this.output.slice(-2000)}`);
  }

  /** GET /v1/status on the ingress: the agent's own view (queue, publisher, clock, config). */
  async localStatus(): Promise<{ status: Record<string, unknown>; queue: { depth: number; counts: { shed: Record<string, number> } }; publisher: { connected: boolean } }> {
    return (await (await fetch(`${this.ingressUrl}/v1/status`)).json()) as Awaited<ReturnType<EdgeAgentProcess['localStatus']>>;
  }

  /** SIGKILL: no flush, no goodbye, no offline status; what the ingress acknowledged must survive. */
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

  async destroy(): Promise<void> {
    await this.kill9();
    await rm(this.dir, { recursive: true, force: true });
  }
}
