/**
 * The gateway as a separate process (`node <build>/cli/main.js gateway`), as it runs in a store, so a
 * test can `kill -9` it and start it again on the same ports and state dir. It runs the run's one
 * build (test/helpers/test-build.ts). An `admin` API token is made in its state dir before it first
 * starts, as `storeloop tokens add` would; `api(path)` sends it.
 */
import { provisionIdentity, urlWithLogin, type MqttLogin } from './mqtt-identity.js';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { stringify } from 'yaml';

import { freePort } from '../../devtools/free-port.js';
import { DEMO_STORE } from '../../config/index.js';
import { ApiTokenStore } from '../../gateway/auth/api-tokens.js';
import { secretKeyPath } from '../../gateway/auth/secrets.js';

import { ChildService } from './child-service.js';
import { apiFetch, useApiToken } from './gateway.js';
import type { TestBuild } from './test-build.js';

export interface SinkState {
  name: string;
  holdsBackIngest: boolean;
  position: number;
  replay: { at: number; until: number } | null;
  lag: { records: number; bytes: number; seconds: number };
  health: { state: string; detail?: string };
  ledger: { logged: number; pending: number; delivered: number; dead_lettered: number; filtered: number; expired: number; replayed: number; balanced: boolean };
}

export interface GatewayLedger {
  balanced: boolean;
  totals: { received: number; states: Record<string, number>; rejectedBy: Record<string, number> };
  log: { headSeq: number; retainedRecords: number; retainedBytes: number; unconsumedBytes: number; quotaBytes: number; full: boolean; fsyncs: number };
  sinks: SinkState[];
}

/** The InfluxDB sink's state in a ledger answer. */
export function influxSink(ledger: Pick<GatewayLedger, 'sinks'>): SinkState {
  const sink = ledger.sinks.find((s) => s.name === 'influx');
  if (!sink) throw new Error(`no influx sink in ${JSON.stringify(ledger.sinks.map((s) => s.name))}`);
  return sink;
}

export class GatewayProcess {
  private readonly process = new ChildService('gateway');

  private constructor(
    readonly dir: string,
    readonly ports: { mqtt: number; ws: number; http: number },
    private readonly configFile: string,
    private readonly main: string,
    private readonly operator: MqttLogin,
    /** An API token with the `admin` scope. */
    readonly apiToken: string,
  ) {
    useApiToken(this.httpUrl, apiToken);
  }

  /** Writes a config (demo store plus `overrides`) into a fresh dir; the state dir lives there too. */
  static async create(build: TestBuild, influxUrl: string, overrides: Record<string, unknown> = {}): Promise<GatewayProcess> {
    const dir = await mkdtemp(join(tmpdir(), 'storeloop-gw-'));
    const ports = { mqtt: await freePort(), ws: await freePort(), http: await freePort() };
    const config = {
      mqtt: { host: '127.0.0.1', port: ports.mqtt, wsPort: ports.ws },
      http: { host: '127.0.0.1', port: ports.http, rateLimitPerMinute: 1_000_000 },
      influx: { url: influxUrl, api: 'v1', database: 'proof', timeoutMs: 2000 },
      state: { dir: join(dir, 'state') },
      log: { level: 'warn' },
      stores: [DEMO_STORE],
      ...overrides,
    };
    const configFile = join(dir, 'storeloop.yaml');
    await writeFile(configFile, stringify(config));
    // an operator identity and an admin token in the state dir before the first start (the gateway reads them there)
    const operator = provisionIdentity({ dir: join(dir, 'state') }, { name: 'test-operator', role: 'operator', stores: '*' });
    const state = config.state as { dir: string; secretKeyFile?: string };
    const tokens = new ApiTokenStore({ file: join(state.dir, 'api-tokens.sqlite'), keyFile: secretKeyPath(state) });
    tokens.open();
    try {
      const { token } = tokens.add({ name: 'test-admin', scopes: ['admin'] });
      return new GatewayProcess(dir, ports, configFile, build.cliMain, operator, token);
    } finally {
      tokens.close();
    }
  }

  /** fetch() of a path of the gateway's HTTP API with the admin token. */
  api(path: string, init?: RequestInit): Promise<Response> {
    return apiFetch(this.httpUrl, path, init);
  }

  /** The MQTT address with the test operator's credentials in it (MQTT.js reads them from the URL). */
  get mqttUrl(): string {
    return urlWithLogin(`mqtt://127.0.0.1:${this.ports.mqtt}`, this.operator);
  }

  get httpUrl(): string {
    return `http://127.0.0.1:${this.ports.http}`;
  }

  get log(): string {
    return this.process.log;
  }

  /** Spawns the gateway and waits until its HTTP API answers (not necessarily ready: InfluxDB may be down). */
  start(): Promise<void> {
    return this.process.start([this.main, 'gateway', '--config', this.configFile], `${this.httpUrl}/healthz`);
  }

  /** SIGKILL: no flush, no goodbye; what was acknowledged must survive. */
  kill9(): Promise<void> {
    return this.process.kill9();
  }

  /** SIGTERM and the exit code. */
  stop(): Promise<number | null> {
    return this.process.stop();
  }

  async ledger(): Promise<GatewayLedger> {
    return (await (await this.api('/api/v1/ledger')).json()) as GatewayLedger;
  }

  async destroy(): Promise<void> {
    await this.kill9();
    await rm(this.dir, { recursive: true, force: true });
  }
}
