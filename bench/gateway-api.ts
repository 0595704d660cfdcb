/**
 * What the benchmark reads from a running gateway: GET /api/v1/ledger (parsed with the fields the
 * bench uses), /metrics as text, and the gateway's pino log file.
 */
import { readFile } from 'node:fs/promises';

import { z } from 'zod';

import { authorizationFor } from './api-token.js';
import type { Check } from './scenario.js';
import { delay } from './processes.js';
import { metricSum } from './servers.js';

const HTTP_TIMEOUT_MS = 5_000;
const SETTLE_POLL_MS = 100;
/** pino's numeric level of `warn`. */
const WARN_LEVEL = 40;

const StatesSchema = z.object({
  held: z.number(),
  rejected: z.number(),
  duplicate: z.number(),
  shed: z.number(),
  forwarded: z.number(),
  logged: z.number(),
});

const SinkSchema = z.object({
  name: z.string(),
  lag: z.object({ records: z.number(), bytes: z.number(), seconds: z.number() }),
  health: z.object({ state: z.string() }),
  ledger: z.object({ logged: z.number(), pending: z.number(), delivered: z.number(), dead_lettered: z.number(), expired: z.number(), balanced: z.boolean() }),
});

const LedgerSchema = z.object({
  balanced: z.boolean(),
  totals: z.object({ received: z.number(), states: StatesSchema }),
  log: z.object({
    headSeq: z.number(),
    retainedBytes: z.number(),
    unconsumedBytes: z.number(),
    quotaBytes: z.number(),
    full: z.boolean(),
    fsyncs: z.number(),
    appendedRecords: z.number(),
  }),
  sinks: z.array(SinkSchema),
});
export type SinkSnapshot = z.infer<typeof SinkSchema>;
export type LedgerSnapshot = z.infer<typeof LedgerSchema>;

function authorized(url: string): RequestInit {
  return { signal: AbortSignal.timeout(HTTP_TIMEOUT_MS), headers: authorizationFor(url) };
}

/** GET `url` as text, with the API token of its gateway when the run started one there. */
export async function fetchText(url: string): Promise<string> {
  const res = await fetch(url, authorized(url));
  if (!res.ok) throw new Error(`GET ${url} answered ${res.status}`);
  return res.text();
}

/** GET /api/v1/ledger: every message in exactly one state, the event log and every sink. */
export async function fetchLedger(httpUrl: string): Promise<LedgerSnapshot> {
  const url = `${httpUrl}/api/v1/ledger`;
  const res = await fetch(url, authorized(url));
  if (!res.ok) throw new Error(`GET ${url} answered ${res.status}`);
  const parsed = LedgerSchema.safeParse((await res.json()) as unknown);
  if (!parsed.success) throw new Error(`GET ${url}: unexpected body (${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')})`);
  return parsed.data;
}

/** The InfluxDB sink in a ledger answer. */
export function influxSink(ledger: LedgerSnapshot): SinkSnapshot {
  const sink = ledger.sinks.find((s) => s.name === 'influx');
  if (!sink) throw new Error(`the gateway reports no influx sink (${ledger.sinks.map((s) => s.name).join(', ')})`);
  return sink;
}

/** True once no message is held (waiting for its append) and the InfluxDB sink has written everything logged. */
export function isSettled(ledger: LedgerSnapshot): boolean {
  return ledger.totals.states.held === 0 && influxSink(ledger).lag.records === 0;
}

/** Polls the ledger until it is settled or `timeoutMs` passed; returns the last snapshot either way. */
export async function waitForSettledLedger(httpUrl: string, timeoutMs: number): Promise<LedgerSnapshot> {
  const deadline = Date.now() + timeoutMs;
  let ledger = await fetchLedger(httpUrl);
  for (let i = 0; !isSettled(ledger) && Date.now() < deadline && i < timeoutMs / SETTLE_POLL_MS; i++) {
    await delay(SETTLE_POLL_MS);
    ledger = await fetchLedger(httpUrl);
  }
  return ledger;
}

