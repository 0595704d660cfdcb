/**
 * What the benchmark reads from a running gateway: GET /api/v1/ledger (parsed with the fields the
 * bench uses), /metrics as text, and the gateway's pino log file.
 */
import { readFile } from 'node:fs/promises';

import { z } from 'zod';

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
  written: z.number(),
  spooled: z.number(),
  dead_lettered: z.number(),
});

const LedgerSchema = z.object({
  balanced: z.boolean(),
  totals: z.object({ received: z.number(), recovered: z.number(), states: StatesSchema }),
  delivery: z.object({
    mode: z.enum(['direct', 'spooling']),
    spool: z.object({
      pendingMessages: z.number(),
      pendingBytes: z.number(),
      quotaBytes: z.number(),
      drainLinesPerSecond: z.number(),
      full: z.boolean(),
    }),
    deadLetters: z.number(),
  }),
});
export type LedgerSnapshot = z.infer<typeof LedgerSchema>;

export async function fetchText(url: string): Promise<string> {
  const res = await fetch(url, { signal: AbortSignal.timeout(HTTP_TIMEOUT_MS) });
  if (!res.ok) throw new Error(`GET ${url} answered ${res.status}`);
  return res.text();
}

/** GET /api/v1/ledger: every message in exactly one state, and the delivery (spool) status. */
export async function fetchLedger(httpUrl: string): Promise<LedgerSnapshot> {
  const url = `${httpUrl}/api/v1/ledger`;
  const res = await fetch(url, { signal: AbortSignal.timeout(HTTP_TIMEOUT_MS) });
  if (!res.ok) throw new Error(`GET ${url} answered ${res.status}`);
  const parsed = LedgerSchema.safeParse((await res.json()) as unknown);
  if (!parsed.success) throw new Error(`GET ${url}: unexpected body (${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')})`);
  return parsed.data;
}

/** True once no message is held (waiting for its delivery) or spooled (waiting for the drainer). */
export function isSettled(ledger: LedgerSnapshot): boolean {
  return ledger.totals.states.held === 0 && ledger.totals.states.spooled === 0;
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

/** `received=… written=… spooled=…`: the ledger totals in one line. */
export function ledgerLine(ledger: LedgerSnapshot): string {
  const { received, recovered, states } = ledger.totals;
  const nonZero = Object.entries(states).filter(([state, n]) => n !== 0 || state === 'held' || state === 'spooled');
  return `received=${received} recovered=${recovered} ${nonZero.map(([state, n]) => `${state}=${n}`).join(' ')}, balanced=${ledger.balanced}`;
}

/** The ledger once settled: balanced, nothing held or spooled, every received message written. */
export function ledgerCheck(ledger: LedgerSnapshot): Check {
  const { received, recovered, states } = ledger.totals;
  const ok = ledger.balanced && isSettled(ledger) && states.written === received + recovered;
  return { name: 'ledger balanced, held = 0, spooled = 0, every message written', ok, detail: ledgerLine(ledger) };
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
  const names = ['messages_accepted', 'messages_rejected', 'messages_duplicate', 'points_written', 'points_dropped', 'influx_write_failures', 'mqtt_client_errors', 'spool_appended_messages', 'spool_drained_messages'];
  return names.map((n) => `${n}=${metricSum(metrics, `storeloop_${n}_total`)}`).join(' ');
}

export function influxFacts(metrics: string): Array<[string, string]> {
  const requests = metricSum(metrics, 'storeloop_influx_batch_points_count');
  const points = metricSum(metrics, 'storeloop_influx_batch_points_sum');
  const writeCount = metricSum(metrics, 'storeloop_influx_write_duration_seconds_count');
  const writeSeconds = metricSum(metrics, 'storeloop_influx_write_duration_seconds_sum');
  return [
    ['InfluxDB write requests', `${requests} (avg ${(points / Math.max(1, requests)).toFixed(0)} points each)`],
    ['gateway write() wait, mean', `${((1000 * writeSeconds) / Math.max(1, writeCount)).toFixed(1)} ms over ${writeCount} calls`],
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
  return `${lines} lines: ${[...byMessage.entries()].slice(0, 4).map(([m, n]) => `${n}× ${m}`).join('; ')}`;
}
