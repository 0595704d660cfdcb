/**
 * What a scenario is, what it gets and what it returns, plus the pieces every scenario shares: the
 * result skeleton, the load checks and process watching over the measured interval.
 */
import type { RunWindow } from './ipc.js';
import type { LoadResult } from './load.js';
import type { LatencyHistogram, LatencySummary } from './percentiles.js';
import type { ProcessUsage, ProcessWatch } from './proc-stats.js';
import { delay, type ProcessGroup } from './processes.js';

export interface BenchOptions {
  publishers: number;
  durationMs: number;
  warmupMs: number;
  sightings: number;
  inflight: number;
  /** Total open-loop rate (messages/s); undefined: half of the mosquitto scenario's measured rate. */
  openLoopRate: number | undefined;
  /** Idle MQTT connections of the idle-devices scenarios. */
  idleDevices: number;
  /** MQTT keepalive of the idle devices, seconds. */
  idleKeepaliveSeconds: number;
}

/** What a progress line counts, e.g. `msg/s` and `acked`. */
export interface ProgressUnits {
  rate: string;
  total: string;
}

/** Shows a running scenario; the runner implements it with a progress bar. */
export interface ProgressReporter {
  track(label: string, window: RunWindow, count: () => number, units?: ProgressUnits): { stop(): void };
}

export interface ScenarioContext {
  options: BenchOptions;
  group: ProcessGroup;
  /** A fresh directory for this scenario's files (configs, logs, InfluxDB data, gateway state). */
  workDir: string;
  /** Paths of the system programs every scenario declared in `requires`. */
  programs: Record<string, string>;
  progress: ProgressReporter;
  /** Results of the scenarios that completed before this one in the same run. */
  earlier: readonly ScenarioResult[];
  log(line: string): void;
}

/** A pass/fail statement about a run; a failed check fails the benchmark loudly. */
export interface Check {
  name: string;
  ok: boolean;
  detail: string;
}

/**
 * The outage scenario's figures: what the PUBACKs cost the event log while InfluxDB was down, and how
 * fast the InfluxDB sink caught up afterwards (its drain rate, compared with influx-raw).
 */
export interface OutageFigures {
  /** Messages and points (lines) appended to the log while InfluxDB was down. */
  appendedMessages: number;
  appendedLines: number;
  /** Log bytes the InfluxDB sink had not consumed once publishing stopped. */
  pendingBytes: number;
  /** fsync calls of the log during the load; undefined when not known. */
  fsyncs: number | undefined;
  /** From the restarted influxd answering /ping until the InfluxDB sink had caught up. */
  recoverySeconds: number;
  /** From the first record the sink wrote until it had caught up. */
  drainSeconds: number;
  drainLinesPerSecond: number;
  /** The fastest rate seen between two ledger polls while draining, records/s. */
  reportedDrainLinesPerSecond: number;
  /** The gateway's upper bound on the drain rate, points/s; NaN when it has none. */
  drainCapLinesPerSecond: number;
  /** False when the sink had not caught up within the drain timeout. */
  drained: boolean;
  /** CPU while draining, % of one core (all threads): the gateway and influxd. */
  gatewayDrainCpuPercent: number;
  influxdDrainCpuPercent: number;
}

/** How a scenario loads its server; the report prints one table per kind. */
export type ScenarioKind = 'closed-loop' | 'open-loop' | 'storage' | 'idle' | 'attack';

interface ResultCommon {
  id: string;
  title: string;
  role: 'subject' | 'reference';
  /** The server under test first, then the other processes of the run (influxd, publishers, …). */
  processes: ProcessUsage[];
  checks: Check[];
  /** Extra figures worth printing under the table, as label → value. */
  facts: Array<[string, string]>;
}

