/**
 * The goals of issue #8 (and, for the attack scenario, of issue #10), each read from this run's results
 * with its reference from the same run.
 * A goal not met is reported (`NOT MET`), not failed: checks say whether the run itself is sound,
 * targets say how far the gateway is from where it should be.
 */
import { availableParallelism } from 'node:os';

import { cpuOf } from './report-rows.js';
import type { AttackScenarioResult, IdleScenarioResult, LoadScenarioResult, ScenarioResult, StorageScenarioResult } from './scenario.js';

export interface TargetOutcome {
  label: string;
  /** The measured figure, e.g. `PUBACK p99 31.2 ms at 14,000 msg/s`. */
  figure: string;
  /** The reference and the ratio to it, e.g. `mosquitto-open-loop 2.1 ms → 14.9×`. */
  reference: string;
  goal: string;
  /** undefined when the figure could not be measured (e.g. a metric the gateway does not export). */
  met: boolean | undefined;
}

export interface Target {
  /** The scenarios it needs; it is left out when one of them did not complete. */
  needs: string[];
  evaluate(results: ScenarioResult[]): TargetOutcome;
}

/** Durable acknowledged rate as a share of mosquitto's, on the same publishers. */
export const INGEST_SHARE_GOAL = 0.5;
/** storeloop PUBACK p99 at the open-loop rate (half of mosquitto's by default). */
export const OPEN_LOOP_P99_GOAL_MS = 25;
/** The gateway's InfluxDB-sink drain rate as a share of writing to InfluxDB directly. */
export const DRAIN_SHARE_GOAL = 0.8;
/** Gateway RSS with the idle devices connected. */
export const IDLE_RSS_GOAL_MB = 250;
/** The gateway's InfluxDB sink lag, throughout a load run. */
export const SINK_LAG_GOAL_S = 5;
/** Issue #10: honest throughput beside the attackers as a share of the same run's baseline without them. */
export const UNDER_ATTACK_SHARE_GOAL = 0.8;
/** Issue #10: the gateway's peak RSS through the attack run. */
export const UNDER_ATTACK_RSS_GOAL_MB = 400;

const MB = 1024 * 1024;
const int = (n: number) => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : 'n/a');
const ratio = (a: number, b: number) => (Number.isFinite(a / b) ? `${(a / b).toFixed(2)}×` : 'n/a');

function find<K extends ScenarioResult['kind']>(results: ScenarioResult[], id: string, kinds: K[]): Extract<ScenarioResult, { kind: K }> {
  const result = results.find((r) => r.id === id);
  if (result === undefined || !(kinds as string[]).includes(result.kind)) throw new Error(`target needs the ${kinds.join('/')} result of '${id}'`);
  return result as Extract<ScenarioResult, { kind: K }>;
}

const load = (results: ScenarioResult[], id: string): LoadScenarioResult => find(results, id, ['closed-loop', 'open-loop']);
const storage = (results: ScenarioResult[], id: string): StorageScenarioResult => find(results, id, ['storage']);
const idle = (results: ScenarioResult[], id: string): IdleScenarioResult => find(results, id, ['idle']);
const attacked = (results: ScenarioResult[], id: string): AttackScenarioResult => find(results, id, ['attack']);

/**
 * Durable ingest against mosquitto, with the CPU budget that goal leaves the gateway on this machine:
 * every process of the run shares its cores, so at the goal rate the publishers (their measured CPU
 * per message), influxd (its CPU per point) and the sampler and runner (as measured) take their share
 * first; what is left, per message, is what the gateway may spend. Its measured CPU per message
 * (all threads) against that budget says whether the goal fits these cores at all.
 */
function ingestVersusMosquitto(cores = availableParallelism()): Target {
  return {
    needs: ['storeloop-durable', 'mosquitto'],
    evaluate(results) {
      const subject = load(results, 'storeloop-durable');
      const reference = load(results, 'mosquitto');
      const share = subject.messagesPerSecond / reference.messagesPerSecond;
      const goalRate = INGEST_SHARE_GOAL * reference.messagesPerSecond;
      const pointsPerMessage = subject.pointsPerSecond / subject.messagesPerSecond;
      const perMessage = (percent: number) => (percent * 10_000) / subject.messagesPerSecond; // core-µs per message
      const gatewayUs = perMessage(subject.processes[0]?.cpu?.percentOfCore ?? Number.NaN);
      const publishersUs = perMessage(cpuOf(subject, 'publisher '));
      const influxdUsPerPoint = perMessage(cpuOf(subject, 'influxd')) / pointsPerMessage;
      const fixedPercent = cpuOf(subject, 'runner') || 0;
      const othersAtGoal = (goalRate * (publishersUs + influxdUsPerPoint * pointsPerMessage)) / 10_000 + fixedPercent;
      const budgetUs = ((cores * 100 - othersAtGoal) * 10_000) / goalRate;
      return {
        label: 'durable ingest vs mosquitto',
        figure:
          `${int(subject.messagesPerSecond)} msg/s, InfluxDB sink lag max ${subject.sinkLag?.present ? `${subject.sinkLag.maxSeconds.toFixed(2)} s` : 'n/a'}; ` +
          `CPU budget at ${int(goalRate)} msg/s on ${cores} cores: publishers ${publishersUs.toFixed(0)} µs/msg, influxd ${influxdUsPerPoint.toFixed(1)} µs/point, ` +
          `sampler+runner ${fixedPercent.toFixed(0)} % → ${(cores * 100 - othersAtGoal).toFixed(0)} % left = ${budgetUs.toFixed(0)} µs/msg for the gateway, which spends ${gatewayUs.toFixed(0)} µs/msg`,
        reference: `mosquitto ${int(reference.messagesPerSecond)} msg/s → ${share.toFixed(2)}×`,
        goal: `≥ ${INGEST_SHARE_GOAL}× mosquitto`,
        met: Number.isFinite(share) ? share >= INGEST_SHARE_GOAL : undefined,
      };
    },
  };
}

