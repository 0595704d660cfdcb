/**
 * Runs a throwaway InfluxDB 1.x (`influxd`) on loopback for the demo and for tests: its own config,
 * data directory, free ports and log file. Detection only; installing influxd is the caller's job.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants as fsConstants, openSync, closeSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { delimiter, join } from 'node:path';

import { freePort } from './free-port.js';

export interface LocalInfluxd {
  url: string;
  port: number;
  pid: number;
  /** SIGTERM, wait for exit (SIGKILL after 5 s). Safe to call twice. */
  stop(): Promise<void>;
}

export interface LocalInfluxdOptions {
  dataDir: string;
  /** HTTP port; a free one is picked when omitted. */
  port?: number;
  log?: (msg: string) => void;
}

const HOST = '127.0.0.1';
const FALLBACK_PATHS = ['/usr/bin/influxd', '/usr/sbin/influxd'];
const READY_TIMEOUT_MS = 20_000;
const STOP_GRACE_MS = 5_000;
const LOG_TAIL_CHARS = 2_000;
/** Retries when another process grabbed a port between `freePort()` and influxd's bind. */
const MAX_START_ATTEMPTS = 3;

/** Finds an executable `influxd` on PATH or in the Debian locations; undefined when none. */
export function findInfluxd(pathEnv = process.env['PATH'] ?? ''): string | undefined {
  const candidates = [
    ...pathEnv
      .split(delimiter)
      .filter((dir) => dir !== '')
      .map((dir) => join(dir, 'influxd')),
    ...FALLBACK_PATHS,
  ];
  return candidates.find(isExecutable);
}

function isExecutable(file: string): boolean {
  try {
    accessSync(file, fsConstants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The influxd 1.x TOML config: everything on loopback, only the HTTP service, quiet logs. */
export function renderInfluxdConfig(opts: { dataDir: string; httpPort: number; rpcPort: number }): string {
  const dir = (name: string) => JSON.stringify(join(opts.dataDir, name));
  return `# written by storeloop (cli/local-influxd.ts); throwaway instance
reporting-disabled = true
# backup/restore RPC service: its own port, the default 8088 would clash between instances
bind-address = "${HOST}:${opts.rpcPort}"

[meta]
  dir = ${dir('meta')}
  logging-enabled = false

[data]
  dir = ${dir('data')}
  wal-dir = ${dir('wal')}
  query-log-enabled = false

[monitor]
  store-enabled = false

[subscriber]
  enabled = false

[continuous_queries]
  enabled = false

[http]
  enabled = true
  bind-address = "${HOST}:${opts.httpPort}"
  auth-enabled = false
  log-enabled = false
  pprof-enabled = false

[logging]
  level = "warn"
  suppress-logo = true

[[graphite]]
  enabled = false

[[collectd]]
  enabled = false

[[opentsdb]]
  enabled = false

[[udp]]
  enabled = false
`;
}

/** Starts influxd with a config in `dataDir` and resolves once GET /ping answers 204. */
export async function startLocalInfluxd(opts: LocalInfluxdOptions): Promise<LocalInfluxd> {
  const binary = findInfluxd();
  if (binary === undefined) {
    throw new Error(
      'influxd not found (looked on PATH, /usr/bin/influxd and /usr/sbin/influxd). ' +
        'Install InfluxDB 1.x with `sudo apt-get install -y influxdb` on Debian/Ubuntu, ' +
        'or point STORELOOP_INFLUX_URL at an existing InfluxDB instead of starting a local one.',
    );
  }
  await mkdir(opts.dataDir, { recursive: true });
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce(binary, opts);
    } catch (err) {
      const portClash = err instanceof Error && /address already in use/i.test(err.message);
      if (!portClash || opts.port !== undefined || attempt >= MAX_START_ATTEMPTS) throw err;
      opts.log?.(`influxd: port taken before it could bind, retrying (attempt ${attempt + 1})`);
    }
  }
}

async function startOnce(binary: string, opts: LocalInfluxdOptions): Promise<LocalInfluxd> {
  const httpPort = opts.port ?? (await freePort(HOST));
  let rpcPort = await freePort(HOST);
  while (rpcPort === httpPort) rpcPort = await freePort(HOST);
  const configPath = join(opts.dataDir, 'influxd.conf');
  const logPath = join(opts.dataDir, 'influxd.log');
  await writeFile(configPath, renderInfluxdConfig({ dataDir: opts.dataDir, httpPort, rpcPort }));

  const logFd = openSync(logPath, 'a');
  let child: ChildProcess;
  try {
    // its own process group: a Ctrl-C in the terminal reaches storeloop, which stops influxd last, after the gateway flushed
    child = spawn(binary, ['-config', configPath], { stdio: ['ignore', logFd, logFd], detached: true });
  } finally {
    closeSync(logFd); // the child holds its own copy
  }
  const url = `http://${HOST}:${httpPort}`;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
  const spawnError = new Promise<Error>((resolve) => child.once('error', resolve));
  // Never leave an orphan influxd behind when the parent process exits without calling stop().
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);

  const gone = Promise.race([exited, spawnError]);
  const stop = createStop(child, gone, () => process.removeListener('exit', killOnExit));
  opts.log?.(`influxd: starting ${binary} on ${url} (data in ${opts.dataDir})`);
  try {
    await waitUntilReady(url, configPath, exited, spawnError, logPath);
  } catch (err) {
    await stop();
    throw err;
  }
  if (child.pid === undefined) throw new Error('influxd started without a pid');
  opts.log?.(`influxd: ready on ${url} (pid ${child.pid})`);
  return { url, port: httpPort, pid: child.pid, stop };
}

