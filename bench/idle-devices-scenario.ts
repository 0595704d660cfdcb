/**
 * Many idle devices on one server: N MQTT connections opened at a bounded rate by a few idle-client
 * processes, held through a keepalive period plus a margin (so every connection exchanges at least
 * one PINGREQ/PINGRESP), then the server's resident memory and its own connection count are read.
 * The storeloop gateway runs as shipped (with influxd, which its readiness needs); mosquitto with
 * the same connections is the reference.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

import { startLocalInfluxd } from '../devtools/local-influxd.js';
import { spawnBenchChild, type BenchChild } from './children.js';
import type { IdleClientSpec } from './idle-client.js';
import type { IdleClientResult } from './ipc.js';
import { LatencyHistogram } from './percentiles.js';
import { ProcessWatch, readMemory, type ProcessUsage } from './proc-stats.js';
import { delay } from './processes.js';
import { BENCH_DATABASE, type Check, type IdleFigures, type Scenario, type ScenarioContext, type ScenarioResult } from './scenario.js';
import { fetchText } from './gateway-api.js';
import { logTail, metricSamples, startGateway, startMosquitto, type RunningServer } from './servers.js';
import { countEstablished } from './tcp-sockets.js';

/** Total connection rate over all idle-client processes, so the server's accept backlog is never overrun. */
export const CONNECTS_PER_SECOND = 1_000;
/** Connections per idle-client process. */
const DEVICES_PER_PROCESS = 2_500;
/** Held this long past one keepalive period after the last connection came up. */
const HOLD_MARGIN_MS = 5_000;
const CONNACK_TIMEOUT_MS = 15_000;
/** Before the baseline RSS: let the freshly started server finish starting up. */
const SETTLE_BEFORE_BASELINE_MS = 2_000;
/** File descriptors a server needs on top of one per connection (listeners, logs, its own files). */
const FD_HEADROOM = 1_000;
const CLIENTS_METRIC = 'storeloop_mqtt_clients';
const MB = 1024 * 1024;

type IdleServer = 'storeloop' | 'mosquitto';

export function idleDevicesScenario(spec: { id: string; title: string; role: 'subject' | 'reference'; server: IdleServer }): Scenario {
  return {
    id: spec.id,
    title: spec.title,
    role: spec.role,
    requires: spec.server === 'storeloop' ? [{ program: 'influxd', debianPackage: 'influxdb' }] : [{ program: 'mosquitto', debianPackage: 'mosquitto' }],
    run: (ctx) => runIdleDevices(ctx, spec),
  };
}

interface StartedServer {
  name: string;
  server: RunningServer;
  /** The server's own count of connected clients; undefined when it has none to read. */
  reportedClients(): Promise<number | undefined>;
  stop(): Promise<Check | undefined>;
}