function openLoopP99(): Target {
  return {
    needs: ['storeloop-open-loop', 'mosquitto-open-loop'],
    evaluate(results) {
      const subject = load(results, 'storeloop-open-loop');
      const reference = load(results, 'mosquitto-open-loop');
      const p99 = subject.puback.p99Ms;
      return {
        label: 'open-loop PUBACK p99',
        figure: `${p99.toFixed(1)} ms (p50 ${subject.puback.p50Ms.toFixed(1)}, max ${subject.puback.maxMs.toFixed(0)}) at ${int(subject.openLoop?.targetRate ?? Number.NaN)} msg/s, ${int(subject.messagesPerSecond)} acked/s`,
        reference: `mosquitto-open-loop p99 ${reference.puback.p99Ms.toFixed(1)} ms → ${ratio(p99, reference.puback.p99Ms)}`,
        goal: `≤ ${OPEN_LOOP_P99_GOAL_MS} ms`,
        met: Number.isFinite(p99) ? p99 <= OPEN_LOOP_P99_GOAL_MS : undefined,
      };
    },
  };
}

/**
 * The drain against writing the same points straight to influxd, with the CPU budget the goal leaves
 * the gateway: at the goal rate influxd takes what it spent per point in influx-raw; the rest of the
 * cores, per point, is what the gateway may spend; its measured CPU per point while draining beside it.
 */
function drainVersusRaw(cores = availableParallelism()): Target {
  return {
    needs: ['storeloop-outage', 'influx-raw'],
    evaluate(results) {
      const outage = load(results, 'storeloop-outage').outage;
      const drain = outage?.drainLinesPerSecond ?? Number.NaN;
      const rawResult = storage(results, 'influx-raw');
      const raw = rawResult.storage.pointsPerSecond;
      const goalRate = DRAIN_SHARE_GOAL * raw;
      const influxdUsPerPoint = (cpuOf(rawResult, 'influxd') * 10_000) / raw;
      const budgetUs = ((cores * 100 - (goalRate * influxdUsPerPoint) / 10_000) * 10_000) / goalRate;
      const gatewayUs = ((outage?.gatewayDrainCpuPercent ?? Number.NaN) * 10_000) / drain;
      return {
        label: 'InfluxDB sink drain rate',
        figure:
          `${int(drain)} points/s (storeloop-outage drain); CPU budget at ${int(goalRate)} points/s on ${cores} cores: influxd ${influxdUsPerPoint.toFixed(1)} µs/point (as in influx-raw) ` +
          `→ ${budgetUs.toFixed(1)} µs/point for the gateway, which spends ${gatewayUs.toFixed(1)} µs/point (influxd beside it ${(((outage?.influxdDrainCpuPercent ?? Number.NaN) * 10_000) / drain).toFixed(1)})`,
        reference: `influx-raw ${int(raw)} points/s → ${ratio(drain, raw)}`,
        goal: `≥ ${DRAIN_SHARE_GOAL}× raw`,
        met: Number.isFinite(drain / raw) ? drain / raw >= DRAIN_SHARE_GOAL : undefined,
      };
    },
  };
}

/** Not a goal of its own: the closed-loop sink throughput, next to the storage limit. */
function sustainedVersusRaw(): Target {
  return {
    needs: ['storeloop-durable', 'influx-raw'],
    evaluate(results) {
      const sustained = load(results, 'storeloop-durable').pointsPerSecond;
      const raw = storage(results, 'influx-raw').storage.pointsPerSecond;
      return {
        label: 'closed-loop points/s (information)',
        figure: `${int(sustained)} points/s (storeloop-durable)`,
        reference: `influx-raw ${int(raw)} points/s → ${ratio(sustained, raw)}`,
        goal: '—',
        met: undefined,
      };
    },
  };
}

