/**
 * The benchmark's scenarios, each a small object with a run(). A `subject` is a storeloop setup; the
 * `reference` is measured in the same run and every subject is reported as a ratio to it. Adding a
 * scenario (ack-without-waiting, an InfluxDB outage with the spool) is one more entry in SCENARIOS.
 */
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';

import { startLocalInfluxd } from '../cli/local-influxd.js';
import { InfluxSchema } from '../config/schema.js';
import { InfluxQuery } from '../gateway/influx/influx-query.js';
import { spawnBenchChild, withTimeout } from './children.js';
import type { RunWindow } from './ipc.js';
import { planWindow, PublisherFleet, type LoadResult } from './load.js';
import { LatencyHistogram, type LatencySummary } from './percentiles.js';
import { ProcessWatch, type ProcessUsage } from './proc-stats.js';
import { delay, type ProcessGroup } from './processes.js';
import { QueryableSampler, type SamplerResult } from './sampler.js';
import { logTail, metricSum, startGateway, startMosquitto, type RunningGateway } from './servers.js';

export interface BenchOptions {
  publishers: number;
  durationMs: number;
  warmupMs: number;
  sightings: number;
  inflight: number;
}

/** Shows a running scenario; the runner implements it with a progress bar. */
export interface ProgressReporter {
  track(label: string, window: RunWindow, count: () => number): { stop(): void };
}

export interface ScenarioContext {
  options: BenchOptions;
  group: ProcessGroup;
  /** A fresh directory for this scenario's files (configs, logs, InfluxDB data). */
  workDir: string;
  /** Paths of the system programs every scenario declared in `requires`. */
  programs: Record<string, string>;
  progress: ProgressReporter;
  log(line: string): void;
}

/** A pass/fail statement about a run; a failed check fails the benchmark loudly. */
export interface Check {
  name: string;
  ok: boolean;
  detail: string;
}

export interface ScenarioResult {
  id: string;
  title: string;
  role: 'subject' | 'reference';
  messagesPerSecond: number;
  pointsPerSecond: number;
  puback: LatencySummary;
  /** publish→queryable (storeloop) or publish→subscriber (reference). */
  endToEnd: { label: string; latency: LatencySummary };
  /** The server under test first, then the other processes of the run (influxd, publishers, …). */
  processes: ProcessUsage[];
  load: Omit<LoadResult, 'puback' | 'perPublisher' | 'window'>;
  checks: Check[];
  /** Extra figures worth printing under the table, as label → value. */
  facts: Array<[string, string]>;
}

export interface Scenario {
  id: string;
  title: string;
  role: 'subject' | 'reference';
  /** System programs (and the Debian package that has each) to ensure before any scenario runs. */
  requires: Array<{ program: string; debianPackage: string }>;
  run(ctx: ScenarioContext): Promise<ScenarioResult>;
}

const BENCH_DATABASE = 'storeloop_bench';
const MIN_SAMPLES = 20;
const SUBSCRIBER_CATCH_UP_MS = 10_000;
const COUNT_SETTLE_MS = 10_000;
const COUNT_POLL_MS = 250;
/** Polls without change after which the count is taken as final. */
const COUNT_STABLE_POLLS = 8;

export interface StoreloopScenarioOptions {
  id: string;
  title: string;
  /** Extra environment for the gateway process (e.g. a bench-only switch of a future scenario). */
  gatewayEnv?: Record<string, string>;
}

/**
 * A storeloop gateway process against a throwaway influxd, loaded by the publishers and sampled for
 * publish→queryable latency; afterwards InfluxDB must hold exactly what was acknowledged.
 */
export function storeloopScenario(spec: StoreloopScenarioOptions): Scenario {
  return {
    id: spec.id,
    title: spec.title,
    role: 'subject',
    requires: [{ program: 'influxd', debianPackage: 'influxdb' }],
    run: (ctx) => runStoreloop(ctx, spec),
  };
}

