/**
 * The final report: one column per scenario, a ratio table with one column per comparison (subject
 * over baseline, both from this run), the outage spool figures, the checks, and the machine.
 */
import type { BenchOptions, OutageFigures, ScenarioResult } from './scenario.js';
import type { Comparison } from './scenarios.js';

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
  label: string;
  subject: string;
  baseline: string;
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
  { label: 'messages via the spool', value: (r) => r.spoolAppends ?? Number.NaN, format: num(0) },
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

/** Subject/baseline ratios of the headline figures. */
export function computeRatios(comparison: Comparison, subject: ScenarioResult, baseline: ScenarioResult): Ratios {
  return {
    label: comparison.label,
    subject: subject.id,
    baseline: baseline.id,
    throughput: subject.messagesPerSecond / baseline.messagesPerSecond,
    pubackP50: subject.puback.p50Ms / baseline.puback.p50Ms,
    pubackP99: subject.puback.p99Ms / baseline.puback.p99Ms,
    endToEndP50: subject.endToEnd.latency.p50Ms / baseline.endToEnd.latency.p50Ms,
    endToEndP99: subject.endToEnd.latency.p99Ms / baseline.endToEnd.latency.p99Ms,
  };
}

/** The comparisons whose two scenarios both completed, with their results. */
export function presentComparisons(comparisons: Comparison[], results: ScenarioResult[]): Array<{ comparison: Comparison; subject: ScenarioResult; baseline: ScenarioResult }> {
  return comparisons.flatMap((comparison) => {
    const subject = results.find((r) => r.id === comparison.subject);
    const baseline = results.find((r) => r.id === comparison.baseline);
    return subject && baseline ? [{ comparison, subject, baseline }] : [];
  });
}

function cell(row: Row, r: ScenarioResult): string {
  const v = row.value(r);
  return typeof v === 'number' ? (row.format ?? num(0))(v) : v;
}

function ratioCell(row: Row, subject: ScenarioResult, baseline: ScenarioResult): string {
  const a = row.value(subject);
  const b = row.value(baseline);
  return typeof a === 'number' && typeof b === 'number' && Number.isFinite(a / b) ? `${(a / b).toFixed(2)}×` : 'n/a';
}

function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join('  │  ');
  const rule = widths.map((w) => '─'.repeat(w)).join('──┼──');
  return [line(header), rule, ...rows.map(line)].join('\n');
}

/** The whole printed report. */
export function renderReport(opts: { results: ScenarioResult[]; failures: Array<{ id: string; error: string }>; options: BenchOptions; machine: MachineFacts; comparisons: Comparison[] }): string {
  const { results, failures, options, machine } = opts;
  const present = presentComparisons(opts.comparisons, results);
  const out: string[] = [];
  out.push('', `storeloop bench: ${options.publishers} publishers × window ${options.inflight}, K = ${options.sightings} sightings/message, QoS 1,`);
  out.push(`${options.durationMs / 1000} s per scenario of which ${options.warmupMs / 1000} s warm-up (excluded); all on 127.0.0.1`, '');
  out.push(table(['', ...results.map((r) => r.id)], ROWS.map((row) => [row.label, ...results.map((r) => cell(row, r))])), '');
  if (present.length > 0) {
    const ratioRows = ROWS.filter((row) => row.ratio).map((row) => [row.label, ...present.map((p) => ratioCell(row, p.subject, p.baseline))]);
    out.push(table(['ratios (subject/baseline)', ...present.map((p) => p.comparison.label)], ratioRows), '');
  }
  for (const { comparison, subject, baseline } of present) {
    const r = computeRatios(comparison, subject, baseline);
    const endToEnd = Number.isFinite(r.endToEndP50) ? `, ${subject.endToEnd.label} vs ${baseline.endToEnd.label}: p50 ${r.endToEndP50.toFixed(1)}× / p99 ${r.endToEndP99.toFixed(1)}×` : '';
    out.push(`${comparison.label}: throughput ${r.throughput.toFixed(2)}×, PUBACK p50 ${r.pubackP50.toFixed(2)}× / p99 ${r.pubackP99.toFixed(2)}×${endToEnd}`);
    out.push(`  (${comparison.meaning})`);
  }
  for (const r of results) if (r.outage) out.push('', ...outageLines(r.id, r.outage));
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

function outageLines(id: string, o: OutageFigures): string[] {
  const perFsync = o.fsyncs === undefined ? 'fsync count not available' : `${o.fsyncs} fsyncs → ${(o.appendedMessages / Math.max(1, o.fsyncs)).toFixed(1)} messages per fsync`;
  return [
    `${id} spool: ${num(0)(o.appendedMessages)} messages (${num(0)(o.appendedLines)} points, ${num(1)(o.pendingBytes / MB)} MB) appended while InfluxDB was down, ${perFsync}`,
    `${id} drain: ${o.drained ? 'spool empty' : 'NOT EMPTY'} ${o.recoverySeconds.toFixed(1)} s after influxd answered again; ${num(0)(o.drainLinesPerSecond)} points/s over ${o.drainSeconds.toFixed(1)} s ` +
      `(gateway-reported ${num(0)(o.reportedDrainLinesPerSecond)}/s; cap delivery.drainLinesPerSecond = ${num(0)(o.drainCapLinesPerSecond)})`,
  ];
}
