/**
 * The rows of the report's tables, one set per kind of scenario: what each row reads from a result,
 * how it is printed, and whether it gets a subject/reference ratio.
 */
import type { AttackScenarioResult, IdleScenarioResult, LoadScenarioResult, ScenarioResult, StorageScenarioResult } from './scenario.js';

export interface Row<R extends ScenarioResult> {
  label: string;
  value: (r: R) => number | string;
  format?: (n: number) => string;
  /** True when the row gets a subject/reference ratio. */
  ratio?: boolean;
}

const MB = 1024 * 1024;
export const num = (digits: number) => (n: number) =>
  Number.isFinite(n) ? n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits }) : 'n/a';
const server = (r: ScenarioResult) => r.processes[0];
const other = (r: ScenarioResult, name: string) => r.processes.find((p) => p.name === name);
/** Summed CPU of the processes whose name starts with `prefix`, % of one core. */
export const cpuOf = (r: ScenarioResult, prefix: string) => {
  const matching = r.processes.filter((p) => p.name.startsWith(prefix) && p.cpu !== undefined);
  return matching.length === 0 ? Number.NaN : matching.reduce((sum, p) => sum + (p.cpu?.percentOfCore ?? 0), 0);
};
/** Server CPU milliseconds spent per 1000 acked messages. */
const cpuPerThousand = (r: LoadScenarioResult) => ((server(r)?.cpu?.percentOfCore ?? Number.NaN) * 10_000) / r.messagesPerSecond;
const sinkLagSeconds = (r: LoadScenarioResult) => (r.sinkLag?.present === true ? r.sinkLag.maxSeconds : Number.NaN);

const serverCpu: Row<ScenarioResult> = {
  label: 'server CPU (% of one core)',
  value: (r) => server(r)?.cpu?.percentOfCore ?? Number.NaN,
  format: num(0),
  ratio: true,
};
const serverPeakRss: Row<ScenarioResult> = {
  label: 'server peak RSS (MB)',
  value: (r) => (server(r)?.peakRssBytes ?? Number.NaN) / MB,
  format: num(0),
  ratio: true,
};
const wholeRunCpu: Row<ScenarioResult> = { label: 'whole run CPU (sum, % of one core)', value: (r) => cpuOf(r, ''), format: num(0) };

export const CLOSED_LOOP_ROWS: Array<Row<LoadScenarioResult>> = [
  { label: 'messages/s (acked, measured)', value: (r) => r.messagesPerSecond, format: num(0), ratio: true },
  { label: 'points/s (messages × K)', value: (r) => r.pointsPerSecond, format: num(0), ratio: true },
  { label: 'PUBACK p50 (ms)', value: (r) => r.puback.p50Ms, format: num(2), ratio: true },
  { label: 'PUBACK p99 (ms)', value: (r) => r.puback.p99Ms, format: num(2), ratio: true },
  { label: 'PUBACK max (ms)', value: (r) => r.puback.maxMs, format: num(1) },
  { label: 'end-to-end kind', value: (r) => r.endToEnd.label },
  { label: 'end-to-end p50 (ms)', value: (r) => r.endToEnd.latency.p50Ms, format: num(2), ratio: true },
  { label: 'end-to-end p99 (ms)', value: (r) => r.endToEnd.latency.p99Ms, format: num(2), ratio: true },
  { label: 'end-to-end samples', value: (r) => r.endToEnd.latency.count, format: num(0) },
  { label: 'InfluxDB sink lag max (s)', value: sinkLagSeconds, format: num(2) },
  { label: 'messages appended to the log', value: (r) => r.spoolAppends ?? Number.NaN, format: num(0) },
  serverCpu,
  { label: 'server CPU ms per 1000 messages', value: cpuPerThousand, format: num(1), ratio: true },
  serverPeakRss,
  {
    label: 'server RSS start→end (MB)',
    value: (r) => `${num(0)((server(r)?.rssStartBytes ?? Number.NaN) / MB)} → ${num(0)((server(r)?.rssEndBytes ?? Number.NaN) / MB)}`,
  },
  { label: 'server RSS growth, 2nd half (MB/min)', value: (r) => server(r)?.rssGrowthMbPerMin ?? Number.NaN, format: num(1) },
  { label: 'influxd CPU (% of one core)', value: (r) => other(r, 'influxd')?.cpu?.percentOfCore ?? Number.NaN, format: num(0) },
  { label: 'influxd peak RSS (MB)', value: (r) => (other(r, 'influxd')?.peakRssBytes ?? Number.NaN) / MB, format: num(0) },
  { label: 'publishers CPU (sum, % of one core)', value: (r) => cpuOf(r, 'publisher '), format: num(0) },
  { label: 'subscriber / sampler CPU (%)', value: (r) => (r.role === 'reference' ? cpuOf(r, 'subscriber') : cpuOf(r, 'runner')), format: num(0) },
  wholeRunCpu,
  { label: 'messages sent / acked', value: (r) => `${r.load.sent} / ${r.load.acked}` },
];

