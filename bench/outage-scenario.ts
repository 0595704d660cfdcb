/**
 * The storeloop gateway with InfluxDB down for the whole measured interval: every QoS 1 PUBACK waits
 * for the event log's append and fsync as always, and the InfluxDB sink falls behind. influxd runs
 * while the gateway starts, is stopped before the load, and is started again on the same port and
 * data once publishing stopped; then the InfluxDB sink must catch up (its drain rate is the figure
 * compared with influx-raw, the storage limit), the ledgers settle and InfluxDB hold exactly what was
 * acknowledged.
 */
import { statfs } from 'node:fs/promises';
import { join } from 'node:path';

import mqtt from 'mqtt';

import { startLocalInfluxd, type LocalInfluxd } from '../devtools/local-influxd.js';
import { InfluxSchema } from '../config/schema.js';
import { InfluxQuery } from '../gateway/influx/influx-query.js';
import { withTimeout } from './children.js';
import {
  eventLoopDelay,
  fetchLedger,
  fetchText,
  gatewayCounters,
  heapUsedMb,
  influxSink,
  ledgerCheck,
  ledgerLine,
  logSummary,
  waitForSettledLedger,
} from './gateway-api.js';
import { countPointsSettled } from './influx-count.js';
import { planWindow, PublisherFleet } from './load.js';
import { ProcessWatch, type ProcessUsage } from './proc-stats.js';
import { delay } from './processes.js';
import {
  atTime,
  BENCH_DATABASE,
  baseResult,
  emptyLatency,
  loadChecks,
  watchDuring,
  type OutageFigures,
  type Scenario,
  type ScenarioContext,
  type ScenarioResult,
} from './scenario.js';
import { metricSum, startGateway, type RunningGateway } from './servers.js';
import { bleTopic, blePayload, SAMPLER_SENSOR_ID, sightingsJson } from './traffic.js';

/** Generous, so the log never fills in the bench; capped at half the free disk space. */
const LOG_QUOTA_BYTES = 8 * 1024 ** 3;
const DRAIN_TIMEOUT_MS = 180_000;
const DRAIN_POLL_MS = 100;
const DRAIN_LOG_EVERY_MS = 5_000;
const SETTLE_TIMEOUT_MS = 30_000;
/** The first PUBACK after influxd stopped (it waits for the log only). */
const PRIMING_TIMEOUT_MS = 10_000;
const PRIMING_SIGHTINGS = 1;
/** Beacon numbers of the priming message, far from the publishers' and the sampler's ranges. */
const PRIMING_BEACON = 61_000 * 65_536;
const MB = 1024 * 1024;

export function storeloopOutageScenario(spec: { id: string; title: string }): Scenario {
  return {
    id: spec.id,
    title: spec.title,
    role: 'subject',
    requires: [{ program: 'influxd', debianPackage: 'influxdb' }],
    run: (ctx) => runOutage(ctx, spec),
  };
}

