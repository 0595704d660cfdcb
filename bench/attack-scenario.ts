/**
 * Honest devices beside attackers (issue #10, "How to prove it"): one gateway as shipped (authentication
 * on, the shipped mqtt.limits but a per-client rate set for the bench's load), honest publishers with
 * their own identities at one fixed open-loop rate, first alone (the baseline), then with six attacker
 * processes running (bench/attacker.ts). Reports the honest throughput and PUBACK latency of both
 * phases, the gateway's peak RSS, what it refused, denied and throttled, and what the attackers cost
 * the machine; checks that no honest publisher was disconnected, every honest publish was acked, and
 * InfluxDB holds exactly the honest points.
 *
 * One gateway for both phases, baseline first: the only difference between the phases is the attackers
 * (same process, same influxd, same warmed-up JIT, the same limits), and nothing an attacker leaves
 * behind can leak into the baseline. The attack phase runs with a slightly longer event log; that is
 * all the order costs it.
 */
import { join } from 'node:path';

import { startLocalInfluxd } from '../devtools/local-influxd.js';
import { InfluxSchema } from '../config/schema.js';
import { InfluxQuery } from '../gateway/influx/influx-query.js';
import type { AttackerSpec, AttackKind } from './attack.js';
import { attackerFiguresOf, attackerLine, byLabel, controlsCheck, delta, honestLedgerCheck, limitsLine, recordLine } from './attack-report.js';
import { spawnBenchChild, type BenchChild } from './children.js';
import { fetchText, logSummary, waitForSettledLedger } from './gateway-api.js';
import { countPointsSettled } from './influx-count.js';
import type { RunWindow } from './ipc.js';
import { planWindow, PublisherFleet, type LoadResult } from './load.js';
import { ProcessWatch, readMemory, type ProcessUsage } from './proc-stats.js';
import { delay } from './processes.js';
import {
  BENCH_DATABASE,
  loadChecks,
  watchDuring,
  type AttackerFigures,
  type AttackFigures,
  type Check,
  type HonestPhase,
  type Scenario,
  type ScenarioContext,
  type ScenarioResult,
} from './scenario.js';
import { urlWithLogin } from '../devtools/mqtt-login.js';
import { benchConfig, metricSamples, startGateway, type BenchLogin, type RunningGateway } from './servers.js';
import { BENCH_STORE_ID, bleTopic, blePayload, publisherSensorIds, sightingsJson } from './traffic.js';

/** The honest rate as a share of what the honest publishers reach closed-loop on this gateway (calibration). */
export const HONEST_SHARE_OF_CALIBRATION = 0.5;
/** An honest publisher sends at most this share of the per-client message rate: a device's limit has headroom. */
const HONEST_SHARE_OF_CLIENT_LIMIT = 0.5;
/** The shipped mqtt.limits.maxMessagesPerSecondPerClient (config/schema.ts). */
const SHIPPED_MESSAGES_PER_SECOND_PER_CLIENT = 2_000;
/** The calibration's length (closed loop, before the baseline); its first second is left out. */
const CALIBRATION_MS = 4_000;
/**
 * The attackers start this long before the honest publishers, so every attack is at full strength when
 * measuring begins (the connection flood needs ~4.5 s to reach its caps), and even a short --duration
 * outlasts the shipped 10 s CONNECT and packet timeouts the slowloris and the flood meet.
 */
const ATTACK_LEAD_MS = 5_000;
const SETTLE_TIMEOUT_MS = 60_000;
const METRICS_POLL_MS = 500;
const READY_TIMEOUT_MS = 15_000;
/** The attacker device's own sensor: its identity may publish there only. */
const ATTACK_SENSOR_ID = 'attack-s0';

/**
 * The attack mix, each bounded in rate and connections so its own CPU stays modest (it is measured and
 * reported): the two cores are shared, and an attacker that only burns CPU measures the machine.
 */
