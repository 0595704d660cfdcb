/**
 * Operator commands for the event log's sinks, against a running gateway's HTTP API:
 * `storeloop sinks` (list), `storeloop sinks detach NAME`, `storeloop replay --sink NAME --since D`.
 */
import { parseDuration } from '../../lib/duration.js';

export interface SinksCommandOptions {
  url: string;
  /** API token with the operator scope (--token or STORELOOP_TOKEN). */
  token?: string | undefined;
}

interface SinkView {
  name: string;
  holdsBackIngest: boolean;
  position: number;
  replay: { at: number; until: number } | null;
  lag: { records: number; bytes: number; seconds: number };
  health: { state: string; detail?: string };
  ledger: { logged: number; pending: number; delivered: number; dead_lettered: number; filtered: number; expired: number; replayed: number; balanced: boolean };
}

async function call(url: string, token: string | undefined, init: RequestInit = {}): Promise<unknown> {
  const headers = new Headers(init.headers);
  if (token !== undefined && token !== '') headers.set('authorization', `Bearer ${token}`);
  let res: Response;
  try {
    res = await fetch(url, { ...init, headers, signal: AbortSignal.timeout(10_000) });
  } catch (err) {
    throw new Error(`cannot reach the gateway at ${url} (${(err as Error).message}); is it running, and is --url its HTTP address?`);
  }
  const body = (await res.json().catch(() => ({}))) as { error?: string; message?: string };
  if (!res.ok) {
    const hint =
      res.status === 401
        ? token
          ? ' (is the token revoked or expired? storeloop tokens list)'
          : ' (give an API token with the operator scope: --token or STORELOOP_TOKEN; storeloop tokens add --name NAME --scope operator)'
        : '';
    throw new Error(`${init.method ?? 'GET'} ${url} answered ${res.status}: ${body.error ?? body.message ?? 'no reason given'}${hint}`);
  }
  return body;
}

function describeSink(s: SinkView): string {
  const l = s.ledger;
  const lag = `${s.lag.records} records / ${(s.lag.bytes / 1024 ** 2).toFixed(1)} MiB / ${s.lag.seconds.toFixed(1)} s behind`;
  return (
    `${s.name}${s.holdsBackIngest ? ' (holds back ingest)' : ''}: ${s.health.state}${s.health.detail ? ` (${s.health.detail})` : ''}, position ${s.position}, ${lag}` +
    `${s.replay ? `, replaying ${s.replay.at} → ${s.replay.until}` : ''}\n` +
    `  ledger: logged ${l.logged} = pending ${l.pending} + delivered ${l.delivered} + dead_lettered ${l.dead_lettered} + filtered ${l.filtered} + expired ${l.expired}` +
    ` (${l.balanced ? 'balanced' : 'NOT BALANCED'}); replayed ${l.replayed}`
  );
}

export async function runSinksList(opts: SinksCommandOptions, out: NodeJS.WritableStream = process.stdout): Promise<void> {
  const { sinks } = (await call(`${opts.url}/api/v1/sinks`, opts.token)) as { sinks: SinkView[] };
  out.write(`${sinks.map(describeSink).join('\n')}\n`);
}

export async function runSinksDetach(name: string, opts: SinksCommandOptions, out: NodeJS.WritableStream = process.stdout): Promise<void> {
  const { detached, log } = (await call(`${opts.url}/api/v1/sinks/${encodeURIComponent(name)}`, opts.token, { method: 'DELETE' })) as {
    detached: SinkView;
    log: { retainedBytes: number };
  };
  out.write(`detached ${detached.name} at position ${detached.position}; the log now keeps ${(log.retainedBytes / 1024 ** 2).toFixed(1)} MiB\n`);
}

/** `--since`: a duration back from now (`2h`, `90m`) or an ISO 8601 time. */
export function parseSince(since: string, now = Date.now()): Date {
  if (/^\d{4}-\d{2}-\d{2}/.test(since)) {
    const at = new Date(since);
    if (Number.isNaN(at.getTime())) throw new Error(`--since ${since}: not an ISO 8601 time`);
    return at;
  }
  return new Date(now - parseDuration(since));
}

export async function runReplay(opts: SinksCommandOptions & { sink: string; since: string }, out: NodeJS.WritableStream = process.stdout): Promise<void> {
  const since = parseSince(opts.since);
  const range = (await call(`${opts.url}/api/v1/sinks/${encodeURIComponent(opts.sink)}/replay`, opts.token, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ since: since.toISOString() }),
  })) as { from: number | null; until: number };
  if (range.from === null) {
    out.write(`nothing retained since ${since.toISOString()}: the log keeps records for eventLog.replayRetentionSeconds while its quota allows\n`);
    return;
  }
  out.write(
    `replaying log records ${range.from}–${range.until} (appended since ${since.toISOString()}) to ${opts.sink}; \`storeloop sinks\` shows the progress\n`,
  );
}
