/**
 * What the edge agent emitted, collected for the privacy proof (test/edge-e2e-privacy.int.test.ts):
 * every MQTT message on the gateway, every InfluxDB row of the run's database, every byte under a
 * directory (the agent's queue, torn/ included), the HTTP answers the agent gave, and the agent's own
 * stdout/stderr when it runs as `storeloop edge` in a child process, and every byte it sent to the
 * gateway over TCP (WireRelay, which also plays the outage that makes the agent queue on disk). Also
 * the raw side, for the control: what the mock BlueZ holds, as `gdbus` prints it; and a torn write
 * at the queue's tail, as a power cut leaves it, so torn/ holds real record bytes.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { appendFile, readdir, readFile, writeFile } from 'node:fs/promises';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';

import type { MqttClient } from 'mqtt';
import { stringify } from 'yaml';

import { connectClient } from './gateway.js';
import type { TestInfluxd } from './influxd.js';
import type { TestBuild } from './test-build.js';

export interface CapturedMessage {
  topic: string;
  payload: string;
  retain: boolean;
}

/** A subscriber to `filter` on the gateway that keeps every message, retained ones included. */
export class TopicRecorder {
  readonly messages: CapturedMessage[] = [];

  private constructor(private readonly client: MqttClient) {}

  static async start(url: string, filter: string, clientId: string): Promise<TopicRecorder> {
    const client = await connectClient(url, { clientId });
    const recorder = new TopicRecorder(client);
    client.on('message', (topic, payload, packet) => recorder.messages.push({ topic, payload: payload.toString('utf8'), retain: packet.retain }));
    await client.subscribeAsync(filter, { qos: 1 });
    return recorder;
  }

  on(topic: string): CapturedMessage[] {
    return this.messages.filter((m) => m.topic === topic);
  }

  text(): string {
    return this.messages.map((m) => `${m.topic} ${m.payload}`).join('\n');
  }

  async stop(): Promise<void> {
    await this.client.endAsync();
  }
}

/**
 * A TCP relay on loopback between the agent and the gateway's MQTT port. Until `open()` nothing
 * listens on its port, so the gateway is unreachable and the agent keeps everything in its queue;
 * once open, it forwards both ways and keeps every byte the agent sent.
 */
export class WireRelay {
  private readonly sent: Buffer[] = [];
  private readonly sockets = new Set<Socket>();
  private server: Server | undefined;

  constructor(
    readonly port: number,
    private readonly target: { host: string; port: number },
  ) {}

  get url(): string {
    return `mqtt://127.0.0.1:${this.port}`;
  }

  async open(): Promise<void> {
    const server = createServer((agent) => {
      const gateway = connect(this.target.port, this.target.host);
      for (const socket of [agent, gateway]) {
        this.sockets.add(socket);
        socket.on('close', () => this.sockets.delete(socket));
      }
      agent.on('data', (chunk: Buffer) => this.sent.push(chunk));
      agent.on('error', () => gateway.destroy());
      gateway.on('error', () => agent.destroy());
      agent.on('close', () => gateway.destroy());
      gateway.on('close', () => agent.destroy());
      agent.pipe(gateway);
      gateway.pipe(agent);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host: '127.0.0.1', port: this.port }, () => resolve());
    });
    this.server = server;
  }

  /** The bytes the agent sent, as latin1 text and as hex. */
  text(): string {
    const bytes = Buffer.concat(this.sent);
    return `${bytes.toString('latin1')}\n${bytes.toString('hex')}`;
  }

  get sentBytes(): number {
    return this.sent.reduce((n, chunk) => n + chunk.length, 0);
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    const server = this.server;
    this.server = undefined;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

export type Row = Record<string, unknown>;

/** Rows of one InfluxQL query as objects keyed by column (`time` in epoch ms). */
export async function queryRows(influxd: TestInfluxd, database: string, influxql: string): Promise<Row[]> {
  const series = await influxd.query(database, influxql, { epoch: 'ms' });
  return series.flatMap((s) => s.values.map((values) => Object.fromEntries(s.columns.map((column, i) => [column, values[i]]))));
}

/** Every row of every measurement in the database, tags and fields, as JSON lines. */
export async function dumpDatabase(influxd: TestInfluxd, database: string): Promise<{ measurements: string[]; rows: number; text: string }> {
  const measurements = (await influxd.query(database, 'SHOW MEASUREMENTS'))[0]?.values.map((v) => String(v[0])) ?? [];
  const lines: string[] = [];
  for (const measurement of measurements) {
    for (const row of await queryRows(influxd, database, `SELECT * FROM "${measurement}"`)) lines.push(`${measurement} ${JSON.stringify(row)}`);
  }
  return { measurements, rows: lines.length, text: lines.join('\n') };
}

/** Every file under `dir` (recursively): its bytes as latin1 text and as hex, so a raw MAC written as text or as six bytes is found. */
export async function readTree(dir: string): Promise<{ files: string[]; bytes: number; text: string }> {
  const files: string[] = [];
  const parts: string[] = [];
  let bytes = 0;
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile()) continue;
    const path = join(entry.parentPath, entry.name);
    const content = await readFile(path);
    files.push(path);
    bytes += content.length;
    parts.push(`${path}\n${content.toString('latin1')}\n${content.toString('hex')}`);
  }
  return { files, bytes, text: parts.join('\n') };
}

