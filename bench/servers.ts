/**
 * The servers under test, each a separate process on loopback: the storeloop gateway
 * (`node dist/cli/main.js gateway`) with a generated config, and Debian's mosquitto as the reference.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmod, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { freePort } from '../devtools/free-port.js';
import { urlWithLogin, type MqttLogin } from '../devtools/mqtt-login.js';
import { DEMO_STORE } from '../config/demo-store.js';
import { loadConfig } from '../config/load.js';
import type { Config } from '../config/schema.js';
import { ApiTokenStore } from '../gateway/auth/api-tokens.js';
import { secretKeyPath } from '../gateway/auth/secrets.js';
import { useApiToken } from './api-token.js';
import { delay, type ProcessGroup, type TrackedProcess } from './processes.js';
import { publisherSensorIds, SAMPLER_SENSOR_ID } from './traffic.js';

const HOST = '127.0.0.1';
const READY_TIMEOUT_MS = 30_000;
const READY_POLL_MS = 100;

export interface RunningServer {
  proc: TrackedProcess;
  /** With the bench's login in it (MQTT.js reads it from the URL): both brokers authenticate every client. */
  mqttUrl: string;
  logFile: string;
}

export interface RunningGateway extends RunningServer {
  httpUrl: string;
  /** The config the gateway runs with: the same file and environment through the same loader. */
  config: Config;
  /** `storeloop credentials add` against this gateway's state (it sees the identity at the next CONNECT). */
  addIdentity(identity: BenchIdentity): BenchLogin;
}

/** An MQTT identity for `storeloop credentials add`: its role, store scope (`*`: every store) and, for a device, its source. */
export interface BenchIdentity {
  name: string;
  role: 'device' | 'agent' | 'publisher' | 'operator';
  store: string;
  source?: string;
}

/**
 * The demo store plus the benchmark's sensors (SENSORS_PER_PUBLISHER per publisher and the sampler's),
 * spread over the demo zones, plus `extraSensors` in the first zone; `limits` replaces the bench's
 * mqtt.limits (unset ones keep the shipped defaults). JSON is valid YAML, so the gateway's loader reads it as is.
 */
export function benchConfig(publishers: number, overrides: { limits?: object; extraSensors?: string[] } = {}): object {
  const extra = (overrides.extraSensors ?? []).map((id) => ({ id, zone: DEMO_STORE.zones[0]?.id as string }));
  const sensors = [...benchSensors(publishers), ...extra].map(({ id, zone }) => ({ id, type: 'ble', zone }));
  return {
    // the demo store without its floor plan: the bench adds sensors the plan does not place, and ingest needs no plan
    stores: [{ ...demoStoreWithoutLayout(), sensors: [...(DEMO_STORE.sensors ?? []), ...sensors] }],
    mqtt: {
      // every bench client comes from 127.0.0.1: the idle-devices scenario opens 10,000 connections from it
      // and its publishers are the load: no per-client rate may slow them (the attack scenario sets its own)
      limits: overrides.limits ?? {
        maxConnections: BENCH_MAX_CONNECTIONS,
        maxConnectionsPerAddress: BENCH_MAX_CONNECTIONS,
        // the idle devices all log in as the bench's one identity
        maxConnectionsPerIdentity: BENCH_MAX_CONNECTIONS,
        maxMessagesPerSecondPerClient: 1_000_000,
        maxBytesPerSecondPerClient: 1024 ** 3,
      },
    },
    // the bench polls /metrics and the ledger every 100-500 ms from the one address
    http: { rateLimitPerMinute: 1_000_000 },
  };
}

function demoStoreWithoutLayout(): Omit<typeof DEMO_STORE, 'layout'> {
  const { layout: _layout, ...store } = DEMO_STORE;
  return store;
}

/** Connection caps of the bench's gateway: room for the idle-devices scenario's largest --devices. */
const BENCH_MAX_CONNECTIONS = 60_000;

/** The benchmark's BLE sensors (every publisher's, then the sampler's) and the demo zone each is in. */
export function benchSensors(publishers: number): Array<{ id: string; zone: string }> {
  const zones = DEMO_STORE.zones.map((z) => z.id);
  const ids = [...Array.from({ length: publishers }, (_, p) => publisherSensorIds(p)).flat(), SAMPLER_SENSOR_ID];
  return ids.map((id, i) => ({ id, zone: zones[i % zones.length] as string }));
}

/**
 * Starts the gateway as its own process against `influxUrl`, with a fresh state dir (spool, broker
 * state) under `workDir`, and resolves once GET /readyz is 200.
 */