/** The gateway's InfluxDB sink lag, sampled from /metrics while the load ran. */
export interface SinkLagFigures {
  /** False when the gateway does not export storeloop_sink_lag_seconds{sink="influx"} (printed n/a). */
  present: boolean;
  maxSeconds: number;
  /** Max of storeloop_sink_lag_records{sink="influx"}; NaN when absent. */
  maxRecords: number;
  samples: number;
}

/** What an open-loop (fixed-rate) run adds: the rate asked for and how well the publishers kept to it. */
export interface OpenLoopFigures {
  /** Total messages/s the publishers were scheduled to send. */
  targetRate: number;
  /** Where targetRate came from, e.g. `½ × mosquitto 30,000 msg/s`. */
  rateSource: string;
  /** Messages scheduled in the measured interval. */
  scheduledInWindow: number;
  /** Messages due by the end but not sent: a few from timer granularity, more when the in-flight cap was reached. */
  missed: number;
  /** Actual send time minus scheduled send time: the load generator's own lag. */
  sendLag: LatencySummary;
}

/** A scenario that publishes QoS 1 messages: closed-loop (a window in flight) or open-loop (fixed rate). */
export interface LoadScenarioResult extends ResultCommon {
  kind: 'closed-loop' | 'open-loop';
  messagesPerSecond: number;
  pointsPerSecond: number;
  /** Closed-loop: from the publish; open-loop: from the message's scheduled send time. */
  puback: LatencySummary;
  /** publish→queryable (storeloop) or publish→subscriber (reference); empty when not measured. */
  endToEnd: { label: string; latency: LatencySummary };
  load: Omit<LoadResult, 'puback' | 'sendLag' | 'perPublisher' | 'window'>;
  /** Messages the gateway appended to its outage spool (storeloop only). */
  spoolAppends?: number;
  outage?: OutageFigures;
  /** storeloop only. */
  sinkLag?: SinkLagFigures;
  openLoop?: OpenLoopFigures;
}

/** InfluxDB written to directly: the storage limit the gateway's InfluxDB sink is compared with. */
export interface StorageFigures {
  pointsPerSecond: number;
  requestsPerSecond: number;
  linesPerRequest: number;
  concurrentRequests: number;
  /** One write request, send to 204. */
  request: LatencySummary;
  /** Points acknowledged by InfluxDB over the whole run (warm-up included). */
  pointsWritten: number;
}

export interface StorageScenarioResult extends ResultCommon {
  kind: 'storage';
  storage: StorageFigures;
}

/** Many idle MQTT connections held through a keepalive period: what they cost the server. */
export interface IdleFigures {
  wanted: number;
  /** Connections that got a CONNACK (accepted) and were still open at the end of the hold. */
  connected: number;
  /** The server's own count (storeloop_mqtt_clients); undefined when the server has none. */
  serverReported: number | undefined;
  /** ESTABLISHED sockets on the server's port, from /proc/net/tcp. */
  established: number;
  rssBeforeBytes: number;
  rssWithDevicesBytes: number;
  peakRssBytes: number;
  pingreqs: number;
  pingresps: number;
  keepaliveSeconds: number;
  connectSeconds: number;
  holdSeconds: number;
}

export interface IdleScenarioResult extends ResultCommon {
  kind: 'idle';
  idle: IdleFigures;
}

/** One phase of the attack scenario: the honest publishers at the fixed rate, without or with the attackers. */
export interface HonestPhase {
  /** Honest PUBACKs a second over the measured interval: what the honest devices got through. */
  messagesPerSecond: number;
  /** From each message's scheduled send time (open loop). */
  puback: LatencySummary;
  sent: number;
  acked: number;
  unacked: number;
  disconnects: number;
  /** % of one core over the measured interval. */
  gatewayCpuPercent: number;
  /** The gateway's RSS when measuring began and when the phase ended. */
  gatewayRssStartBytes: number;
  gatewayRssEndBytes: number;
  /** Largest storeloop_mqtt_open_connections seen while the phase ran. */
  maxOpenConnections: number;
}

