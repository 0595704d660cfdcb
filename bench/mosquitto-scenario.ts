/**
 * The reference: Debian's mosquitto, QoS 1 PUBACK on receipt, forwarded to one subscriber; no
 * validation, no database. Closed-loop, or open-loop at the same rate as the storeloop open-loop run.
 */
import { spawnBenchChild, withTimeout } from './children.js';
import { planWindow, PublisherFleet } from './load.js';
import { openLoopFacts, openLoopFigures, scenarioPacing } from './open-loop.js';
import { LatencyHistogram } from './percentiles.js';
import { ProcessWatch } from './proc-stats.js';
import { delay } from './processes.js';
import { baseResult, loadChecks, watchDuring, type Scenario, type ScenarioContext, type ScenarioResult } from './scenario.js';
import { logTail, startMosquitto } from './servers.js';

const SUBSCRIBER_CATCH_UP_MS = 10_000;

export interface MosquittoScenarioOptions {
  id: string;
  title: string;
  pacing: 'closed-loop' | 'open-loop';
}

export function mosquittoScenario(spec: MosquittoScenarioOptions): Scenario {
  return {
    id: spec.id,
    title: spec.title,
    role: 'reference',
    requires: [{ program: 'mosquitto', debianPackage: 'mosquitto' }],
    usesOpenLoopRate: spec.pacing === 'open-loop',
    run: (ctx) => runMosquitto(ctx, spec),
  };
}

async function runMosquitto(ctx: ScenarioContext, spec: MosquittoScenarioOptions): Promise<ScenarioResult> {
  const { pacing, rate } = scenarioPacing(ctx, spec.pacing);
  const broker = await startMosquitto(ctx.group, { workDir: ctx.workDir, binary: ctx.programs['mosquitto'] ?? 'mosquitto' });
  try {
    const subscriber = spawnBenchChild(ctx.group, 'subscriber', 'subscriber.js', { url: broker.mqttUrl, topicFilter: 'storeloop/#' });
    await subscriber.ready(15_000);
    const fleet = await PublisherFleet.connect(ctx.group, broker.mqttUrl, ctx.options, pacing);
    const window = planWindow(ctx.options.durationMs, ctx.options.warmupMs);
    const usage = watchDuring(window, [
      new ProcessWatch('mosquitto', broker.proc.pid),
      new ProcessWatch('subscriber', subscriber.proc.pid),
      ...fleet.processes.map((p) => new ProcessWatch(p.name, p.pid)),
    ]);
    subscriber.send({ type: 'start', window });
    const bar = ctx.progress.track(spec.id, window, () => fleet.acked);
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
      ...baseResult({ ...spec, role: 'reference' }, ctx, load, processes, checks, rate ? 'open-loop' : 'closed-loop'),
      endToEnd: { label: 'publish→subscriber', latency: LatencyHistogram.from(sub.delivery).summary() },
      ...(rate ? { openLoop: openLoopFigures(rate, load) } : {}),
      facts: [...(rate ? openLoopFacts(rate, load) : []), ['mosquitto log', await logTail(broker.logFile, 300)]],
    };
  } finally {
    await broker.proc.stop();
  }
}