async function runStoreloop(ctx: ScenarioContext, spec: StoreloopScenarioOptions): Promise<ScenarioResult> {
  const influxd = await startLocalInfluxd({ dataDir: join(ctx.workDir, 'influxd') });
  const stopInfluxd = ctx.group.adopt('influxd', influxd.stop);
  let gateway: RunningGateway | undefined;
  let sampler: QueryableSampler | undefined;
  try {
    gateway = await startGateway(ctx.group, {
      workDir: ctx.workDir,
      influxUrl: influxd.url,
      database: BENCH_DATABASE,
      publishers: ctx.options.publishers,
      ...(spec.gatewayEnv ? { env: spec.gatewayEnv } : {}),
    });
    const influx = new InfluxQuery(InfluxSchema.parse({ url: influxd.url, database: BENCH_DATABASE }));
    sampler = await QueryableSampler.connect(gateway.mqttUrl, influx);
    const fleet = await PublisherFleet.connect(ctx.group, gateway.mqttUrl, ctx.options);
    const window = planWindow(ctx.options.durationMs, ctx.options.warmupMs);
    const usage = watchDuring(window, [
      new ProcessWatch('storeloop gateway', gateway.proc.pid),
      new ProcessWatch('influxd', influxd.pid),
      new ProcessWatch('runner (sampler)', process.pid),
      ...fleet.processes.map((p) => new ProcessWatch(p.name, p.pid)),
    ]);
    const heapAtStart = atTime(window.measureFromMs, () => fetchText(`${gateway?.httpUrl ?? ''}/metrics`).then(heapUsedMb)).catch(() => Number.NaN);
    const bar = ctx.progress.track(spec.id, window, () => fleet.acked);
    const [load, samples] = await Promise.all([fleet.run(window), sampler.run(window)]).finally(() => bar.stop());
    const expected = load.acked * ctx.options.sightings + samples.acked * samples.sightingsPerMessage;
    const stored = await countPointsSettled(influx, expected);
    const metrics = await fetchText(`${gateway.httpUrl}/metrics`);
    const processes = await usage;
    const alive = !gateway.proc.hasExited();
    const stop = await gateway.proc.stop();
    const checks = [
      ...loadChecks(load),
      { name: 'InfluxDB holds exactly acked × K points', ok: stored === expected, detail: `${stored} stored, expected ${load.acked} × ${ctx.options.sightings} + ${samples.acked} sampler = ${expected}` },
      { name: 'gateway rejected nothing, dropped nothing', ok: metricSum(metrics, 'storeloop_messages_rejected_total') === 0 && metricSum(metrics, 'storeloop_points_dropped_total') === 0, detail: gatewayCounters(metrics) },
      { name: `≥ ${MIN_SAMPLES} publish→queryable samples`, ok: samples.queryable.count >= MIN_SAMPLES && samples.timedOut === 0, detail: samplerDetail(samples) },
      { name: 'every sampled point was queryable at its PUBACK', ok: samples.notVisibleAtPuback === 0, detail: `${samples.notVisibleAtPuback} of ${samples.acked} not yet visible` },
      { name: 'gateway ran through and stopped on SIGTERM', ok: alive && stop.code === 0, detail: `exit ${stop.signal ?? `code ${String(stop.code)}`}` },
    ];
    return {
      ...baseResult({ ...spec, role: 'subject' }, ctx, load, processes, checks),
      endToEnd: { label: 'publish→queryable', latency: samples.queryable.summary() },
      facts: [
        ...influxFacts(metrics),
        ['gateway V8 heap used, measuring start→end', `${(await heapAtStart).toFixed(0)} → ${heapUsedMb(metrics).toFixed(0)} MB`],
        ['sampler PUBACK p50/p99', latencyPair(samples.puback)],
        ['gateway log (warn level)', await logSummary(gateway.logFile)],
      ],
    };
  } finally {
    await sampler?.close();
    await gateway?.proc.stop();
    await stopInfluxd();
  }
}

/** Storeloop as shipped: validation, then PUBACK once InfluxDB accepted the points. */
export const storeloopDurable = storeloopScenario({ id: 'storeloop', title: 'storeloop gateway (validate + durable InfluxDB ack)' });