async function runIdleDevices(
  ctx: ScenarioContext,
  spec: { id: string; title: string; role: 'subject' | 'reference'; server: IdleServer },
): Promise<ScenarioResult> {
  const devices = ctx.options.idleDevices;
  await ensureOpenFileLimit(devices + FD_HEADROOM);
  const started = spec.server === 'storeloop' ? await startStoreloop(ctx) : await startReference(ctx);
  const { server } = started;
  try {
    await delay(SETTLE_BEFORE_BASELINE_MS);
    const before = readMemory(server.proc.pid);
    const url = new URL(server.mqttUrl);
    const connectStartedMs = performance.now();
    const clients = spawnIdleClients(ctx, spec.id, url, devices);
    await Promise.all(clients.map((c) => c.ready(Math.ceil((devices / CONNECTS_PER_SECOND) * 1000) + CONNACK_TIMEOUT_MS + 15_000)));
    const connectSeconds = (performance.now() - connectStartedMs) / 1000;

    const holdMs = ctx.options.idleKeepaliveSeconds * 1000 + HOLD_MARGIN_MS;
    const watches = [new ProcessWatch(started.name, server.proc.pid), ...clients.map((c) => new ProcessWatch(c.proc.name, c.proc.pid))];
    for (const w of watches) w.begin();
    const now = Date.now();
    const bar = ctx.progress.track(
      spec.id,
      { startAtMs: now, measureFromMs: now, endAtMs: now + holdMs },
      () => clients.reduce((sum, c) => sum + c.progress, 0),
      { rate: 'conn/s', total: 'connected' },
    );
    await delay(holdMs).finally(() => bar.stop());

    const withDevices = readMemory(server.proc.pid);
    const established = await countEstablished(Number(url.port));
    const reported = await started.reportedClients();
    const processes = watches.map((w) => w.end());
    const results = await stopIdleClients(clients);
    const stopCheck = await started.stop();

    const sum = (pick: (r: IdleClientResult) => number) => results.reduce((total, r) => total + pick(r), 0);
    const idle: IdleFigures = {
      wanted: devices,
      connected: sum((r) => r.open),
      serverReported: reported,
      established,
      rssBeforeBytes: before?.rssBytes ?? Number.NaN,
      rssWithDevicesBytes: withDevices?.rssBytes ?? Number.NaN,
      peakRssBytes: withDevices?.peakRssBytes ?? Number.NaN,
      pingreqs: sum((r) => r.pingreqs),
      pingresps: sum((r) => r.pingresps),
      keepaliveSeconds: ctx.options.idleKeepaliveSeconds,
      connectSeconds,
      holdSeconds: holdMs / 1000,
    };
    const connack = new LatencyHistogram();
    for (const r of results) connack.merge(r.connack);
    const errors = [...new Set(results.flatMap((r) => r.errors))].slice(0, 5).join('; ') || 'no errors';
    const checks: Check[] = [
      {
        name: `all ${devices} devices connected and stayed connected`,
        ok: idle.connected === devices && sum((r) => r.closedByServer) === 0,
        detail: `${idle.connected} open at the end; refused ${sum((r) => r.refused)}, failed ${sum((r) => r.failed)}, closed by the server ${sum((r) => r.closedByServer)} (${errors})`,
      },
      {
        name: 'every device had a PINGRESP (keepalive honoured)',
        ok: sum((r) => r.pinged) === devices,
        detail: `${sum((r) => r.pinged)} of ${devices} devices; ${idle.pingreqs} PINGREQ, ${idle.pingresps} PINGRESP`,
      },
      { name: 'the kernel holds one established socket per device', ok: established === devices, detail: `${established} ESTABLISHED on port ${url.port}` },
      ...(reported === undefined
        ? []
        : [{ name: `the server reports ${devices} clients`, ok: reported === devices, detail: `${CLIENTS_METRIC} = ${reported}` }]),
      ...(stopCheck ? [stopCheck] : []),
    ];
    return {
      kind: 'idle',
      id: spec.id,
      title: spec.title,
      role: spec.role,
      idle,
      processes,
      checks,
      facts: [
        [
          'devices',
          `${devices} MQTT 3.1.1 connections (clean session, keepalive ${idle.keepaliveSeconds} s) from ${clients.length} client process${clients.length === 1 ? '' : 'es'} at ${CONNECTS_PER_SECOND}/s, held ${idle.holdSeconds} s after the last one came up`,
        ],
        [
          'connect',
          `all up ${connectSeconds.toFixed(1)} s after the first; CONNACK p50 ${connack.summary().p50Ms.toFixed(1)} / p99 ${connack.summary().p99Ms.toFixed(1)} ms`,
        ],
        ['server memory', memoryFact(idle)],
        ['server CPU while idle', cpuFact(processes[0])],
        ...(spec.server === 'mosquitto' ? [['mosquitto log', await logTail(server.logFile, 300)] as [string, string]] : []),
      ],
    };
  } finally {
    await started.stop();
  }
}