export async function startGateway(
  group: ProcessGroup,
  opts: {
    workDir: string;
    influxUrl: string;
    database: string;
    publishers: number;
    env?: Record<string, string>;
    /** The config file's content instead of `benchConfig(publishers)`. */
    config?: object;
  },
): Promise<RunningGateway> {
  const [mqttPort, httpPort] = [await freePort(HOST), await freePort(HOST)];
  const configFile = join(opts.workDir, 'gateway-config.yaml');
  await writeFile(configFile, JSON.stringify(opts.config ?? benchConfig(opts.publishers), null, 2));
  const logFile = join(opts.workDir, 'gateway.log');
  const main = fileURLToPath(new URL('../cli/main.js', import.meta.url));
  const stateDir = await mkdtemp(join(opts.workDir, 'gateway-state-'));
  const env = {
    ...process.env,
    STORELOOP_MQTT_HOST: HOST,
    STORELOOP_MQTT_PORT: String(mqttPort),
    STORELOOP_WS_PORT: 'off',
    STORELOOP_HTTP_HOST: HOST,
    STORELOOP_HTTP_PORT: String(httpPort),
    STORELOOP_INFLUX_URL: opts.influxUrl,
    STORELOOP_INFLUX_API: 'v1',
    STORELOOP_INFLUX_DATABASE: opts.database,
    STORELOOP_STATE_DIR: stateDir,
    STORELOOP_LOG_LEVEL: 'warn',
    ...opts.env,
  };
  const config = loadConfig(configFile, env);
  // the bench's clients log in as an operator of every store, made the way an installer makes one
  const login = addIdentity(main, env, configFile, { name: 'bench', role: 'operator', store: '*' });
  const apiToken = provisionApiToken(config);
  // STORELOOP_BENCH_CPU_PROF=DIR: the gateway writes a V8 CPU profile there when it stops (where the time goes)
  const profile = process.env.STORELOOP_BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.STORELOOP_BENCH_CPU_PROF}`] : [];
  const proc = group.spawn('storeloop gateway', process.execPath, [...profile, main, 'gateway', '--config', configFile], { env, logFile });
  const httpUrl = `http://${HOST}:${httpPort}`;
  useApiToken(httpUrl, apiToken);
  await waitUntil(proc, () => httpOk(`${httpUrl}/readyz`), `GET ${httpUrl}/readyz did not answer 200`, logFile);
  return {
    proc,
    mqttUrl: urlWithLogin(`mqtt://${HOST}:${mqttPort}`, login),
    httpUrl,
    logFile,
    config,
    addIdentity: (identity) => addIdentity(main, env, configFile, identity),
  };
}

/** The bench's login at a broker (the gateway's operator identity, or mosquitto's password file entry). */
export type BenchLogin = MqttLogin;

/**
 * `storeloop credentials add`, the way an installer makes an identity. The harness's own (publishers,
 * sampler, idle devices) is `bench`, an operator of every store.
 */