const ATTACKS: Array<{ attack: AttackKind; addresses: string[]; ratePerSecond: number; maxConnections: number; slowloris?: number }> = [
  { attack: 'reconnect-storm', addresses: ['127.0.0.11'], ratePerSecond: 500, maxConnections: 64 },
  // ratePerSecond: × the per-client limit, set below
  { attack: 'publish-flood', addresses: ['127.0.0.12'], ratePerSecond: 10, maxConnections: 1 },
  { attack: 'oversized-and-slowloris', addresses: ['127.0.0.13'], ratePerSecond: 50, maxConnections: 50, slowloris: 200 },
  { attack: 'random-bytes', addresses: ['127.0.0.14'], ratePerSecond: 100, maxConnections: 50 },
  { attack: 'slow-subscriber', addresses: ['127.0.0.15'], ratePerSecond: 1, maxConnections: 1 },
  // maxConnections: per address, × the per-address cap, set below
  { attack: 'connection-flood', addresses: ['127.0.0.16', '127.0.0.17'], ratePerSecond: 1_000, maxConnections: 1.1 },
];

/**
 * STORELOOP_BENCH_ATTACKS=kind,kind runs only those attacks, to find which one costs the honest
 * clients what (bench/README.md); the report then names the attacks that ran. Default: all of them.
 */
function selectedAttacks(): typeof ATTACKS {
  const wanted = process.env.STORELOOP_BENCH_ATTACKS?.split(',').map((k) => k.trim());
  if (wanted === undefined || wanted.join('') === '') return ATTACKS;
  const unknown = wanted.filter((k) => !ATTACKS.some((a) => a.attack === k));
  if (unknown.length > 0)
    throw new Error(`STORELOOP_BENCH_ATTACKS: unknown attack(s) ${unknown.join(', ')}; known: ${ATTACKS.map((a) => a.attack).join(', ')}`);
  return ATTACKS.filter((a) => wanted.includes(a.attack));
}

export function underAttackScenario(spec: { id: string; title: string }): Scenario {
  return {
    id: spec.id,
    title: spec.title,
    role: 'subject',
    requires: [{ program: 'influxd', debianPackage: 'influxdb' }],
    run: (ctx) => runUnderAttack(ctx, spec),
  };
}

/** The per-client message rate: the shipped one, raised only when --rate asks each honest publisher for more than half of it. */
function clientLimit(ctx: ScenarioContext): number {
  const perPublisher = (ctx.options.openLoopRate ?? 0) / ctx.options.publishers;
  return Math.max(SHIPPED_MESSAGES_PER_SECOND_PER_CLIENT, Math.ceil(perPublisher / HONEST_SHARE_OF_CLIENT_LIMIT));
}

interface Identities {
  honest: BenchLogin[];
  device: BenchLogin;
  operator: BenchLogin;
}

/** Every identity the run uses, made with `storeloop credentials add` as an installer would. */
function addIdentities(gateway: RunningGateway, publishers: number): Identities {
  return {
    honest: Array.from({ length: publishers }, (_, p) => gateway.addIdentity({ name: `honest-p${p}`, role: 'publisher', store: BENCH_STORE_ID })),
    device: gateway.addIdentity({ name: 'attacker-device', role: 'device', store: BENCH_STORE_ID, source: ATTACK_SENSOR_ID }),
    operator: gateway.addIdentity({ name: 'attacker-operator', role: 'operator', store: '*' }),
  };
}