/** org.freedesktop.DBus.ObjectManager.GetManagedObjects of the mock BlueZ: every object path and property, as text. */
export function bluezObjects(busAddress: string): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      'gdbus',
      ['call', '--address', busAddress, '--dest', 'org.bluez', '--object-path', '/', '--method', 'org.freedesktop.DBus.ObjectManager.GetManagedObjects'],
      { timeout: 10_000, maxBuffer: 16 * 1024 * 1024 },
      (err, stdout, stderr) => {
        if (err) reject(new Error(`gdbus GetManagedObjects failed: ${stderr.trim() || err.message}`));
        else resolve(stdout);
      },
    );
  });
}

/** Spool record header (lib/spool/README.md): magic "LS", version, flags, u32 payload length at 4, crc, seq, appendedAt. */
const RECORD_HEADER_BYTES = 28;
const RECORD_MAGIC = 0x534c;

/**
 * Appends a torn copy of the queue's last record (all but its last `cutBytes`) to the newest segment,
 * as a power cut in the middle of a write leaves it. The agent must set it aside under torn/ at its
 * next start; the complete original stays in front of it, so no message is lost.
 */
export async function tearQueueTail(spoolDir: string, cutBytes = 5): Promise<{ segment: string; offset: number; bytes: number }> {
  const segment = (await readdir(spoolDir))
    .filter((name) => name.endsWith('.seg'))
    .sort()
    .at(-1);
  if (segment === undefined) throw new Error(`no segment in ${spoolDir}`);
  const path = join(spoolDir, segment);
  const content = await readFile(path);
  let offset = 0;
  let last = -1;
  while (offset + RECORD_HEADER_BYTES <= content.length && content.readUInt16LE(offset) === RECORD_MAGIC) {
    const end = offset + RECORD_HEADER_BYTES + content.readUInt32LE(offset + 4);
    if (end > content.length) break;
    last = offset;
    offset = end;
  }
  if (last < 0 || offset !== content.length) throw new Error(`${path}: expected whole records only (${offset} of ${content.length} bytes parsed)`);
  const torn = content.subarray(last, offset - cutBytes);
  await appendFile(path, torn);
  return { segment, offset, bytes: torn.length };
}

/** An HTTP exchange with the agent, kept whole (status, headers, body) for the scan. */
export interface Answer {
  request: string;
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** Sends a request and records the agent's answer in `into`. */
export async function exchange(into: Answer[], method: 'GET' | 'POST', url: string, body?: string, headers: Record<string, string> = {}): Promise<Answer> {
  const res = await fetch(url, {
    method,
    headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
    ...(body === undefined ? {} : { body }),
    signal: AbortSignal.timeout(10_000),
  });
  const answer: Answer = {
    request: `${method} ${new URL(url).pathname}`,
    status: res.status,
    headers: Object.fromEntries(res.headers),
    body: await res.text(),
  };
  into.push(answer);
  return answer;
}

/**
 * `storeloop edge --config FILE` from the run's build, with its stdout and stderr kept apart and in
 * full: the agent's pino log is everything it writes. The config is written as given.
 */
export class EdgeE2eAgentProcess {
  stdout = '';
  stderr = '';
  private child: ChildProcess | undefined;

  private constructor(
    private readonly main: string,
    readonly configFile: string,
    readonly ingressUrl: string,
  ) {}

  /** Writes `config` as YAML to `<dir>/edge.yaml`; `ingressPort` must be its sources.ingress.port (also in every later `rewrite`). */
  static async create(build: TestBuild, dir: string, config: Record<string, unknown>, ingressPort: number): Promise<EdgeE2eAgentProcess> {
    const configFile = join(dir, 'edge.yaml');
    await writeFile(configFile, stringify(config));
    return new EdgeE2eAgentProcess(build.cliMain, configFile, `http://127.0.0.1:${ingressPort}`);
  }

  /** Replaces the config file, for the next start. */
  async rewrite(config: Record<string, unknown>): Promise<void> {
    await writeFile(this.configFile, stringify(config));
  }

  /** Spawns the agent with `env` added and waits until its ingress answers /healthz (the sources have started by then). */
  async start(env: Record<string, string>): Promise<void> {
    const child = spawn(process.execPath, [this.main, 'edge', '--config', this.configFile], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...env },
    });
    this.child = child;
    child.stdout?.on('data', (d: Buffer) => (this.stdout += d.toString('utf8')));
    child.stderr?.on('data', (d: Buffer) => (this.stderr += d.toString('utf8')));
    for (let i = 0; i < 400; i++) {
      if (child.exitCode !== null) throw new Error(`edge agent exited with ${child.exitCode}:\n${this.output().slice(-3000)}`);
      if (
        await fetch(`${this.ingressUrl}/healthz`).then(
          (r) => r.ok,
          () => false,
        )
      )
        return;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`edge agent did not answer /healthz:\n${this.output().slice(-3000)}`);
  }

  output(): string {
    return `${this.stdout}\n${this.stderr}`;
  }

  /** SIGKILL, as a power cut: no flush, no goodbye. Its output so far stays in stdout/stderr. */
  async kill9(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const closed = new Promise<void>((resolve) => child.once('close', () => resolve()));
    child.kill('SIGKILL');
    await closed;
  }

  /** SIGTERM; resolves with the exit code once the process has exited and its pipes are drained. */
  async stop(): Promise<number | null> {
    const child = this.child;
    if (!child) return null;
    this.child = undefined;
    if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
    const closed = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
    child.kill('SIGTERM');
    const killer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    const code = await closed;
    clearTimeout(killer);
    return code;
  }
}
