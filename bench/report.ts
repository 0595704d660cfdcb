/**
 * The final report: one table per kind of scenario (closed-loop, open-loop, storage, idle, attack) with one
 * column per scenario, a ratio table per kind with one column per comparison (subject over
 * baseline, both from this run), the targets of issue #8, the outage spool figures, the checks, and
 * the machine.
 */
import { ATTACK_ROWS, CLOSED_LOOP_ROWS, cpuOf, IDLE_ROWS, num, OPEN_LOOP_ROWS, STORAGE_ROWS, type Row } from './report-rows.js';
import type { BenchOptions, OutageFigures, ScenarioKind, ScenarioResult } from './scenario.js';
import type { Comparison } from './scenarios.js';
import type { TargetOutcome } from './targets.js';

export interface MachineFacts {
  nproc: number;
  cpuModel: string;
  memoryGiB: number;
  kernel: string;
  node: string;
  influxd: string;
  mosquitto: string;
}

/** One comparison's ratios: every ratio row of its kind's table, by row label. */
export interface Ratios {
  label: string;
  subject: string;
  baseline: string;
  figures: Record<string, number>;
}

const MB = 1024 * 1024;
/** Above this share of all cores, the load generators and the server compete for CPU. */
const SATURATED_PERCENT = 85;

type ResultOf<K extends ScenarioKind> = Extract<ScenarioResult, { kind: K }>;

/** Each kind's rows, typed by the results they read. */
const ROWS: { [K in ScenarioKind]: Array<Row<ResultOf<K>>> } = {
  'closed-loop': CLOSED_LOOP_ROWS,
  'open-loop': OPEN_LOOP_ROWS,
  storage: STORAGE_ROWS,
  idle: IDLE_ROWS,
  attack: ATTACK_ROWS,
};

/** The report's sections in print order, with the line above each table. */
const SECTIONS: Array<{ kind: ScenarioKind; heading: (o: BenchOptions) => string }> = [
  {
    kind: 'closed-loop',
    heading: (o) =>
      `Closed loop: ${o.publishers} publishers × ${o.inflight} in flight, K = ${o.sightings} sightings/message, QoS 1, ${o.durationMs / 1000} s of which ${o.warmupMs / 1000} s warm-up (excluded)`,
  },
  {
    kind: 'open-loop',
    heading: (o) =>
      `Open loop: ${o.publishers} publishers on a fixed schedule (rate in the table), K = ${o.sightings}, QoS 1, ${o.durationMs / 1000} s; PUBACK latency from each message's scheduled send time`,
  },
  {
    kind: 'storage',
    heading: (o) => `Storage limit: sighting points written straight to influxd, ${o.durationMs / 1000} s of which ${o.warmupMs / 1000} s warm-up`,
  },
  {
    kind: 'idle',
    heading: (o) => `Idle devices: ${o.idleDevices.toLocaleString('en-US')} MQTT connections, keepalive ${o.idleKeepaliveSeconds} s, held one keepalive + 5 s`,
  },
  {
    kind: 'attack',
    heading: (o) =>
      `Under attack: ${o.publishers} honest publishers at one fixed rate, K = ${o.sightings}, QoS 1, ${o.durationMs / 1000} s alone (baseline), then ${o.durationMs / 1000} s beside six attacker processes; CPU and attack figures of the attack phase`,
  },
];

/** The comparisons whose two scenarios both completed and are of one kind, with their results. */
export function presentComparisons(
  comparisons: Comparison[],
  results: ScenarioResult[],
): Array<{ comparison: Comparison; subject: ScenarioResult; baseline: ScenarioResult }> {
  return comparisons.flatMap((comparison) => {
    const subject = results.find((r) => r.id === comparison.subject);
    const baseline = results.find((r) => r.id === comparison.baseline);
    return subject && baseline && subject.kind === baseline.kind ? [{ comparison, subject, baseline }] : [];
  });
}

function rowsOf(kind: ScenarioKind): Array<Row<ScenarioResult>> {
  // a kind's rows read results of that kind, and every caller passes only results of `kind`
  return ROWS[kind] as Array<Row<ScenarioResult>>;
}

function ratioOf(row: Row<ScenarioResult>, subject: ScenarioResult, baseline: ScenarioResult): number {
  const a = row.value(subject);
  const b = row.value(baseline);
  return typeof a === 'number' && typeof b === 'number' ? a / b : Number.NaN;
}

/** Subject/baseline ratios of every ratio row of the comparison's kind (for --json). */
export function computeRatios(comparison: Comparison, subject: ScenarioResult, baseline: ScenarioResult): Ratios {
  const rows = rowsOf(subject.kind).filter((row) => row.ratio);
  return {
    label: comparison.label,
    subject: subject.id,
    baseline: baseline.id,
    figures: Object.fromEntries(rows.map((row) => [row.label, ratioOf(row, subject, baseline)])),
  };
}

