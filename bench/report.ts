/**
 * The final report: one column per scenario, one ratio column per subject against the reference,
 * the checks, and the machine the figures came from.
 */
import type { BenchOptions, ScenarioResult } from './scenarios.js';

export interface MachineFacts {
  nproc: number;
  cpuModel: string;
  memoryGiB: number;
  kernel: string;
  node: string;
  influxd: string;
  mosquitto: string;
}

export interface Ratios {
  subject: string;
  reference: string;
  throughput: number;
  pubackP50: number;
  pubackP99: number;
  endToEndP50: number;
  endToEndP99: number;
}

interface Row {
  label: string;
  value: (r: ScenarioResult) => number | string;
  format?: (n: number) => string;
  /** True when the row gets a subject/reference ratio. */
  ratio?: boolean;
}

const MB = 1024 * 1024;
/** Above this share of all cores, the load generators and the server compete for CPU. */
const SATURATED_PERCENT = 85;
const num = (digits: number) => (n: number) => (Number.isFinite(n) ? n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits }) : 'n/a');
const server = (r: ScenarioResult) => r.processes[0];
const other = (r: ScenarioResult, name: string) => r.processes.find((p) => p.name === name);
/** Summed CPU of the processes whose name starts with `prefix`, % of one core. */
const cpuOf = (r: ScenarioResult, prefix: string) => {
  const matching = r.processes.filter((p) => p.name.startsWith(prefix) && p.cpu !== undefined);
  return matching.length === 0 ? Number.NaN : matching.reduce((sum, p) => sum + (p.cpu?.percentOfCore ?? 0), 0);
};
/** Server CPU milliseconds spent per 1000 acked messages. */
const cpuPerThousand = (r: ScenarioResult) => ((server(r)?.cpu?.percentOfCore ?? Number.NaN) * 10_000) / r.messagesPerSecond;

const ROWS: Row[] = [
  { label: 'messages/s (acked, measured)', value: (r) => r.messagesPerSecond, format: num(0), ratio: true },
  { label: 'points/s (messages × K)', value: (r) => r.pointsPerSecond, format: num(0), ratio: true },
  { label: 'PUBACK p50 (ms)', value: (r) => r.puback.p50Ms, format: num(2), ratio: true },
  { label: 'PUBACK p99 (ms)', value: (r) => r.puback.p99Ms, format: num(2), ratio: true },
  { label: 'PUBACK max (ms)', value: (r) => r.puback.maxMs, format: num(1) },
  { label: 'end-to-end kind', value: (r) => r.endToEnd.label },
  { label: 'end-to-end p50 (ms)', value: (r) => r.endToEnd.latency.p50Ms, format: num(2), ratio: true },
  { label: 'end-to-end p99 (ms)', value: (r) => r.endToEnd.latency.p99Ms, format: num(2), ratio: true },
  { label: 'end-to-end samples', value: (r) => r.endToEnd.latency.count, format: num(0) },
  { label: 'server CPU (% of one core)', value: (r) => server(r)?.cpu?.percentOfCore ?? Number.NaN, format: num(0), ratio: true },
  { label: 'server CPU ms per 1000 messages', value: cpuPerThousand, format: num(1), ratio: true },
  { label: 'server peak RSS (MB)', value: (r) => (server(r)?.peakRssBytes ?? Number.NaN) / MB, format: num(0), ratio: true },
  { label: 'server RSS start→end (MB)', value: (r) => `${num(0)((server(r)?.rssStartBytes ?? Number.NaN) / MB)} → ${num(0)((server(r)?.rssEndBytes ?? Number.NaN) / MB)}` },
  { label: 'server RSS growth, 2nd half (MB/min)', value: (r) => server(r)?.rssGrowthMbPerMin ?? Number.NaN, format: num(1) },
  { label: 'influxd CPU (% of one core)', value: (r) => other(r, 'influxd')?.cpu?.percentOfCore ?? Number.NaN, format: num(0) },
  { label: 'influxd peak RSS (MB)', value: (r) => (other(r, 'influxd')?.peakRssBytes ?? Number.NaN) / MB, format: num(0) },
  { label: 'publishers CPU (sum, % of one core)', value: (r) => cpuOf(r, 'publisher '), format: num(0) },
  { label: 'subscriber / sampler CPU (%)', value: (r) => (r.role === 'reference' ? cpuOf(r, 'subscriber') : cpuOf(r, 'runner')), format: num(0) },
  { label: 'whole run CPU (sum, % of one core)', value: (r) => cpuOf(r, ''), format: num(0) },
  { label: 'messages sent / acked', value: (r) => `${r.load.sent} / ${r.load.acked}` },
];