export const OPEN_LOOP_ROWS: Array<Row<LoadScenarioResult>> = [
  { label: 'target rate (msg/s)', value: (r) => r.openLoop?.targetRate ?? Number.NaN, format: num(0) },
  { label: 'achieved: acked msg/s (measured)', value: (r) => r.messagesPerSecond, format: num(0), ratio: true },
  { label: 'points/s (messages × K)', value: (r) => r.pointsPerSecond, format: num(0) },
  { label: 'PUBACK p50 from schedule (ms)', value: (r) => r.puback.p50Ms, format: num(2), ratio: true },
  { label: 'PUBACK p90 from schedule (ms)', value: (r) => r.puback.p90Ms, format: num(2) },
  { label: 'PUBACK p99 from schedule (ms)', value: (r) => r.puback.p99Ms, format: num(2), ratio: true },
  { label: 'PUBACK max from schedule (ms)', value: (r) => r.puback.maxMs, format: num(1), ratio: true },
  { label: 'PUBACK samples (scheduled in interval)', value: (r) => r.puback.count, format: num(0) },
  { label: 'publisher send lag p99 (ms)', value: (r) => r.openLoop?.sendLag.p99Ms ?? Number.NaN, format: num(2) },
  { label: 'due by the end but not sent', value: (r) => r.openLoop?.missed ?? Number.NaN, format: num(0) },
  { label: 'end-to-end kind', value: (r) => r.endToEnd.label },
  { label: 'end-to-end p99 (ms)', value: (r) => r.endToEnd.latency.p99Ms, format: num(2) },
  { label: 'InfluxDB sink lag max (s)', value: sinkLagSeconds, format: num(2) },
  serverCpu,
  serverPeakRss,
  { label: 'publishers CPU (sum, % of one core)', value: (r) => cpuOf(r, 'publisher '), format: num(0) },
  wholeRunCpu,
  { label: 'messages sent / acked', value: (r) => `${r.load.sent} / ${r.load.acked}` },
];

export const STORAGE_ROWS: Array<Row<StorageScenarioResult>> = [
  { label: 'points/s (acknowledged, measured)', value: (r) => r.storage.pointsPerSecond, format: num(0) },
  { label: 'write requests/s', value: (r) => r.storage.requestsPerSecond, format: num(1) },
  { label: 'lines per request × in flight', value: (r) => `${r.storage.linesPerRequest} × ${r.storage.concurrentRequests}` },
  { label: 'request p50 (ms)', value: (r) => r.storage.request.p50Ms, format: num(1) },
  { label: 'request p99 (ms)', value: (r) => r.storage.request.p99Ms, format: num(1) },
  { label: 'influxd CPU (% of one core)', value: (r) => other(r, 'influxd')?.cpu?.percentOfCore ?? Number.NaN, format: num(0) },
  { label: 'influxd peak RSS (MB)', value: (r) => (other(r, 'influxd')?.peakRssBytes ?? Number.NaN) / MB, format: num(0) },
  { label: 'writer CPU (% of one core)', value: (r) => cpuOf(r, 'runner'), format: num(0) },
  wholeRunCpu,
  { label: 'points written (whole run)', value: (r) => r.storage.pointsWritten, format: num(0) },
];

const perDeviceKb = (r: IdleScenarioResult) => (r.idle.rssWithDevicesBytes - r.idle.rssBeforeBytes) / 1024 / r.idle.connected;