async function startStoreloop(ctx: ScenarioContext): Promise<StartedServer> {
  const influxd = await startLocalInfluxd({ dataDir: join(ctx.workDir, 'influxd') });
  const stopInfluxd = ctx.group.adopt('influxd', influxd.stop);
  try {
    const gateway = await startGateway(ctx.group, {
      workDir: ctx.workDir,
      influxUrl: influxd.url,
      database: BENCH_DATABASE,
      publishers: ctx.options.publishers,
    });
    let stopped: Promise<Check> | undefined;
    return {
      name: 'storeloop gateway',
      server: gateway,
      async reportedClients() {
        const values = metricSamples(await fetchText(`${gateway.httpUrl}/metrics`), CLIENTS_METRIC);
        return values.length === 0 ? undefined : values.reduce((a, b) => a + b, 0);
      },
      stop() {
        stopped ??= (async () => {
          const alive = !gateway.proc.hasExited();
          const exit = await gateway.proc.stop();
          await stopInfluxd();
          return {
            name: 'gateway ran through and stopped on SIGTERM',
            ok: alive && exit.code === 0,
            detail: `exit ${exit.signal ?? `code ${String(exit.code)}`}`,
          };
        })();
        return stopped;
      },
    };
  } catch (err) {
    await stopInfluxd();
    throw err;
  }
}

async function startReference(ctx: ScenarioContext): Promise<StartedServer> {
  const broker = await startMosquitto(ctx.group, { workDir: ctx.workDir, binary: ctx.programs['mosquitto'] ?? 'mosquitto' });
  return {
    name: 'mosquitto',
    server: broker,
    reportedClients: () => Promise.resolve(undefined), // $SYS counts lag by sys_interval; the kernel count stands in
    async stop() {
      await broker.proc.stop();
      return undefined;
    },
  };
}

function spawnIdleClients(ctx: ScenarioContext, id: string, url: URL, devices: number): BenchChild[] {
  const host = url.hostname;
  const port = Number(url.port);
  const login = { username: decodeURIComponent(url.username), password: decodeURIComponent(url.password) };
  const processes = Math.ceil(devices / DEVICES_PER_PROCESS);
  return Array.from({ length: processes }, (_, i) => {
    const firstIndex = i * DEVICES_PER_PROCESS;
    const spec: IdleClientSpec = {
      host,
      port,
      clientIdPrefix: `bench-idle-${process.pid}-`,
      firstIndex,
      count: Math.min(DEVICES_PER_PROCESS, devices - firstIndex),
      connectsPerSecond: CONNECTS_PER_SECOND / processes,
      keepaliveSeconds: ctx.options.idleKeepaliveSeconds,
      connackTimeoutMs: CONNACK_TIMEOUT_MS,
      login,
    };
    return spawnBenchChild(ctx.group, `idle devices ${i} (${id})`, 'idle-client.js', spec);
  });
}

async function stopIdleClients(clients: BenchChild[]): Promise<IdleClientResult[]> {
  for (const c of clients) c.send({ type: 'stop' });
  const messages = await Promise.all(clients.map((c) => c.result(10_000)));
  return messages.flatMap((m) => (m.type === 'idle-result' ? [m.result] : []));
}

/** Fails early, with the fix, when the servers this runner starts could not hold `needed` open files. */
async function ensureOpenFileLimit(needed: number): Promise<void> {
  const limits = await readFile('/proc/self/limits', 'utf8');
  const soft = Number(/^Max open files\s+(\d+|unlimited)/m.exec(limits)?.[1]?.replace('unlimited', 'Infinity'));
  if (soft < needed) {
    throw new Error(`open-file limit ${soft} is below the ${needed} the server needs for the idle devices: raise it (ulimit -n ${needed}) or lower --devices`);
  }
}

function memoryFact(idle: IdleFigures): string {
  const perDeviceKb = ((idle.rssWithDevicesBytes - idle.rssBeforeBytes) / 1024 / Math.max(1, idle.connected)).toFixed(1);
  return `RSS ${(idle.rssBeforeBytes / MB).toFixed(0)} MB before the devices → ${(idle.rssWithDevicesBytes / MB).toFixed(0)} MB with them (${perDeviceKb} KB per device), peak ${(idle.peakRssBytes / MB).toFixed(0)} MB`;
}

function cpuFact(usage: ProcessUsage | undefined): string {
  return usage?.cpu === undefined ? 'n/a' : `${usage.cpu.percentOfCore.toFixed(1)} % of one core over the ${usage.cpu.wallSeconds.toFixed(0)} s hold`;
}