function idleRss(): Target {
  return {
    needs: ['idle-devices', 'idle-devices-mosquitto'],
    evaluate(results) {
      const subject = idle(results, 'idle-devices').idle;
      const reference = idle(results, 'idle-devices-mosquitto').idle;
      const rssMb = subject.rssWithDevicesBytes / MB;
      return {
        label: `gateway RSS with ${int(subject.wanted)} idle devices`,
        figure: `${rssMb.toFixed(0)} MB (${int(subject.connected)} connected, gateway reports ${subject.serverReported ?? 'n/a'})`,
        reference: `mosquitto ${(reference.rssWithDevicesBytes / MB).toFixed(0)} MB → ${ratio(subject.rssWithDevicesBytes, reference.rssWithDevicesBytes)}`,
        goal: `≤ ${IDLE_RSS_GOAL_MB} MB`,
        met: Number.isFinite(rssMb) ? rssMb <= IDLE_RSS_GOAL_MB : undefined,
      };
    },
  };
}

function sinkLag(id: string): Target {
  return {
    needs: [id],
    evaluate(results) {
      const lag = load(results, id).sinkLag;
      const present = lag?.present === true;
      return {
        label: `InfluxDB sink lag during ${id}`,
        figure: present ? `max ${lag.maxSeconds.toFixed(2)} s (${int(lag.maxRecords)} records)` : 'n/a (no storeloop_sink_lag_seconds{sink="influx"})',
        reference: '—',
        goal: `< ${SINK_LAG_GOAL_S} s throughout`,
        met: present ? lag.maxSeconds < SINK_LAG_GOAL_S : undefined,
      };
    },
  };
}

/**
 * Honest throughput beside the attackers against the baseline of the same run; the attackers' own CPU
 * is printed beside it, since the two cores are shared and CPU they take is CPU the gateway lacks.
 */
function honestThroughputUnderAttack(id: string): Target {
  return {
    needs: [id],
    evaluate(results) {
      const r = attacked(results, id);
      const { baseline, underAttack } = r.attack;
      const share = underAttack.messagesPerSecond / baseline.messagesPerSecond;
      const shortBy =
        Number.isFinite(share) && share < UNDER_ATTACK_SHARE_GOAL ? `; short by ${((UNDER_ATTACK_SHARE_GOAL - share) * 100).toFixed(1)} points` : '';
      return {
        label: 'honest throughput under attack',
        figure:
          `${int(underAttack.messagesPerSecond)} acked msg/s of ${int(r.attack.targetRate)} scheduled, PUBACK p99 ${underAttack.puback.p99Ms.toFixed(1)} ms ` +
          `(baseline ${baseline.puback.p99Ms.toFixed(1)}); attackers ${cpuOf(r, 'attacker ').toFixed(0)} % of a core, gateway ${underAttack.gatewayCpuPercent.toFixed(0)} %${shortBy}`,
        reference: `baseline ${int(baseline.messagesPerSecond)} msg/s → ${ratio(underAttack.messagesPerSecond, baseline.messagesPerSecond)}`,
        goal: `≥ ${UNDER_ATTACK_SHARE_GOAL}× baseline`,
        met: Number.isFinite(share) ? share >= UNDER_ATTACK_SHARE_GOAL : undefined,
      };
    },
  };
}

function rssUnderAttack(id: string): Target {
  return {
    needs: [id],
    evaluate(results) {
      const { attack } = attacked(results, id);
      const peakMb = attack.gatewayPeakRssBytes / MB;
      return {
        label: 'gateway peak RSS under attack',
        figure:
          `${peakMb.toFixed(0)} MB (RSS at the baseline's start ${(attack.baseline.gatewayRssStartBytes / MB).toFixed(0)} MB, its end ${(attack.baseline.gatewayRssEndBytes / MB).toFixed(0)} MB, ` +
          `the attack's end ${(attack.underAttack.gatewayRssEndBytes / MB).toFixed(0)} MB)${Number.isFinite(peakMb) && peakMb >= UNDER_ATTACK_RSS_GOAL_MB ? `; over by ${(peakMb - UNDER_ATTACK_RSS_GOAL_MB).toFixed(0)} MB` : ''}`,
        reference: '—',
        goal: `< ${UNDER_ATTACK_RSS_GOAL_MB} MB`,
        met: Number.isFinite(peakMb) ? peakMb < UNDER_ATTACK_RSS_GOAL_MB : undefined,
      };
    },
  };
}

export const TARGETS: Target[] = [
  ingestVersusMosquitto(),
  openLoopP99(),
  drainVersusRaw(),
  sustainedVersusRaw(),
  idleRss(),
  sinkLag('storeloop-durable'),
  sinkLag('storeloop-open-loop'),
  honestThroughputUnderAttack('storeloop-under-attack'),
  rssUnderAttack('storeloop-under-attack'),
];

/** The targets whose scenarios all completed, evaluated. */
export function evaluateTargets(results: ScenarioResult[], targets: Target[] = TARGETS): TargetOutcome[] {
  return targets.filter((t) => t.needs.every((id) => results.some((r) => r.id === id))).map((t) => t.evaluate(results));
}