/** One attacker process: what it did, what the gateway answered, and what it cost the machine. */
export interface AttackerFigures {
  attack: string;
  /** % of one core over the measured interval: the attackers share the cores with the gateway. */
  cpuPercent: number;
  connections: number;
  outcomes: Record<string, number>;
  /** Logins accepted that should not have been: must be 0. */
  breaches: number;
  errors: string[];
}

export interface AttackFigures {
  /** Honest messages/s, the same in both phases, and where it came from. */
  targetRate: number;
  rateSource: string;
  baseline: HonestPhase;
  underAttack: HonestPhase;
  /** The gateway's VmHWM at the end of the run (both phases). */
  gatewayPeakRssBytes: number;
  /** What the gateway counted during the attack phase, from /metrics: refusals by reason, ACL denials by action and reason, throttled publishes. */
  refused: Record<string, number>;
  denied: Record<string, number>;
  throttled: number;
  attackers: AttackerFigures[];
}

export interface AttackScenarioResult extends ResultCommon {
  kind: 'attack';
  attack: AttackFigures;
}

export type ScenarioResult = LoadScenarioResult | StorageScenarioResult | IdleScenarioResult | AttackScenarioResult;

export interface Scenario {
  id: string;
  title: string;
  role: 'subject' | 'reference';
  /** System programs (and the Debian package that has each) to ensure before any scenario runs. */
  requires: Array<{ program: string; debianPackage: string }>;
  /** True when it runs at the open-loop rate (--rate, or a share of the reference's measured rate). */
  usesOpenLoopRate?: boolean;
  run(ctx: ScenarioContext): Promise<ScenarioResult>;
}

export const BENCH_DATABASE = 'storeloop_bench';

/** The figures every scenario reports the same way, from its load and its processes. */
export function baseResult(
  scenario: Pick<Scenario, 'id' | 'title' | 'role'>,
  ctx: ScenarioContext,
  load: LoadResult,
  processes: ProcessUsage[],
  checks: Check[],
  kind: LoadScenarioResult['kind'] = 'closed-loop',
) {
  const messagesPerSecond = load.ackedInWindow / load.measuredSeconds;
  const { puback, sendLag: _sendLag, perPublisher: _perPublisher, window: _window, ...counts } = load;
  return {
    kind,
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

export function loadChecks(load: LoadResult): Check[] {
  return [
    {
      name: 'publishers stayed connected, no publish errors',
      ok: load.disconnects === 0 && load.errorCount === 0,
      detail: load.errors.join('; ') || 'no errors',
    },
    { name: 'every publish was acked before the drain timeout', ok: load.unacked === 0, detail: `${load.unacked} unacked of ${load.sent}` },
  ];
}

/** Starts watching at the window's measuring start and resolves with the usage at its end. */
export function watchDuring(window: RunWindow, watches: ProcessWatch[]): Promise<ProcessUsage[]> {
  return (async () => {
    await delay(Math.max(0, window.measureFromMs - Date.now()));
    for (const w of watches) w.begin();
    await delay(Math.max(0, window.endAtMs - Date.now()));
    return watches.map((w) => w.end());
  })();
}

/** Runs `fn` at epoch `ms`. */
export async function atTime<T>(ms: number, fn: () => Promise<T>): Promise<T> {
  await delay(Math.max(0, ms - Date.now()));
  return fn();
}

/** `p50 / p99 ms (n=…)` of a histogram, for the facts under the table. */
export function latencyPair(h: LatencyHistogram): string {
  const s = h.summary();
  return `${s.p50Ms.toFixed(1)} / ${s.p99Ms.toFixed(1)} ms (n=${s.count})`;
}

/** A latency summary with no values, for a scenario that cannot measure one (prints n/a). */
export function emptyLatency(): LatencySummary {
  return { count: 0, p50Ms: Number.NaN, p90Ms: Number.NaN, p99Ms: Number.NaN, maxMs: Number.NaN, meanMs: Number.NaN };
}