function cell(row: Row<ScenarioResult>, r: ScenarioResult): string {
  const v = row.value(r);
  return typeof v === 'number' ? (row.format ?? num(0))(v) : v;
}

function ratioCell(row: Row<ScenarioResult>, subject: ScenarioResult, baseline: ScenarioResult): string {
  const ratio = ratioOf(row, subject, baseline);
  return Number.isFinite(ratio) ? `${ratio.toFixed(2)}×` : 'n/a';
}

/** A text table: the first column (or, with `leftAligned`, every column) padded on the right, the others on the left. */
function table(header: string[], rows: string[][], leftAligned = false): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 || leftAligned ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join('  │  ');
  const rule = widths.map((w) => '─'.repeat(w)).join('──┼──');
  return [line(header), rule, ...rows.map(line)].join('\n');
}

/** One kind's table, its ratio table and the comparison lines; nothing when no scenario of the kind ran. */
function sectionLines(kind: ScenarioKind, heading: string, results: ScenarioResult[], comparisons: Comparison[]): string[] {
  const ofKind = results.filter((r) => r.kind === kind);
  if (ofKind.length === 0) return [];
  const rows = rowsOf(kind);
  const out = [
    heading,
    '',
    table(
      ['', ...ofKind.map((r) => r.id)],
      rows.map((row) => [row.label, ...ofKind.map((r) => cell(row, r))]),
    ),
    '',
  ];
  const present = presentComparisons(comparisons, ofKind);
  if (present.length === 0) return out;
  const ratioRows = rows.filter((row) => row.ratio).map((row) => [row.label, ...present.map((p) => ratioCell(row, p.subject, p.baseline))]);
  out.push(table(['ratios (subject/baseline)', ...present.map((p) => p.comparison.label)], ratioRows), '');
  for (const { comparison } of present) out.push(`${comparison.label}: ${comparison.meaning}`);
  out.push('');
  return out;
}

function targetLines(targets: TargetOutcome[]): string[] {
  if (targets.length === 0) return [];
  const status = (t: TargetOutcome) => (t.met === undefined ? (t.goal === '—' ? '' : 'n/a') : t.met ? 'met' : 'NOT MET');
  const rows = targets.map((t) => [t.label, t.figure, t.reference, t.goal, status(t)]);
  return [
    'Targets (issues #8 and #10), each against its reference from this run:',
    '',
    table(['target', 'measured', 'reference → ratio', 'goal', 'status'], rows, true),
    '',
  ];
}

/** The whole printed report. */
export function renderReport(opts: {
  results: ScenarioResult[];
  failures: Array<{ id: string; error: string }>;
  options: BenchOptions;
  machine: MachineFacts;
  comparisons: Comparison[];
  targets: TargetOutcome[];
}): string {
  const { results, failures, options, machine } = opts;
  const out: string[] = ['', 'storeloop bench: every process on 127.0.0.1', ''];
  for (const section of SECTIONS) out.push(...sectionLines(section.kind, section.heading(options), results, opts.comparisons));
  out.push(...targetLines(opts.targets));
  for (const r of results) if (r.kind === 'closed-loop' && r.outage) out.push(...outageLines(r.id, r.outage), '');
  for (const r of results) {
    const usedPercent = cpuOf(r, '') / machine.nproc;
    if (usedPercent >= SATURATED_PERCENT) {
      out.push(
        `Note: during ${r.id} the run's processes used ${usedPercent.toFixed(0)} % of all ${machine.nproc} cores: the machine, not only the server, limited it.`,
      );
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
  const perFsync =
    o.fsyncs === undefined ? 'fsync count not available' : `${o.fsyncs} fsyncs → ${(o.appendedMessages / Math.max(1, o.fsyncs)).toFixed(1)} messages per fsync`;
  const cap = Number.isFinite(o.drainCapLinesPerSecond) ? `; cap ${num(0)(o.drainCapLinesPerSecond)} points/s` : '';
  return [
    `${id} log: ${num(0)(o.appendedMessages)} messages (${num(0)(o.appendedLines)} points, ${num(1)(o.pendingBytes / MB)} MB) appended while InfluxDB was down, ${perFsync}`,
    `${id} drain: ${o.drained ? 'InfluxDB sink caught up' : 'InfluxDB sink NOT caught up'} ${o.recoverySeconds.toFixed(1)} s after influxd answered again; ` +
      `${num(0)(o.drainLinesPerSecond)} points/s over ${o.drainSeconds.toFixed(1)} s (fastest between two ledger polls ${num(0)(o.reportedDrainLinesPerSecond)} records/s${cap})`,
  ];
}
