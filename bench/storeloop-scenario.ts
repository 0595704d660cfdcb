/**
 * A storeloop gateway process against a throwaway influxd, loaded by the publishers (closed-loop,
 * sampled for publish→queryable latency; or open-loop at a fixed rate) while its /metrics are
 * polled (InfluxDB sink lag, event-loop delay); afterwards the ledger must be settled and InfluxDB must hold exactly what was
 * acknowledged. Variants differ in the gateway's environment (e.g. the ack mode) and the pacing.
 */
import { join } from 'node:path';

import { startLocalInfluxd } from '../devtools/local-influxd.js';
import { InfluxSchema } from '../config/schema.js';
import { InfluxQuery } from '../gateway/influx/influx-query.js';
import { fetchText, heapUsedMb, influxFacts, ledgerCheck, logSummary, waitForSettledLedger } from './gateway-api.js';
import { countPointsSettled } from './influx-count.js';
import { planWindow, PublisherFleet } from './load.js';
import { openLoopFacts, openLoopFigures, scenarioPacing } from './open-loop.js';
import { ProcessWatch } from './proc-stats.js';
import { QueryableSampler, type SamplerResult } from './sampler.js';
import {
  atTime,
  BENCH_DATABASE,
  baseResult,
  emptyLatency,
  latencyPair,
  loadChecks,
  watchDuring,
  type Check,
  type Scenario,
  type ScenarioContext,
  type ScenarioResult,
} from './scenario.js';
import { metricSum, startGateway, type RunningGateway } from './servers.js';
import { eventLoopLine, MetricsWatch, sinkLagLine } from './metrics-watch.js';

const MIN_SAMPLES = 20;
/** When the gateway sends the PUBACK, by mqtt.ackMode. */
const ackWhen = { durable: "PUBACK after the event log's fsync", immediate: 'PUBACK at once, before the log append' } as const;
/** How long the ledger may take to settle (held and spooled back to 0) after the load stopped. */
const SETTLE_TIMEOUT_MS = 60_000;

export interface StoreloopScenarioOptions {
  id: string;
  title: string;
  /** Extra environment for the gateway process (e.g. STORELOOP_ACK_MODE). */
  gatewayEnv?: Record<string, string>;
  /** closed-loop (default, with the publish→queryable sampler) or open-loop at the run's open-loop rate (no sampler). */
  pacing?: 'closed-loop' | 'open-loop';
}

export function storeloopScenario(spec: StoreloopScenarioOptions): Scenario {
  return {
    id: spec.id,
    title: spec.title,
    role: 'subject',
    requires: [{ program: 'influxd', debianPackage: 'influxdb' }],
    usesOpenLoopRate: spec.pacing === 'open-loop',
    run: (ctx) => runStoreloop(ctx, spec),
  };
}