async function runUnderAttack(ctx: ScenarioContext, spec: { id: string; title: string }): Promise<ScenarioResult> {
  const { options } = ctx;
  const influxd = await startLocalInfluxd({ dataDir: join(ctx.workDir, 'influxd') });
  const stopInfluxd = ctx.group.adopt('influxd', influxd.stop);
  let gateway: RunningGateway | undefined;
  try {
    const limit = clientLimit(ctx);
    gateway = await startGateway(ctx.group, {
      workDir: ctx.workDir,
      influxUrl: influxd.url,
      database: BENCH_DATABASE,
      publishers: options.publishers,
      config: benchConfig(options.publishers, { limits: { maxMessagesPerSecondPerClient: limit }, extraSensors: [ATTACK_SENSOR_ID] }),
    });
    const gw = gateway;
    const ids = addIdentities(gw, options.publishers);
    const bare = new URL(gw.mqttUrl);
    bare.username = '';
    bare.password = '';
    const honestUrl = (p: number) => urlWithLogin(bare.toString(), ids.honest[p] as BenchLogin);

    const calibration = await calibrate(ctx, honestUrl);
    const cap = options.publishers * limit * HONEST_SHARE_OF_CLIENT_LIMIT;
    const rate =
      options.openLoopRate !== undefined
        ? { totalRate: options.openLoopRate, source: '--rate' }
        : rateFromCalibration(calibration.messagesPerSecond, cap, options.publishers, limit);
    ctx.log(`  honest rate ${rate.totalRate} msg/s (${rate.source})`);

    const baseline = await runPhase(ctx, gw, honestUrl, rate.totalRate, 'baseline', undefined);
    const attackers = spawnAttackers(ctx, gw, ids, limit);
    const underAttack = await runPhase(ctx, gw, honestUrl, rate.totalRate, 'under attack', attackers);

    const ledger = await waitForSettledLedger(gw.httpUrl, SETTLE_TIMEOUT_MS);
    const influx = new InfluxQuery(InfluxSchema.parse({ url: influxd.url, database: BENCH_DATABASE }));
    const honestAcked = calibration.acked + baseline.load.acked + underAttack.load.acked;
    const expected = honestAcked * options.sightings;
    const stored = await countPointsSettled(influx, expected);
    const ready = await fetch(`${gw.httpUrl}/readyz`, { signal: AbortSignal.timeout(5_000) }).then(
      (r) => r.status,
      () => 0,
    );
    const peakRss = readMemory(gw.proc.pid)?.peakRssBytes ?? Number.NaN;
    const alive = !gw.proc.hasExited();
    const stop = await gw.proc.stop();

    const refused = byLabel(underAttack.metricsBefore, underAttack.metricsAfter, 'storeloop_mqtt_refused_total', ['reason']);
    const denied = byLabel(underAttack.metricsBefore, underAttack.metricsAfter, 'storeloop_mqtt_denied_total', ['action', 'reason']);
    const throttled = delta(underAttack.metricsBefore, underAttack.metricsAfter, 'storeloop_mqtt_throttled_total');
    const attackerFigures = underAttack.attackers;
    const attack: AttackFigures = {
      targetRate: rate.totalRate,
      rateSource: rate.source,
      baseline: baseline.phase,
      underAttack: underAttack.phase,
      gatewayPeakRssBytes: peakRss,
      refused,
      denied,
      throttled,
      attackers: attackerFigures,
    };
    const checks: Check[] = [
      ...loadChecks(baseline.load).map((c) => ({ ...c, name: `baseline: ${c.name}` })),
      ...loadChecks(underAttack.load).map((c) => ({ ...c, name: `under attack: honest ${c.name}` })),
      {
        name: 'no attacker login accepted',
        ok: attackerFigures.every((a) => a.breaches === 0),
        detail: attackerFigures.map((a) => `${a.attack} ${a.breaches}`).join(', '),
      },
      controlsCheck(refused, denied, throttled, attackerFigures),
      {
        name: 'InfluxDB holds exactly honest acked × K points (nothing of the attackers got in)',
        ok: stored === expected,
        detail: `${stored} stored, expected (${calibration.acked} calibration + ${baseline.load.acked} baseline + ${underAttack.load.acked} under attack) × ${options.sightings} = ${expected}`,
      },
      honestLedgerCheck(ledger, honestAcked),
      { name: 'gateway ready after the attack', ok: ready === 200, detail: `GET /readyz answered ${ready || 'nothing'}` },
      { name: 'gateway ran through and stopped on SIGTERM', ok: alive && stop.code === 0, detail: `exit ${stop.signal ?? `code ${String(stop.code)}`}` },
    ];
    return {
      kind: 'attack',
      id: spec.id,
      title: spec.title,
      role: 'subject',
      attack,
      processes: underAttack.processes,
      checks,
      facts: [
        [
          'honest load',
          `${options.publishers} publishers (identities honest-p0…, role publisher), K = ${options.sightings}, QoS 1, open loop at ${rate.totalRate} msg/s in total (${rate.source})`,
        ],
        ['calibration (closed loop, honest publishers, no attacker)', `${Math.round(calibration.messagesPerSecond)} msg/s`],
        ['gateway limits', limitsLine(gw)],
        [
          'attacks',
          attackerFigures.length === ATTACKS.length ? 'all six' : `only ${attackerFigures.map((a) => a.attack).join(', ')} (STORELOOP_BENCH_ATTACKS)`,
        ],
        ['attack phase: refused by reason', recordLine(refused)],
        ['attack phase: denied by the topic ACL', recordLine(denied)],
        ['attack phase: publishes throttled', String(throttled)],
        ...attackerFigures.map((a): [string, string] => [`attacker ${a.attack}`, attackerLine(a)]),
        ['gateway log (warn and above)', await logSummary(gw.logFile)],
      ],
    };
  } finally {
    await gateway?.proc.stop();
    await stopInfluxd();
  }
}