async function runOutage(ctx: ScenarioContext, spec: { id: string; title: string }): Promise<ScenarioResult> {
  const dataDir = join(ctx.workDir, 'influxd');
  let influxd: LocalInfluxd = await startLocalInfluxd({ dataDir });
  let stopInfluxd = ctx.group.adopt('influxd', influxd.stop);
  let gateway: RunningGateway | undefined;
  try {
    const quotaBytes = await logQuota(ctx.workDir);
    gateway = await startGateway(ctx.group, {
      workDir: ctx.workDir,
      influxUrl: influxd.url,
      database: BENCH_DATABASE,
      publishers: ctx.options.publishers,
      env: { STORELOOP_LOG_QUOTA_BYTES: String(quotaBytes), STORELOOP_LOG_LEVEL: 'info' },
    });
    const { httpUrl } = gateway;
    await stopInfluxd();
    const primingMs = await publishPriming(gateway.mqttUrl, PRIMING_TIMEOUT_MS);
    const before = await fetchLedger(httpUrl);
    const fsyncsBefore = before.log.fsyncs;
    if (influxSink(before).lag.records < 1) throw new Error('the InfluxDB sink did not fall behind after influxd stopped');

    const fleet = await PublisherFleet.connect(ctx.group, gateway.mqttUrl, ctx.options);
    const window = planWindow(ctx.options.durationMs, ctx.options.warmupMs);
    const usage = watchDuring(window, [
      new ProcessWatch('storeloop gateway', gateway.proc.pid),
      ...fleet.processes.map((p) => new ProcessWatch(p.name, p.pid)),
    ]);
    const heapAtStart = atTime(window.measureFromMs, () => fetchText(`${httpUrl}/metrics`).then(heapUsedMb)).catch(() => Number.NaN);
    const metricsAtEnd = atTime(window.endAtMs, () => fetchText(`${httpUrl}/metrics`)).catch(() => '');
    const bar = ctx.progress.track(spec.id, window, () => fleet.acked);
    const load = await fleet.run(window).finally(() => bar.stop());
    const processes = await usage;
    const afterLoad = await fetchLedger(httpUrl);
    const metricsAfterLoad = await fetchText(`${httpUrl}/metrics`);

    influxd = await startLocalInfluxd({ dataDir, port: influxd.port });
    stopInfluxd = ctx.group.adopt('influxd (restarted)', influxd.stop);
    const drainUsage = [new ProcessWatch('storeloop gateway', gateway.proc.pid), new ProcessWatch('influxd', influxd.pid)];
    for (const w of drainUsage) w.begin();
    const drain = await watchDrain(httpUrl, ctx.log);
    const [gatewayDuringDrain, influxdDuringDrain] = drainUsage.map((w) => w.end());

    const ledger = await waitForSettledLedger(httpUrl, SETTLE_TIMEOUT_MS);
    const influx = new InfluxQuery(InfluxSchema.parse({ url: influxd.url, database: BENCH_DATABASE }));
    const expected = load.acked * ctx.options.sightings + PRIMING_SIGHTINGS;
    const stored = await countPointsSettled(influx, expected);
    const metrics = await fetchText(`${httpUrl}/metrics`);
    const alive = !gateway.proc.hasExited();
    const stop = await gateway.proc.stop();

    const appended = metricSum(metricsAfterLoad, 'storeloop_log_appended_records');
    const backpressure = metricSum(metrics, 'storeloop_backpressure_total');
    const appendedLines = load.acked * ctx.options.sightings + PRIMING_SIGHTINGS;
    const fsyncs = afterLoad.log.fsyncs - fsyncsBefore;
    const outage: OutageFigures = {
      appendedMessages: appended,
      appendedLines,
      pendingBytes: afterLoad.log.unconsumedBytes,
      fsyncs,
      recoverySeconds: drain.recoverySeconds,
      drainSeconds: drain.drainSeconds,
      drainLinesPerSecond: appendedLines / drain.drainSeconds,
      reportedDrainLinesPerSecond: drain.reportedRate,
      drainCapLinesPerSecond: Number.NaN,
      drained: drain.drained,
      gatewayDrainCpuPercent: gatewayDuringDrain?.cpu?.percentOfCore ?? Number.NaN,
      influxdDrainCpuPercent: influxdDuringDrain?.cpu?.percentOfCore ?? Number.NaN,
    };
    const checks = [
      ...loadChecks(load),
      {
        name: 'InfluxDB down throughout: every PUBACK came from the log, the InfluxDB sink wrote nothing',
        ok: appended === load.acked + 1 && influxSink(afterLoad).lag.records === appended,
        detail: `${appended} appended for ${load.acked} acked + 1 priming message; InfluxDB sink behind by ${influxSink(afterLoad).lag.records} after the load`,
      },
      {
        name: 'log never full (no backpressure)',
        ok: backpressure === 0 && !afterLoad.log.full,
        detail: `backpressure=${backpressure}, ${(afterLoad.log.unconsumedBytes / MB).toFixed(0)} MB of ${(quotaBytes / MB).toFixed(0)} MB quota`,
      },
      {
        name: 'InfluxDB sink caught up after influxd restarted',
        ok: drain.drained,
        detail: `${drain.pendingAtStart} → ${drain.pendingAtEnd} records behind, ${drain.recoverySeconds.toFixed(1)} s after influxd answered`,
      },
      {
        name: 'InfluxDB holds exactly acked × K points',
        ok: stored === expected,
        detail: `${stored} stored, expected ${load.acked} × ${ctx.options.sightings} + ${PRIMING_SIGHTINGS} priming = ${expected}`,
      },
      ledgerCheck(ledger),
      { name: 'gateway ran through and stopped on SIGTERM', ok: alive && stop.code === 0, detail: `exit ${stop.signal ?? `code ${String(stop.code)}`}` },
    ];
    return {
      ...baseResult({ ...spec, role: 'subject' }, ctx, load, processes, checks),
      endToEnd: { label: 'n/a (InfluxDB down)', latency: emptyLatency() },
      spoolAppends: appended,
      outage,
      facts: [
        [
          'outage',
          `influxd stopped after the gateway was ready; the first PUBACK then took ${primingMs.toFixed(0)} ms (it waits for the log, not for InfluxDB)`,
        ],
        [
          'log after the load',
          `${influxSink(afterLoad).lag.records} records InfluxDB has not written, ${(afterLoad.log.unconsumedBytes / MB).toFixed(1)} MB (${(afterLoad.log.unconsumedBytes / Math.max(1, influxSink(afterLoad).lag.records)).toFixed(0)} bytes/record), quota ${(quotaBytes / MB).toFixed(0)} MB`,
        ],
        ['log fsyncs during the load', `${fsyncs} for ${appended} records → ${(appended / Math.max(1, fsyncs)).toFixed(1)} records per fsync`],
        ['gateway V8 heap used, measuring start→end', `${(await heapAtStart).toFixed(0)} → ${heapUsedMb(await metricsAtEnd).toFixed(0)} MB`],
        ['gateway event-loop delay, measured interval', eventLoopDelay(await metricsAtEnd)],
        ['drain', drainFact(outage, drain)],
        ['gateway during the drain', usageFact(gatewayDuringDrain)],
        ['influxd during the drain', usageFact(influxdDuringDrain)],
        ['ledger at the end', ledgerLine(ledger)],
        ['gateway counters', gatewayCounters(metrics)],
        ['gateway log (warn and above)', await logSummary(gateway.logFile)],
      ],
    };
  } finally {
    await gateway?.proc.stop();
    await stopInfluxd();
  }
}