/** `received=… logged=… | influx: delivered=… pending=…`: the ledgers in one line. */
export function ledgerLine(ledger: LedgerSnapshot): string {
  const { received, states } = ledger.totals;
  const nonZero = Object.entries(states).filter(([state, n]) => n !== 0 || state === 'held');
  const sink = influxSink(ledger).ledger;
  return `received=${received} ${nonZero.map(([state, n]) => `${state}=${n}`).join(' ')} | influx sink: logged=${sink.logged} delivered=${sink.delivered} pending=${sink.pending} dead_lettered=${sink.dead_lettered}, balanced=${ledger.balanced}`;
}

/** The ledgers once settled: balanced, nothing held, every logged message delivered to InfluxDB. */
export function ledgerCheck(ledger: LedgerSnapshot): Check {
  const sink = influxSink(ledger).ledger;
  const ok = ledger.balanced && isSettled(ledger) && ledger.totals.states.logged === ledger.totals.received && sink.delivered === sink.logged;
  return { name: 'ledgers balanced, held = 0, every message logged and delivered to InfluxDB', ok, detail: ledgerLine(ledger) };
}

export function heapUsedMb(metrics: string): number {
  return metricSum(metrics, 'storeloop_process_nodejs_heap_size_used_bytes') / (1024 * 1024);
}

/**
 * The gateway's event-loop delay (prom-client's histogram, reset at every scrape): from a scrape at
 * the end of the measured interval when the previous one was at its start.
 */
export function eventLoopDelay(metrics: string): string {
  const ms = (name: string) => (1000 * metricSum(metrics, `storeloop_process_nodejs_eventloop_lag_${name}_seconds`)).toFixed(1);
  return `p50 ${ms('p50')} / p99 ${ms('p99')} / max ${ms('max')} ms`;
}

export function gatewayCounters(metrics: string): string {
  const names = [
    'messages_accepted',
    'messages_rejected',
    'messages_duplicate',
    'points_written',
    'points_dropped',
    'influx_write_failures',
    'mqtt_client_errors',
    'backpressure',
  ];
  return names.map((n) => `${n}=${metricSum(metrics, `storeloop_${n}_total`)}`).join(' ');
}

export function influxFacts(metrics: string): Array<[string, string]> {
  const requests = metricSum(metrics, 'storeloop_influx_batch_points_count');
  const points = metricSum(metrics, 'storeloop_influx_batch_points_sum');
  const writeCount = metricSum(metrics, 'storeloop_influx_write_duration_seconds_count');
  const writeSeconds = metricSum(metrics, 'storeloop_influx_write_duration_seconds_sum');
  return [
    ['InfluxDB write requests', `${requests} (avg ${(points / Math.max(1, requests)).toFixed(0)} points each)`],
    ['InfluxDB write request, mean', `${((1000 * writeSeconds) / Math.max(1, writeCount)).toFixed(1)} ms over ${writeCount} requests`],
    ['gateway counters', gatewayCounters(metrics)],
  ];
}

/** The gateway's pino log lines (JSON), parsed; lines that are not JSON come back as `{ raw }`. */
async function readLogRecords(file: string): Promise<Array<Record<string, unknown>>> {
  const text = await readFile(file, 'utf8').catch(() => '');
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => {
      try {
        const parsed = JSON.parse(line) as unknown;
        return typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, unknown>) : { raw: line };
      } catch {
        return { raw: line.slice(0, 120) }; // not JSON (e.g. a stack trace)
      }
    });
}

/** The first log record with message `msg`, or undefined. */
export async function findLogRecord(file: string, msg: string): Promise<Record<string, unknown> | undefined> {
  return (await readLogRecords(file)).find((r) => r['msg'] === msg);
}

/** Counts the gateway's warn/error lines (pino level 40+, or not JSON) and quotes the first few messages. */
export async function logSummary(file: string): Promise<string> {
  const byMessage = new Map<string, number>();
  let lines = 0;
  for (const record of await readLogRecords(file)) {
    const level = typeof record['level'] === 'number' ? record['level'] : undefined;
    if (level !== undefined && level < WARN_LEVEL) continue;
    lines++;
    const msg = level === undefined ? String(record['raw']) : `${level}:${String(record['msg'])}`;
    byMessage.set(msg, (byMessage.get(msg) ?? 0) + 1);
  }
  if (lines === 0) return 'no lines';
  return `${lines} lines: ${[...byMessage.entries()]
    .slice(0, 4)
    .map(([m, n]) => `${n}× ${m}`)
    .join('; ')}`;
}