/** Closed loop, honest publishers, no attacker: what they reach on this gateway and machine now. */
async function calibrate(ctx: ScenarioContext, url: (p: number) => string): Promise<{ messagesPerSecond: number; acked: number }> {
  const fleet = await PublisherFleet.connect(ctx.group, url, { ...ctx.options, durationMs: CALIBRATION_MS, warmupMs: 1_000 });
  const window = planWindow(CALIBRATION_MS, 1_000);
  const bar = ctx.progress.track('calibration', window, () => fleet.acked);
  const load = await fleet.run(window).finally(() => bar.stop());
  return { messagesPerSecond: load.ackedInWindow / load.measuredSeconds, acked: load.acked };
}

function rateFromCalibration(calibrated: number, cap: number, publishers: number, limit: number): { totalRate: number; source: string } {
  const share = Math.round(calibrated * HONEST_SHARE_OF_CALIBRATION);
  if (share <= cap) return { totalRate: share, source: `${HONEST_SHARE_OF_CALIBRATION} × the calibrated ${Math.round(calibrated)} msg/s` };
  return {
    totalRate: Math.round(cap),
    source: `${HONEST_SHARE_OF_CALIBRATION} × the calibrated ${Math.round(calibrated)} msg/s, capped at ${publishers} publishers × ${HONEST_SHARE_OF_CLIENT_LIMIT} × the per-client limit ${limit} msg/s`,
  };
}

function spawnAttackers(ctx: ScenarioContext, gateway: RunningGateway, ids: Identities, limit: number): BenchChild[] {
  const url = new URL(gateway.mqttUrl);
  const victim = publisherSensorIds(0)[0] as string;
  const forged = { topic: bleTopic(victim), payload: blePayload(Date.now(), 'forged-1', sightingsJson(9_000_000, ctx.options.sightings)) };
  const perAddress = gateway.config.mqtt.limits.maxConnectionsPerAddress;
  return selectedAttacks().map((a, i) => {
    const spec: AttackerSpec = {
      attack: a.attack,
      host: url.hostname,
      port: Number(url.port),
      localAddresses: a.addresses,
      ratePerSecond: a.attack === 'publish-flood' ? a.ratePerSecond * limit : a.ratePerSecond,
      maxConnections: a.attack === 'connection-flood' ? Math.ceil(a.maxConnections * perAddress) : a.maxConnections,
      slowlorisConnections: a.slowloris ?? 0,
      seed: 1 + i,
      victimName: 'honest-p0',
      filter: `${gateway.config.mqtt.topicPrefix}/#`,
      ...(a.attack === 'publish-flood' ? { forged, login: ids.device } : {}),
      ...(a.attack === 'oversized-and-slowloris' ? { login: ids.device } : {}),
      ...(a.attack === 'slow-subscriber' ? { login: ids.operator } : {}),
    };
    return spawnBenchChild(ctx.group, `attacker ${a.attack}`, 'attacker.js', spec);
  });
}