function createStop(child: ChildProcess, exited: Promise<unknown>, cleanup: () => void): () => Promise<void> {
  let stopping: Promise<void> | undefined;
  return () => {
    stopping ??= (async () => {
      if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
        await exited;
        clearTimeout(timer);
      }
      cleanup();
    })();
    return stopping;
  };
}

async function waitUntilReady(
  url: string,
  configPath: string,
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>,
  spawnError: Promise<Error>,
  logPath: string,
): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  let dead: string | undefined;
  void exited.then(({ code, signal }) => (dead = `exited with ${signal ?? `code ${code}`}`));
  void spawnError.then((err) => (dead = `could not be spawned: ${err.message}`));
  while (Date.now() < deadline) {
    if (dead !== undefined) throw new Error(`influxd ${dead} before answering /ping. Log tail:\n${await logTail(logPath)}`);
    if ((await pingOnce(url)) && (await isOurs(url, configPath))) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`influxd did not answer GET ${url}/ping within ${READY_TIMEOUT_MS} ms. Log tail:\n${await logTail(logPath)}`);
}

async function pingOnce(url: string): Promise<boolean> {
  try {
    const res = await fetch(`${url}/ping`, { signal: AbortSignal.timeout(1_000) });
    await res.body?.cancel();
    return res.status === 204;
  } catch {
    return false; // not listening yet
  }
}

/**
 * Whether the influxd answering on `url` is the one started with `configPath`: another process may
 * hold the port (then ours exits with "address already in use"). 1.x's expvar page lists its argv.
 */
async function isOurs(url: string, configPath: string): Promise<boolean> {
  try {
    const res = await fetch(`${url}/debug/vars`, { signal: AbortSignal.timeout(1_000) });
    const vars = (await res.json()) as { cmdline?: unknown };
    return Array.isArray(vars.cmdline) && vars.cmdline.includes(configPath);
  } catch {
    return false;
  }
}

async function logTail(logPath: string): Promise<string> {
  try {
    const text = await readFile(logPath, 'utf8');
    return text.slice(-LOG_TAIL_CHARS) || '(empty log)';
  } catch (err) {
    return `(no log at ${logPath}: ${(err as Error).message})`;
  }
}