function addIdentity(main: string, env: NodeJS.ProcessEnv, configFile: string, identity: BenchIdentity): BenchLogin {
  const source = identity.source === undefined ? [] : ['--source', identity.source];
  const args = [
    main,
    'credentials',
    'add',
    '--config',
    configFile,
    '--role',
    identity.role,
    '--store',
    identity.store,
    ...source,
    '--name',
    identity.name,
    '--json',
  ];
  const run = spawnSync(process.execPath, args, { env, encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`storeloop credentials add failed: ${run.stderr}`);
  const { username, password } = JSON.parse(run.stdout) as BenchLogin;
  return { username, password };
}

/** An `operator` API token in the gateway's state dir (as `storeloop tokens add` makes it), for /metrics and the ledger. */
function provisionApiToken(config: Config): string {
  const tokens = new ApiTokenStore({ file: join(config.state.dir, 'api-tokens.sqlite'), keyFile: secretKeyPath(config.state) });
  tokens.open();
  try {
    return tokens.add({ name: 'bench', scopes: ['operator'] }).token;
  } finally {
    tokens.close();
  }
}

/** The mosquitto config: loopback only, clients log in (as at the gateway), nothing persisted, queues unbounded so nothing is dropped. */
export function mosquittoConfig(port: number, logFile: string, passwordFile: string): string {
  return [
    '# written by storeloop bench/servers.ts; throwaway reference broker',
    `listener ${port} ${HOST}`,
    'allow_anonymous false',
    `password_file ${passwordFile}`,
    'persistence false',
    `log_dest file ${logFile}`,
    'log_type error',
    'log_type warning',
    '# 0 = no limit: a slow subscriber gets every QoS 1 message instead of mosquitto dropping them (default 1000)',
    'max_queued_messages 0',
    '',
  ].join('\n');
}

/** Starts `mosquitto` with a generated config and resolves once its port accepts connections. */
export async function startMosquitto(group: ProcessGroup, opts: { workDir: string; binary: string; passwd?: string }): Promise<RunningServer> {
  const port = await freePort(HOST);
  const configFile = join(opts.workDir, 'mosquitto.conf');
  const logFile = join(opts.workDir, 'mosquitto.log');
  // the same login as at the gateway: mosquitto_passwd hashes it into mosquitto's password file
  const login: BenchLogin = { username: 'bench', password: randomBytes(24).toString('base64url') };
  const passwordFile = join(opts.workDir, 'mosquitto.passwd');
  const made = spawnSync(opts.passwd ?? 'mosquitto_passwd', ['-c', '-b', passwordFile, login.username, login.password], { encoding: 'utf8' });
  if (made.status !== 0) throw new Error(`mosquitto_passwd failed: ${made.stderr || made.error?.message}`);
  await chmod(passwordFile, 0o644);
  await writeFile(configFile, mosquittoConfig(port, logFile, passwordFile));
  await writeFile(logFile, '');
  // Started as root, mosquitto drops to the `mosquitto` user before it opens its log and password files:
  // it must be able to reach them (the run's work directory above is private, so it gets traverse only)
  await chmod(dirname(opts.workDir), 0o711);
  await chmod(opts.workDir, 0o755);
  await chmod(logFile, 0o666);
  const proc = group.spawn('mosquitto', opts.binary, ['-c', configFile], { logFile: join(opts.workDir, 'mosquitto.stdout.log') });
  await waitUntil(proc, () => tcpOpen(HOST, port), `mosquitto did not listen on ${HOST}:${port}`, logFile);
  return { proc, mqttUrl: urlWithLogin(`mqtt://${HOST}:${port}`, login), logFile };
}

async function waitUntil(proc: TrackedProcess, check: () => Promise<boolean>, failure: string, logFile: string): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (let attempt = 0; Date.now() < deadline && attempt < READY_TIMEOUT_MS / READY_POLL_MS; attempt++) {
    if (proc.hasExited()) throw new Error(`${proc.name} exited during start-up. Log tail:\n${await logTail(logFile)}`);
    if (await check()) return;
    await delay(READY_POLL_MS);
  }
  throw new Error(`${failure} within ${READY_TIMEOUT_MS} ms. Log tail:\n${await logTail(logFile)}`);
}

async function httpOk(url: string): Promise<boolean> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(2_000) });
    await res.body?.cancel();
    return res.ok;
  } catch {
    return false; // not listening yet
  }
}

function tcpOpen(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    socket.setTimeout(1_000);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
  });
}

/** The last `chars` characters of a log file, or a note that it could not be read. */
export async function logTail(file: string, chars = 2_000): Promise<string> {
  try {
    return (await readFile(file, 'utf8')).slice(-chars) || '(empty log)';
  } catch (err) {
    return `(no log at ${file}: ${(err as Error).message})`;
  }
}

/** The values of a Prometheus counter or gauge, one per label set matching `labelFilter` (empty when absent). */
export function metricSamples(text: string, name: string, labelFilter?: (labels: string) => boolean): number[] {
  const values: number[] = [];
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)/.exec(line);
    if (!match || match[1] !== name) continue;
    if (labelFilter && !labelFilter(match[2] ?? '')) continue;
    values.push(Number(match[3]));
  }
  return values;
}

/** The sum of a Prometheus counter or gauge over all label sets (0 when absent). */
export function metricSum(text: string, name: string, labelFilter?: (labels: string) => boolean): number {
  return metricSamples(text, name, labelFilter).reduce((sum, value) => sum + value, 0);
}

/** First line of a command's output (stdout, else stderr), for the machine facts. */
export function commandVersion(command: string, args: string[]): string {
  const out = spawnSync(command, args, { encoding: 'utf8', timeout: 5_000 });
  const text = `${out.stdout ?? ''}\n${out.stderr ?? ''}`.split('\n').find((l) => l.trim() !== '');
  return text?.trim() ?? `unknown (${out.error?.message ?? `exit ${String(out.status)}`})`;
}