/** Debian's mosquitto: QoS 1 PUBACK on receipt, forwarded to one subscriber; no validation, no database. */
export const mosquittoReference: Scenario = {
  id: 'mosquitto',
  title: 'mosquitto (reference: no validation, no database)',
  role: 'reference',
  requires: [{ program: 'mosquitto', debianPackage: 'mosquitto' }],
  async run(ctx) {
    const broker = await startMosquitto(ctx.group, { workDir: ctx.workDir, binary: ctx.programs['mosquitto'] ?? 'mosquitto' });
    try {
      const subscriber = spawnBenchChild(ctx.group, 'subscriber', 'subscriber.js', { url: broker.mqttUrl, topicFilter: 'storeloop/#' });
      await subscriber.ready(15_000);
      const fleet = await PublisherFleet.connect(ctx.group, broker.mqttUrl, ctx.options);
      const window = planWindow(ctx.options.durationMs, ctx.options.warmupMs);
      const usage = watchDuring(window, [
        new ProcessWatch('mosquitto', broker.proc.pid),
        new ProcessWatch('subscriber', subscriber.proc.pid),
        ...fleet.processes.map((p) => new ProcessWatch(p.name, p.pid)),
      ]);
      subscriber.send({ type: 'start', window });
      const bar = ctx.progress.track('mosquitto', window, () => fleet.acked);
      const load = await fleet.run(window).finally(() => bar.stop());
      const processes = await usage;
      for (let i = 0; i < SUBSCRIBER_CATCH_UP_MS / 100 && subscriber.progress < load.acked; i++) await delay(100);
      subscriber.send({ type: 'stop' });
      const message = await withTimeout(subscriber.result(10_000), 11_000, 'subscriber did not report');
      if (message.type !== 'subscriber-result') throw new Error('subscriber sent a publisher result');
      const sub = message.result;
      const checks = [
        ...loadChecks(load),
        { name: 'subscriber received every acked message', ok: sub.received >= load.acked, detail: `${sub.received} received, ${load.acked} acked` },
        { name: 'subscriber stayed connected', ok: sub.disconnects === 0 && sub.errorCount === 0, detail: sub.errors.join('; ') || 'no errors' },
      ];
      return {
        ...baseResult(this, ctx, load, processes, checks),
        endToEnd: { label: 'publish→subscriber', latency: LatencyHistogram.from(sub.delivery).summary() },
        facts: [['mosquitto log', await logTail(broker.logFile, 300)]],
      };
    } finally {
      await broker.proc.stop();
    }
  },
};

/** Run order: the reference last, so a subject's failure shows before the long reference run. */
export const SCENARIOS: Scenario[] = [storeloopDurable, mosquittoReference];

function baseResult(scenario: Pick<Scenario, 'id' | 'title' | 'role'>, ctx: ScenarioContext, load: LoadResult, processes: ProcessUsage[], checks: Check[]) {
  const messagesPerSecond = load.ackedInWindow / load.measuredSeconds;
  const { puback, perPublisher: _perPublisher, window: _window, ...counts } = load;
  return {
    id: scenario.id,
    title: scenario.title,
    role: scenario.role,
    messagesPerSecond,
    pointsPerSecond: messagesPerSecond * ctx.options.sightings,
    puback: puback.summary(),
    processes,
    load: counts,
    checks,
  };
}

function loadChecks(load: LoadResult): Check[] {
  return [
    { name: 'publishers stayed connected, no publish errors', ok: load.disconnects === 0 && load.errorCount === 0, detail: load.errors.join('; ') || 'no errors' },
    { name: 'every publish was acked before the drain timeout', ok: load.unacked === 0, detail: `${load.unacked} unacked of ${load.sent}` },
  ];
}

/** Starts watching at the window's measuring start and resolves with the usage at its end. */
function watchDuring(window: RunWindow, watches: ProcessWatch[]): Promise<ProcessUsage[]> {
  return (async () => {
    await delay(Math.max(0, window.measureFromMs - Date.now()));
    for (const w of watches) w.begin();
    await delay(Math.max(0, window.endAtMs - Date.now()));
    return watches.map((w) => w.end());
  })();
}