export const IDLE_ROWS: Array<Row<IdleScenarioResult>> = [
  { label: 'devices connected / wanted', value: (r) => `${r.idle.connected} / ${r.idle.wanted}` },
  { label: 'clients the server reports', value: (r) => r.idle.serverReported ?? Number.NaN, format: num(0) },
  { label: 'established sockets (kernel)', value: (r) => r.idle.established, format: num(0) },
  { label: 'server RSS with devices (MB)', value: (r) => r.idle.rssWithDevicesBytes / MB, format: num(0), ratio: true },
  { label: 'server RSS before devices (MB)', value: (r) => r.idle.rssBeforeBytes / MB, format: num(0) },
  { label: 'RSS per device (KB)', value: perDeviceKb, format: num(1), ratio: true },
  { label: 'server peak RSS (MB)', value: (r) => r.idle.peakRssBytes / MB, format: num(0) },
  { label: 'PINGREQ / PINGRESP', value: (r) => `${r.idle.pingreqs} / ${r.idle.pingresps}` },
  { label: 'server CPU while idle (% of one core)', value: (r) => server(r)?.cpu?.percentOfCore ?? Number.NaN, format: num(1), ratio: true },
  { label: 'connect time (s)', value: (r) => r.idle.connectSeconds, format: num(1) },
];

const sumOf = (record: Record<string, number>) => Object.values(record).reduce((a, b) => a + b, 0);
const pair = (digits: number, a: number, b: number) => `${num(digits)(a)} → ${num(digits)(b)}`;

export const ATTACK_ROWS: Array<Row<AttackScenarioResult>> = [
  { label: 'honest rate, both phases (msg/s)', value: (r) => r.attack.targetRate, format: num(0) },
  { label: 'honest acked msg/s, baseline', value: (r) => r.attack.baseline.messagesPerSecond, format: num(0) },
  { label: 'honest acked msg/s, under attack', value: (r) => r.attack.underAttack.messagesPerSecond, format: num(0) },
  {
    label: 'under attack / baseline',
    value: (r) => r.attack.underAttack.messagesPerSecond / r.attack.baseline.messagesPerSecond,
    format: (n) => (Number.isFinite(n) ? `${n.toFixed(3)}×` : 'n/a'),
  },
  { label: 'PUBACK p50 from schedule (ms), baseline → attack', value: (r) => pair(2, r.attack.baseline.puback.p50Ms, r.attack.underAttack.puback.p50Ms) },
  { label: 'PUBACK p99 from schedule (ms), baseline → attack', value: (r) => pair(2, r.attack.baseline.puback.p99Ms, r.attack.underAttack.puback.p99Ms) },
  { label: 'PUBACK max (ms), baseline → attack', value: (r) => pair(1, r.attack.baseline.puback.maxMs, r.attack.underAttack.puback.maxMs) },
  {
    label: 'gateway CPU (% of one core), baseline → attack',
    value: (r) => pair(0, r.attack.baseline.gatewayCpuPercent, r.attack.underAttack.gatewayCpuPercent),
  },
  { label: 'gateway peak RSS, whole run (MB)', value: (r) => r.attack.gatewayPeakRssBytes / MB, format: num(0) },
  {
    label: 'gateway RSS, baseline start → end (MB)',
    value: (r) => pair(0, r.attack.baseline.gatewayRssStartBytes / MB, r.attack.baseline.gatewayRssEndBytes / MB),
  },
  {
    label: 'gateway RSS, attack start → end (MB)',
    value: (r) => pair(0, r.attack.underAttack.gatewayRssStartBytes / MB, r.attack.underAttack.gatewayRssEndBytes / MB),
  },
  { label: 'open MQTT connections, max under attack', value: (r) => r.attack.underAttack.maxOpenConnections, format: num(0) },
  { label: 'refused under attack (all reasons)', value: (r) => sumOf(r.attack.refused), format: num(0) },
  { label: 'denied by the topic ACL under attack', value: (r) => sumOf(r.attack.denied), format: num(0) },
  { label: 'publishes throttled under attack', value: (r) => r.attack.throttled, format: num(0) },
  { label: 'attackers CPU (sum, % of one core)', value: (r) => cpuOf(r, 'attacker '), format: num(0) },
  { label: 'honest publishers CPU under attack (%)', value: (r) => cpuOf(r, 'publisher '), format: num(0) },
  wholeRunCpu,
  { label: 'honest sent / acked under attack', value: (r) => `${r.attack.underAttack.sent} / ${r.attack.underAttack.acked}` },
];
