/**
 * The edge agent as a separate process (`node <build>/cli/main.js edge --config …`), as it runs on a
 * store box, so a test can `kill -9` it with a full queue and start it again on the same queue dir and
 * ingress port. It runs the run's one build (test/helpers/test-build.ts).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { stringify } from 'yaml';

import { freePort } from '../../devtools/free-port.js';
import { demoEdgeConfig } from './edge-agent.js';
import type { TestBuild } from './test-build.js';
import { ChildService } from './child-service.js';

export class EdgeAgentProcess {
  private readonly process = new ChildService('edge agent');

  private constructor(
    readonly dir: string,
    readonly ingressPort: number,
    readonly configFile: string,
    private readonly main: string,
  ) {}

  /** Writes an edge.yaml for agent edge-1 of the demo store (plus `overrides`) into a fresh dir holding its queue. */
  static async create(build: TestBuild, gatewayUrl: string, overrides: Record<string, unknown> = {}): Promise<EdgeAgentProcess> {
    const dir = await mkdtemp(join(tmpdir(), 'storeloop-edge-proc-'));
    const ingressPort = await freePort();
    const config = demoEdgeConfig(gatewayUrl, join(dir, 'queue'), {
      sources: { ingress: { host: '127.0.0.1', port: ingressPort } },
      log: { level: 'info' },
      ...overrides,
    });
    const configFile = join(dir, 'edge.yaml');
    await writeFile(configFile, stringify(config));
    return new EdgeAgentProcess(dir, ingressPort, configFile, build.cliMain);
  }

  get ingressUrl(): string {
    return `http://127.0.0.1:${this.ingressPort}`;
  }

  get queueDir(): string {
    return join(this.dir, 'queue');
  }

  /** Everything the process wrote to stdout and stderr (its pino log). */
  get log(): string {
    return this.process.log;
  }

  get pid(): number | undefined {
    return this.process.pid;
  }

  /** Spawns the agent and waits until its ingress answers /healthz. */
  start(env: Record<string, string> = {}): Promise<void> {
    return this.process.start([this.main, 'edge', '--config', this.configFile], `${this.ingressUrl}/healthz`, { env, attempts: 300 });
  }

  /** GET /v1/status on the ingress: the agent's own view (queue, publisher, clock, config). */
  async localStatus(): Promise<{
    status: Record<string, unknown>;
    queue: { depth: number; counts: { shed: Record<string, number> } };
    publisher: { connected: boolean };
  }> {
    return (await (await fetch(`${this.ingressUrl}/v1/status`)).json()) as Awaited<ReturnType<EdgeAgentProcess['localStatus']>>;
  }

  /** SIGKILL: no flush, no goodbye, no offline status; what the ingress acknowledged must survive. */
  kill9(): Promise<void> {
    return this.process.kill9();
  }

  /** SIGTERM and the exit code. */
  stop(): Promise<number | null> {
    return this.process.stop();
  }

  async destroy(): Promise<void> {
    await this.kill9();
    await rm(this.dir, { recursive: true, force: true });
  }
}