/** Runs `fn` at epoch `ms`. */
async function atTime<T>(ms: number, fn: () => Promise<T>): Promise<T> {
  await delay(Math.max(0, ms - Date.now()));
  return fn();
}

function heapUsedMb(metrics: string): number {
  return metricSum(metrics, 'storeloop_process_nodejs_heap_size_used_bytes') / (1024 * 1024);
}

async function countPoints(influx: InfluxQuery): Promise<number> {
  const series = await influx.query('SELECT count(rssi) FROM sighting');
  const value = series[0]?.values[0]?.[1];
  return typeof value === 'number' ? value : 0;
}

/**
 * The stored point count once it reached `expected` or stopped changing. With the durable ack it is
 * final at once; a scenario that acknowledges before writing needs a moment for the last flush.
 */
async function countPointsSettled(influx: InfluxQuery, expected: number): Promise<number> {
  let count = await countPoints(influx);
  for (let i = 0; i < COUNT_SETTLE_MS / COUNT_POLL_MS && count < expected; i++) {
    await delay(COUNT_POLL_MS);
    const next = await countPoints(influx);
    if (next === count && i >= COUNT_STABLE_POLLS) break;
    count = next;
  }
  return count;
}

async function fetchText(url: string): Promise<string> {
  const res = await fetch(url, { signal: AbortSignal.timeout(5_000) });
  if (!res.ok) throw new Error(`GET ${url} answered ${res.status}`);
  return res.text();
}

function gatewayCounters(metrics: string): string {
  const names = ['messages_accepted', 'messages_rejected', 'messages_duplicate', 'points_written', 'points_dropped', 'influx_write_failures', 'mqtt_client_errors'];
  return names.map((n) => `${n}=${metricSum(metrics, `storeloop_${n}_total`)}`).join(' ');
}

function influxFacts(metrics: string): Array<[string, string]> {
  const requests = metricSum(metrics, 'storeloop_influx_batch_points_count');
  const points = metricSum(metrics, 'storeloop_influx_batch_points_sum');
  const writeCount = metricSum(metrics, 'storeloop_influx_write_duration_seconds_count');
  const writeSeconds = metricSum(metrics, 'storeloop_influx_write_duration_seconds_sum');
  return [
    ['InfluxDB write requests', `${requests} (avg ${(points / Math.max(1, requests)).toFixed(0)} points each)`],
    ['gateway write() wait, mean', `${((1000 * writeSeconds) / Math.max(1, writeCount)).toFixed(1)} ms over ${writeCount} calls`],
    ['gateway counters', gatewayCounters(metrics)],
  ];
}

function samplerDetail(s: SamplerResult): string {
  return `${s.queryable.count} samples, ${s.timedOut} timed out, ${s.skipped} skipped${s.errors.length > 0 ? `, errors: ${s.errors.join('; ')}` : ''}`;
}

function latencyPair(h: LatencyHistogram): string {
  const s = h.summary();
  return `${s.p50Ms.toFixed(1)} / ${s.p99Ms.toFixed(1)} ms (n=${s.count})`;
}

/** Counts the gateway's warn/error lines (pino JSON, level 40+) and quotes the first few messages. */
async function logSummary(file: string): Promise<string> {
  const text = await readFile(file, 'utf8').catch(() => '');
  const byMessage = new Map<string, number>();
  let lines = 0;
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    lines++;
    let msg = line.slice(0, 120);
    try {
      const parsed = JSON.parse(line) as { msg?: unknown; level?: unknown };
      msg = `${String(parsed.level)}:${String(parsed.msg)}`;
    } catch {
      // not JSON (e.g. a stack trace): keep the raw excerpt
    }
    byMessage.set(msg, (byMessage.get(msg) ?? 0) + 1);
  }
  if (lines === 0) return 'no lines';
  return `${lines} lines: ${[...byMessage.entries()].slice(0, 4).map(([m, n]) => `${n}× ${m}`).join('; ')}`;
}

/** A fresh work directory for one scenario under the run's directory. */
export async function scenarioDir(runDir: string, scenario: Scenario): Promise<string> {
  const dir = join(runDir, scenario.id);
  await mkdir(dir, { recursive: true });
  return dir;
}