/** LOG_QUOTA_BYTES, or half the free space of the disk holding `dir` when that is less. */
async function logQuota(dir: string): Promise<number> {
  const fs = await statfs(dir);
  return Math.min(LOG_QUOTA_BYTES, Math.floor((fs.bavail * fs.bsize) / 2));
}

/** Publishes one message and waits for its PUBACK (from the log); resolves with its latency in ms. */
async function publishPriming(url: string, timeoutMs: number): Promise<number> {
  const client = mqtt.connect(url, { clientId: `bench-priming-${process.pid}`, clean: true, reconnectPeriod: 0, connectTimeout: 10_000, protocolVersion: 4 });
  try {
    await withTimeout(
      new Promise<void>((resolve, reject) => {
        client.once('connect', () => resolve());
        client.once('error', reject);
      }),
      timeoutMs,
      `priming client did not connect to ${url}`,
    );
    const payload = blePayload(Date.now(), `priming-${process.pid}`, sightingsJson(PRIMING_BEACON, PRIMING_SIGHTINGS));
    const startedMs = performance.now();
    await withTimeout(
      client.publishAsync(bleTopic(SAMPLER_SENSOR_ID), payload, { qos: 1 }),
      timeoutMs,
      `no PUBACK for the priming message within ${timeoutMs} ms`,
    );
    return performance.now() - startedMs;
  } finally {
    await client.endAsync(true).catch(() => undefined);
  }
}

interface DrainWatch {
  drained: boolean;
  pendingAtStart: number;
  pendingAtEnd: number;
  recoverySeconds: number;
  drainSeconds: number;
  reportedRate: number;
}

/**
 * Polls the ledger from influxd's restart until the InfluxDB sink has caught up. The drain is timed
 * from the last poll that still saw the whole backlog to the first that saw none (at most two polls
 * too long); the reported rate is the fastest rate seen between two polls, in records × lines.
 */
async function watchDrain(httpUrl: string, log: (line: string) => void): Promise<DrainWatch> {
  const upAt = performance.now();
  let ledger = await fetchLedger(httpUrl);
  const pendingAtStart = influxSink(ledger).lag.records;
  let untouchedAt = upAt;
  let reportedRate = 0;
  let nextLogAt = upAt + DRAIN_LOG_EVERY_MS;
  let previous = { at: upAt, pending: pendingAtStart };
  for (let i = 0; influxSink(ledger).lag.records > 0 && i < DRAIN_TIMEOUT_MS / DRAIN_POLL_MS; i++) {
    await delay(DRAIN_POLL_MS);
    ledger = await fetchLedger(httpUrl);
    const now = performance.now();
    const pending = influxSink(ledger).lag.records;
    if (pending >= pendingAtStart) untouchedAt = now;
    reportedRate = Math.max(reportedRate, ((previous.pending - pending) * 1000) / Math.max(1, now - previous.at));
    previous = { at: now, pending };
    if (now >= nextLogAt) {
      log(`  InfluxDB sink catching up: ${pending} of ${pendingAtStart} records left`);
      nextLogAt += DRAIN_LOG_EVERY_MS;
    }
  }
  const emptyAt = performance.now();
  const pendingAtEnd = influxSink(ledger).lag.records;
  return {
    drained: pendingAtEnd === 0,
    pendingAtStart,
    pendingAtEnd,
    recoverySeconds: (emptyAt - upAt) / 1000,
    drainSeconds: (emptyAt - untouchedAt) / 1000,
    reportedRate: Math.round(reportedRate),
  };
}

function drainFact(o: OutageFigures, d: DrainWatch): string {
  return (
    `${d.pendingAtStart} records (${o.appendedLines} lines) written by the InfluxDB sink in ${o.drainSeconds.toFixed(1)} s → ${o.drainLinesPerSecond.toFixed(0)} lines/s; ` +
    `caught up ${o.recoverySeconds.toFixed(1)} s after influxd answered again; fastest between two polls ${o.reportedDrainLinesPerSecond} records/s`
  );
}

function usageFact(u: ProcessUsage | undefined): string {
  if (u?.cpu === undefined) return 'n/a';
  return `CPU ${u.cpu.percentOfCore.toFixed(0)} % of one core over ${u.cpu.wallSeconds.toFixed(1)} s, RSS ${(u.rssStartBytes / MB).toFixed(0)} → ${(u.rssEndBytes / MB).toFixed(0)} MB`;
}