async function runStoreloop(ctx: ScenarioContext, spec: StoreloopScenarioOptions): Promise<ScenarioResult> {
  const { pacing, rate } = scenarioPacing(ctx, spec.pacing ?? 'closed-loop');
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
    if (rate === undefined) sampler = await QueryableSampler.connect(gateway.mqttUrl, influx);
    const fleet = await PublisherFleet.connect(ctx.group, gateway.mqttUrl, ctx.options, pacing);
    const window = planWindow(ctx.options.durationMs, ctx.options.warmupMs);
    const usage = watchDuring(window, [
      new ProcessWatch('storeloop gateway', gateway.proc.pid),
      new ProcessWatch('influxd', influxd.pid),
      new ProcessWatch(sampler ? 'runner (sampler)' : 'runner', process.pid),
      ...fleet.processes.map((p) => new ProcessWatch(p.name, p.pid)),
    ]);
    const httpUrl = gateway.httpUrl;
    const heapAtStart = atTime(window.measureFromMs, () => fetchText(`${httpUrl}/metrics`).then(heapUsedMb)).catch(() => Number.NaN);
    const metricsAtEnd = atTime(window.endAtMs, () => fetchText(`${httpUrl}/metrics`)).catch(() => '');
    const watch = new MetricsWatch(httpUrl, window);
    watch.start();
    const bar = ctx.progress.track(spec.id, window, () => fleet.acked);
    const [load, samples] = await Promise.all([fleet.run(window), sampler?.run(window)]).finally(() => bar.stop());
    const processes = await usage;
    const settleStartedMs = performance.now();
    const ledger = await waitForSettledLedger(httpUrl, SETTLE_TIMEOUT_MS);
    const settleMs = performance.now() - settleStartedMs;
    const { sinkLag: lag, eventLoop } = await watch.stop();
    const expected = load.acked * ctx.options.sightings + (samples ? samples.acked * samples.sightingsPerMessage : 0);
    const stored = await countPointsSettled(influx, expected);
    const metrics = await fetchText(`${httpUrl}/metrics`);
    const alive = !gateway.proc.hasExited();
    const stop = await gateway.proc.stop();
    const samplerCount = samples ? ` + ${samples.acked} sampler` : '';
    const checks: Check[] = [
      ...loadChecks(load),
      {
        name: 'InfluxDB holds exactly acked × K points',
        ok: stored === expected,
        detail: `${stored} stored, expected ${load.acked} × ${ctx.options.sightings}${samplerCount} = ${expected}`,
      },
      ledgerCheck(ledger),
      {
        name: 'gateway rejected nothing, dropped nothing',
        ok: metricSum(metrics, 'storeloop_messages_rejected_total') === 0 && metricSum(metrics, 'storeloop_points_dropped_total') === 0,
        detail: `messages_rejected=${metricSum(metrics, 'storeloop_messages_rejected_total')} points_dropped=${metricSum(metrics, 'storeloop_points_dropped_total')}`,
      },
      ...(samples ? [samplerCheck(samples)] : []),
      { name: 'gateway ran through and stopped on SIGTERM', ok: alive && stop.code === 0, detail: `exit ${stop.signal ?? `code ${String(stop.code)}`}` },
    ];
    const facts: Array<[string, string]> = [
      [
        'ack mode',
        `${gateway.config.mqtt.ackMode} (${ackWhen[gateway.config.mqtt.ackMode]}; InfluxDB sink batches of ${gateway.config.sinks.influx.batchRecords} records, ${gateway.config.sinks.influx.maxInFlightBatches} in flight)`,
      ],
      ...(rate ? openLoopFacts(rate, load) : []),
      ['InfluxDB sink lag during the run', sinkLagLine(lag)],
      ...influxFacts(metrics),
      ['ledger settled after the load', `${(settleMs / 1000).toFixed(1)} s`],
      ['gateway V8 heap used, measuring start→end', `${(await heapAtStart).toFixed(0)} → ${heapUsedMb(await metricsAtEnd).toFixed(0)} MB`],
      ['gateway event-loop delay, measured interval', eventLoopLine(eventLoop)],
      ...(samples ? samplerFacts(samples) : []),
      ['gateway log (warn and above)', await logSummary(gateway.logFile)],
    ];
    return {
      ...baseResult({ ...spec, role: 'subject' }, ctx, load, processes, checks, rate ? 'open-loop' : 'closed-loop'),
      endToEnd: samples ? { label: 'publish→queryable', latency: samples.queryable.summary() } : { label: 'n/a (no sampler)', latency: emptyLatency() },
      spoolAppends: metricSum(metrics, 'storeloop_log_appended_records'),
      sinkLag: lag,
      ...(rate ? { openLoop: openLoopFigures(rate, load) } : {}),
      facts,
    };
  } finally {
    await sampler?.close();
    await gateway?.proc.stop();
    await stopInfluxd();
  }
}

function samplerCheck(samples: SamplerResult): Check {
  return {
    name: `≥ ${MIN_SAMPLES} publish→queryable samples`,
    ok: samples.queryable.count >= MIN_SAMPLES && samples.timedOut === 0,
    detail: samplerDetail(samples),
  };
}

/**
 * A PUBACK says the message is in the fsynced event log (or, immediate, not even that); the InfluxDB
 * sink writes it afterwards, so a point not yet queryable at its PUBACK is expected, not a failure.
 */
function samplerFacts(samples: SamplerResult): Array<[string, string]> {
  return [
    ['sampler PUBACK p50/p99', latencyPair(samples.puback)],
    ['sampled points not yet queryable at their PUBACK', notVisible(samples)],
  ];
}

function notVisible(samples: SamplerResult): string {
  return `${samples.notVisibleAtPuback} of ${samples.acked} not yet visible`;
}

function samplerDetail(s: SamplerResult): string {
  return `${s.queryable.count} samples, ${s.timedOut} timed out, ${s.skipped} skipped${s.errors.length > 0 ? `, errors: ${s.errors.join('; ')}` : ''}`;
}