/** Subject/reference ratios of the headline figures. */
export function computeRatios(subject: ScenarioResult, reference: ScenarioResult): Ratios {
  return {
    subject: subject.id,
    reference: reference.id,
    throughput: subject.messagesPerSecond / reference.messagesPerSecond,
    pubackP50: subject.puback.p50Ms / reference.puback.p50Ms,
    pubackP99: subject.puback.p99Ms / reference.puback.p99Ms,
    endToEndP50: subject.endToEnd.latency.p50Ms / reference.endToEnd.latency.p50Ms,
    endToEndP99: subject.endToEnd.latency.p99Ms / reference.endToEnd.latency.p99Ms,
  };
}

function cell(row: Row, r: ScenarioResult): string {
  const v = row.value(r);
  return typeof v === 'number' ? (row.format ?? num(0))(v) : v;
}

function ratioCell(row: Row, subject: ScenarioResult, reference: ScenarioResult): string {
  if (!row.ratio) return '';
  const a = row.value(subject);
  const b = row.value(reference);
  return typeof a === 'number' && typeof b === 'number' && Number.isFinite(a / b) ? `${(a / b).toFixed(2)}×` : 'n/a';
}

function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join('  │  ');
  const rule = widths.map((w) => '─'.repeat(w)).join('──┼──');
  return [line(header), rule, ...rows.map(line)].join('\n');
}

/** The whole printed report. */
export function renderReport(opts: { results: ScenarioResult[]; failures: Array<{ id: string; error: string }>; options: BenchOptions; machine: MachineFacts }): string {
  const { results, failures, options, machine } = opts;
  const reference = results.find((r) => r.role === 'reference');
  const subjects = reference ? results.filter((r) => r.role === 'subject') : [];
  const header = ['', ...results.map((r) => r.id), ...subjects.map((s) => `${s.id}/${reference?.id ?? ''}`)];
  const rows = ROWS.map((row) => [row.label, ...results.map((r) => cell(row, r)), ...subjects.map((s) => (reference ? ratioCell(row, s, reference) : ''))]);
  const out: string[] = [];
  out.push('', `storeloop bench: ${options.publishers} publishers × window ${options.inflight}, K = ${options.sightings} sightings/message, QoS 1,`);
  out.push(`${options.durationMs / 1000} s per scenario of which ${options.warmupMs / 1000} s warm-up (excluded); all on 127.0.0.1`, '');
  out.push(table(header, rows), '');
  for (const s of subjects) {
    if (!reference) break;
    const r = computeRatios(s, reference);
    out.push(
      `${s.id} vs ${reference.id}: throughput ${r.throughput.toFixed(2)}×, PUBACK p50 ${r.pubackP50.toFixed(1)}× / p99 ${r.pubackP99.toFixed(1)}×, ` +
        `${s.endToEnd.label} vs ${reference.endToEnd.label}: p50 ${r.endToEndP50.toFixed(1)}× / p99 ${r.endToEndP99.toFixed(1)}×`,
    );
  }
  if (reference) {
    out.push(
      `Note: ${reference.id} neither validates payloads nor persists them to a database; it PUBACKs on receipt. The ratios are the`,
      'price of storeloop validating every message and acknowledging only after InfluxDB accepted its points (durable ack).',
    );
  }
  for (const r of results) {
    const usedPercent = cpuOf(r, '') / machine.nproc;
    if (usedPercent >= SATURATED_PERCENT) {
      out.push(`Note: during ${r.id} the run's processes used ${usedPercent.toFixed(0)} % of all ${machine.nproc} cores: the machine, not only the server, limited it.`);
    }
  }
  for (const r of results) {
    out.push('', `${r.title}`);
    for (const [label, value] of r.facts) out.push(`  ${label}: ${value.replace(/\s*\n\s*/g, ' | ')}`);
    for (const c of r.checks) out.push(`  ${c.ok ? 'ok  ' : 'FAIL'} ${c.name}: ${c.detail}`);
  }
  for (const f of failures) out.push('', `FAIL scenario ${f.id} did not complete: ${f.error}`);
  out.push('', `machine: nproc ${machine.nproc} (${machine.cpuModel}), ${machine.memoryGiB.toFixed(1)} GiB, Linux ${machine.kernel}`);
  out.push(`         node ${machine.node}, ${machine.influxd}, ${machine.mosquitto}`);
  out.push('         every process (publishers, brokers, influxd, the runner) shares these cores: figures are comparable within a run, not across machines');
  return out.join('\n');
}