interface PhaseOutcome {
  phase: HonestPhase;
  load: LoadResult;
  processes: ProcessUsage[];
  attackers: AttackerFigures[];
  metricsBefore: string;
  metricsAfter: string;
}

/** The honest publishers at `rate` for --duration (a fresh fleet), with the attackers when given. */
async function runPhase(
  ctx: ScenarioContext,
  gateway: RunningGateway,
  url: (p: number) => string,
  rate: number,
  label: string,
  attackers: BenchChild[] | undefined,
): Promise<PhaseOutcome> {
  await Promise.all((attackers ?? []).map((a) => a.ready(READY_TIMEOUT_MS)));
  const fleet = await PublisherFleet.connect(ctx.group, url, ctx.options, { mode: 'open-loop', totalRate: rate });
  const lead = attackers === undefined ? 0 : ATTACK_LEAD_MS;
  const planned = planWindow(ctx.options.durationMs, ctx.options.warmupMs);
  const window: RunWindow = { startAtMs: planned.startAtMs + lead, measureFromMs: planned.measureFromMs + lead, endAtMs: planned.endAtMs + lead };
  for (const a of attackers ?? []) a.send({ type: 'start', window: { ...window, startAtMs: planned.startAtMs } });
  const metricsBefore = await fetchText(`${gateway.httpUrl}/metrics`);
  const usage = watchDuring(window, [
    new ProcessWatch('storeloop gateway', gateway.proc.pid),
    ...fleet.processes.map((p) => new ProcessWatch(p.name, p.pid)),
    ...(attackers ?? []).map((a) => new ProcessWatch(a.proc.name, a.proc.pid)),
    new ProcessWatch('runner', process.pid),
  ]);
  const connections = pollOpenConnections(gateway.httpUrl, window.endAtMs);
  const bar = ctx.progress.track(label, window, () => fleet.acked);
  const load = await fleet.run(window).finally(() => bar.stop());
  const results = await Promise.all((attackers ?? []).map((a) => a.result(Math.max(0, window.endAtMs - Date.now()) + 15_000)));
  const processes = await usage;
  const metricsAfter = await fetchText(`${gateway.httpUrl}/metrics`);
  const gatewayUsage = processes[0];
  const attackerFigures = results.flatMap((m) => (m.type === 'attacker-result' ? [attackerFiguresOf(m.result, processes)] : []));
  return {
    phase: {
      messagesPerSecond: load.ackedInWindow / load.measuredSeconds,
      puback: load.puback.summary(),
      sent: load.sent,
      acked: load.acked,
      unacked: load.unacked,
      disconnects: load.disconnects,
      gatewayCpuPercent: gatewayUsage?.cpu?.percentOfCore ?? Number.NaN,
      gatewayRssStartBytes: gatewayUsage?.rssStartBytes ?? Number.NaN,
      gatewayRssEndBytes: gatewayUsage?.rssEndBytes ?? Number.NaN,
      maxOpenConnections: await connections,
    },
    load,
    processes,
    attackers: attackerFigures,
    metricsBefore,
    metricsAfter,
  };
}

/** The largest storeloop_mqtt_open_connections seen until `untilMs`. */
async function pollOpenConnections(httpUrl: string, untilMs: number): Promise<number> {
  let max = Number.NaN;
  while (Date.now() < untilMs) {
    const text = await fetchText(`${httpUrl}/metrics`).catch(() => '');
    const open = metricSamples(text, 'storeloop_mqtt_open_connections')[0];
    if (open !== undefined) max = Number.isNaN(max) ? open : Math.max(max, open);
    await delay(METRICS_POLL_MS);
  }
  return max;
}
