/**
 * InfluxQL over HTTP `/query`, the one read path every InfluxDB answers: 1.x natively, 2.x through
 * its v1 compatibility API (DBRP mapping, `Authorization: Token`), 3.x likewise.
 */
import { z } from 'zod';

import type { InfluxConfig } from '../../config/schema.js';
import { InfluxQueryError } from './influx-errors.js';

/** One series of a statement's result, as InfluxDB's JSON has it. */
export interface QuerySeries {
  name: string;
  tags?: Record<string, string>;
  columns: string[];
  values: unknown[][];
}

export interface QueryOptions {
  /**
   * `ms`: the `time` column as epoch milliseconds (numbers). `ns`: the `time` column as epoch
   * nanoseconds in a decimal string (a JSON number cannot hold them exactly, so they are computed
   * from the RFC 3339 answer). Omitted: RFC 3339 strings as InfluxDB sends them.
   */
  epoch?: 'ms' | 'ns';
}

const SeriesSchema = z.object({
  name: z.string().default(''),
  tags: z.record(z.string(), z.string()).optional(),
  columns: z.array(z.string()),
  values: z.array(z.array(z.unknown())).default([]),
});

const ResponseSchema = z.object({
  results: z.array(z.object({ statement_id: z.number().optional(), series: z.array(SeriesSchema).optional(), error: z.string().optional() })).default([]),
  error: z.string().optional(),
});

/** 1.x answers errors as `{"error": …}`, 2.x as `{"code": …, "message": …}`. */
const ErrorBodySchema = z.object({ error: z.string().optional(), message: z.string().optional() });

const MAX_MESSAGE_CHARS = 200;

/** Quotes an InfluxQL identifier (database, measurement): `"name"` with `\` and `"` escaped. */
export function quoteIdentifier(name: string): string {
  return `"${name.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

/**
 * True when every statement only reads (SELECT without INTO, SHOW), so it may go as GET; 1.x refuses
 * writes and schema changes over GET. Splitting on `;` is naive, so an odd case falls back to POST.
 */
export function isReadOnlyQuery(influxql: string): boolean {
  const statements = influxql
    .split(';')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  return statements.length > 0 && statements.every((s) => /^(SELECT|SHOW)\b/i.test(s) && !/\bINTO\b/i.test(s));
}

/** Epoch nanoseconds (decimal string) of an RFC 3339 timestamp with up to 9 fractional digits. */
export function rfc3339ToEpochNs(value: string): string {
  const match = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})$/.exec(value);
  const seconds = match?.[1];
  if (seconds === undefined) throw new Error(`not an RFC 3339 timestamp: '${value.slice(0, 40)}'`);
  const ms = Date.parse(`${seconds}${match?.[3] ?? 'Z'}`);
  if (Number.isNaN(ms)) throw new Error(`not an RFC 3339 timestamp: '${value.slice(0, 40)}'`);
  const fractionNs = BigInt((match?.[2] ?? '').padEnd(9, '0'));
  return (BigInt(ms) * 1_000_000n + fractionNs).toString();
}

/** Runs InfluxQL against the configured InfluxDB and returns the series of every statement. */
export class InfluxQuery {
  constructor(private readonly config: InfluxConfig) {}

  /** Sends `influxql` to `/query` and returns all series; an error in any result rejects. */
  async query(influxql: string, opts: QueryOptions = {}): Promise<QuerySeries[]> {
    const readOnly = isReadOnlyQuery(influxql);
    const params = this.params(opts);
    let url = `${this.config.url.replace(/\/+$/, '')}/query?${params.toString()}`;
    const init: RequestInit = { headers: this.headers(), signal: AbortSignal.timeout(this.config.timeoutMs) };
    if (readOnly) {
      url += `&${new URLSearchParams({ q: influxql }).toString()}`;
      init.method = 'GET';
    } else {
      init.method = 'POST';
      init.body = new URLSearchParams({ q: influxql });
    }
    const context = { api: this.config.api, method: init.method };

    let res: Response;
    let text: string;
    try {
      res = await fetch(url, init);
      text = await res.text();
    } catch (err) {
      throw new InfluxQueryError('InfluxDB query request failed', { cause: err, context });
    }
    const json = parseJson(text);
    if (!res.ok) {
      const body = ErrorBodySchema.safeParse(json);
      const message = (body.success ? (body.data.error ?? body.data.message) : undefined) ?? (text || res.statusText);
      throw new InfluxQueryError(`InfluxDB rejected the query: ${message.slice(0, MAX_MESSAGE_CHARS)}`, { context: { ...context, status: res.status } });
    }
    const parsed = ResponseSchema.safeParse(json);
    if (!parsed.success) {
      throw new InfluxQueryError('InfluxDB answered /query with an unexpected body', { cause: parsed.error, context: { ...context, status: res.status } });
    }
    return collectSeries(parsed.data, opts, context);
  }

  private params(opts: QueryOptions): URLSearchParams {
    const { api, database, bucket, retentionPolicy } = this.config;
    const params = new URLSearchParams({ db: api === 'v1' ? database : bucket });
    if (api === 'v1' && retentionPolicy !== undefined) params.set('rp', retentionPolicy);
    // ns is converted locally from RFC 3339, see QueryOptions.epoch
    if (opts.epoch === 'ms') params.set('epoch', 'ms');
    return params;
  }

  private headers(): Record<string, string> {
    const { api, username, password, token } = this.config;
    const headers: Record<string, string> = { accept: 'application/json' };
    if (api === 'v2' && token !== undefined) headers['authorization'] = `Token ${token}`;
    if (api === 'v1' && username !== undefined) headers['authorization'] = basicAuth(username, password ?? '');
    return headers;
  }
}

/** `Authorization` value for HTTP Basic auth (RFC 7617), which InfluxDB 1.x accepts. */
export function basicAuth(username: string, password: string): string {
  return `Basic ${Buffer.from(`${username}:${password}`, 'utf8').toString('base64')}`;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function collectSeries(data: z.infer<typeof ResponseSchema>, opts: QueryOptions, context: Record<string, unknown>): QuerySeries[] {
  if (data.error !== undefined) {
    throw new InfluxQueryError(`InfluxDB query failed: ${data.error.slice(0, MAX_MESSAGE_CHARS)}`, { context });
  }
  const out: QuerySeries[] = [];
  for (const result of data.results) {
    if (result.error !== undefined) {
      throw new InfluxQueryError(`InfluxDB query failed: ${result.error.slice(0, MAX_MESSAGE_CHARS)}`, {
        context: { ...context, statement: result.statement_id },
      });
    }
    for (const series of result.series ?? []) out.push(toSeries(series, opts));
  }
  return out;
}

function toSeries(series: z.infer<typeof SeriesSchema>, opts: QueryOptions): QuerySeries {
  const timeIndex = series.columns.indexOf('time');
  const values =
    opts.epoch === 'ns' && timeIndex >= 0
      ? series.values.map((row) => row.map((v, i) => (i === timeIndex && typeof v === 'string' ? rfc3339ToEpochNs(v) : v)))
      : series.values;
  const out: QuerySeries = { name: series.name, columns: series.columns, values };
  if (series.tags !== undefined) out.tags = series.tags;
  return out;
}
