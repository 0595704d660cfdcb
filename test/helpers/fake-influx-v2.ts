/**
 * A real HTTP server on loopback that answers the InfluxDB 2.x write API as documented
 * (https://docs.influxdata.com/influxdb/v2/api/#operation/PostWrite, "Troubleshoot issues writing
 * data"), for tests of the v2 write path. It records accepted lines per bucket instead of storing points.
 */
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import { gunzipSync } from 'node:zlib';

import { listenOnLoopback, readBody } from './loopback-http.js';

export interface FakeInfluxV2Options {
  /** Accepted in `Authorization: Token <token>`; default `test-token`. */
  token?: string;
  /** Largest accepted body, compressed and decompressed; default 25 MB (influxd's `max-body-size`). */
  maxBodyBytes?: number;
  /** Known buckets; any bucket is accepted when omitted. */
  buckets?: string[];
}

export interface RecordedRequest {
  method: string;
  path: string;
  bucket: string | null;
  org: string | null;
  precision: string | null;
  headers: IncomingHttpHeaders;
  /** Lines of the (decompressed) body, empty lines dropped. */
  lines: string[];
  bodyBytes: number;
  status: number;
  /** Retry-After sent with this answer, seconds. */
  retryAfterSec?: number;
}

export interface FakeInfluxV2 {
  url: string;
  token: string;
  /** Lines accepted into `bucket`, in arrival order. */
  lines(bucket: string): string[];
  /** Every request to the server, in arrival order, with the status it got. */
  requests: RecordedRequest[];
  /** The next `count` write requests (after auth) answer `status`, with `Retry-After: retryAfterSec` when given. */
  failNext(status: number, count: number, retryAfterSec?: number): void;
  close(): Promise<void>;
}

type FieldType = 'float' | 'integer' | 'uinteger' | 'string' | 'boolean';
interface ParsedLine {
  measurement: string;
  fields: Map<string, FieldType>;
}

const PRECISIONS = new Set(['ns', 'us', 'ms', 's']);
const STATUS_CODES: Record<number, string> = { 429: 'too many requests', 500: 'internal error', 503: 'unavailable' };

/** Starts the fake on 127.0.0.1 and a free port. */
export async function startFakeInfluxV2(options: FakeInfluxV2Options = {}): Promise<FakeInfluxV2> {
  const token = options.token ?? 'test-token';
  const maxBodyBytes = options.maxBodyBytes ?? 25_000_000;
  const stored = new Map<string, string[]>();
  /** bucket\0measurement\0field → the type its first value had (schema conflicts, as 2.x checks them). */
  const fieldTypes = new Map<string, FieldType>();
  const requests: RecordedRequest[] = [];
  const scripted: Array<{ status: number; retryAfterSec: number | undefined }> = [];

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://fake');
    const body = await readBody(req);
    const entry: RecordedRequest = {
      method: req.method ?? '',
      path: url.pathname,
      bucket: url.searchParams.get('bucket'),
      org: url.searchParams.get('org'),
      precision: url.searchParams.get('precision'),
      headers: req.headers,
      lines: [],
      bodyBytes: body.length,
      status: 0,
    };
    requests.push(entry);
    const answer = (status: number, json?: object, headers: Record<string, string> = {}) => {
      entry.status = status;
      res.writeHead(status, {
        'x-influxdb-version': 'v2.7.0-fake',
        ...(json === undefined ? {} : { 'content-type': 'application/json; charset=utf-8' }),
        ...headers,
      });
      res.end(json === undefined ? undefined : JSON.stringify(json));
    };

    if (req.method === 'GET' && url.pathname === '/ping') return answer(204);
    if (req.method !== 'POST' || url.pathname !== '/api/v2/write') return answer(404, { code: 'not found', message: 'path not found' });
    if (req.headers.authorization !== `Token ${token}`) return answer(401, { code: 'unauthorized', message: 'unauthorized access' });

    let text: string;
    if (body.length > maxBodyBytes) return answer(413, { code: 'request too large', message: 'unable to read data: request body too large' });
    try {
      const raw = req.headers['content-encoding'] === 'gzip' ? gunzipSync(body, { maxOutputLength: maxBodyBytes + 1 }) : body;
      if (raw.length > maxBodyBytes) return answer(413, { code: 'request too large', message: 'unable to read data: request body too large' });
      text = raw.toString('utf8');
    } catch (err) {
      if (err instanceof RangeError) return answer(413, { code: 'request too large', message: 'unable to read data: request body too large' });
      return answer(400, { code: 'invalid', message: `unable to decode gzip body: ${(err as Error).message}` });
    }
    entry.lines = text
      .split('\n')
      .map((l) => l.replace(/\r$/, ''))
      .filter((l) => l.trim() !== '' && !l.startsWith('#'));

    const failure = scripted.shift();
    if (failure !== undefined) {
      entry.retryAfterSec = failure.retryAfterSec;
      const headers: Record<string, string> = failure.retryAfterSec === undefined ? {} : { 'retry-after': String(failure.retryAfterSec) };
      return answer(failure.status, { code: STATUS_CODES[failure.status] ?? 'internal error', message: `scripted ${failure.status}` }, headers);
    }
    const org = entry.org;
    const bucket = entry.bucket;
    if (org === null || org === '') return answer(400, { code: 'invalid', message: 'Please provide either orgID or org' });
    if (bucket === null || bucket === '') return answer(400, { code: 'invalid', message: 'Please provide bucket' });
    if (options.buckets !== undefined && !options.buckets.includes(bucket)) return answer(404, { code: 'not found', message: `bucket "${bucket}" not found` });
    const precision = entry.precision ?? 'ns';
    if (!PRECISIONS.has(precision)) return answer(400, { code: 'invalid', message: `invalid precision; valid precision units are ns, us, ms, and s` });

    const parseErrors: string[] = [];
    const conflicts: string[] = [];
    const accepted: string[] = [];
    for (const line of entry.lines) {
      const parsed = parseLine(line);
      if (typeof parsed === 'string') {
        parseErrors.push(`unable to parse '${line}': ${parsed}`);
        continue;
      }
      const conflict = findConflict(fieldTypes, bucket, parsed);
      if (conflict !== undefined) {
        conflicts.push(conflict);
        continue;
      }
      for (const [field, type] of parsed.fields) fieldTypes.set(`${bucket}\0${parsed.measurement}\0${field}`, type);
      accepted.push(line);
    }
    // Documented partial writes: the valid lines are written, the bad ones reported.
    stored.set(bucket, [...(stored.get(bucket) ?? []), ...accepted]);
    if (parseErrors.length > 0)
      return answer(400, { code: 'invalid', message: `partial write: ${parseErrors.join('\n')} dropped=${parseErrors.length + conflicts.length}` });
    if (conflicts.length > 0) {
      return answer(422, {
        code: 'unprocessable entity',
        message: `failure writing points to database: partial write: ${conflicts.join('\n')} dropped=${conflicts.length}`,
      });
    }
    return answer(204);
  };

  const server = await listenOnLoopback((req, res) => {
    handle(req, res).catch((err: unknown) => {
      res.statusCode = 500;
      res.end(JSON.stringify({ code: 'internal error', message: String(err) }));
    });
  });

  return {
    url: `http://127.0.0.1:${server.port}`,
    token,
    lines: (bucket) => [...(stored.get(bucket) ?? [])],
    requests,
    failNext: (status, count, retryAfterSec) => {
      for (let i = 0; i < count; i++) scripted.push({ status, retryAfterSec });
    },
    close: server.stop,
  };
}

function findConflict(fieldTypes: Map<string, FieldType>, bucket: string, parsed: ParsedLine): string | undefined {
  for (const [field, type] of parsed.fields) {
    const existing = fieldTypes.get(`${bucket}\0${parsed.measurement}\0${field}`);
    if (existing !== undefined && existing !== type) {
      return `field type conflict: input field "${field}" on measurement "${parsed.measurement}" is type ${type}, already exists as type ${existing}`;
    }
  }
  return undefined;
}

/**
 * Line protocol (https://docs.influxdata.com/influxdb/v2/reference/syntax/line-protocol/), enough to
 * tell good lines from bad: `measurement[,tag=value…] field=value[,field=value…] [timestamp]`.
 * Returns the parsed line or the reason it is bad.
 */
export function parseLine(line: string): ParsedLine | string {
  let i = 0;
  const readUntil = (stops: string): string => {
    let out = '';
    while (i < line.length && !stops.includes(line[i] ?? '')) {
      if (line[i] === '\\' && i + 1 < line.length) {
        out += line[i + 1];
        i += 2;
      } else {
        out += line[i];
        i++;
      }
    }
    return out;
  };

  const measurement = readUntil(', ');
  if (measurement === '') return 'missing measurement';
  while (line[i] === ',') {
    i++;
    const key = readUntil('=, ');
    if (line[i] !== '=' || key === '') return 'missing tag key';
    i++;
    const value = readUntil(', ');
    if (value === '') return 'missing tag value';
  }
  if (line[i] !== ' ') return 'missing fields';
  i++;

  const fields = new Map<string, FieldType>();
  for (;;) {
    const key = readUntil('=, ');
    if (key === '') return 'missing field key';
    if (line[i] !== '=') return 'invalid field format';
    i++;
    let type: FieldType | undefined;
    if (line[i] === '"') {
      i++;
      while (i < line.length && line[i] !== '"') i += line[i] === '\\' ? 2 : 1;
      if (line[i] !== '"') return 'unbalanced quotes';
      i++;
      type = 'string';
    } else {
      const raw = readUntil(', ');
      if (raw === '') return 'missing field value';
      type = fieldType(raw);
      if (type === undefined) return 'invalid number';
    }
    fields.set(key, type);
    if (line[i] === ',') {
      i++;
      continue;
    }
    break;
  }
  if (i < line.length) {
    if (line[i] !== ' ') return 'invalid field format';
    const timestamp = line.slice(i + 1);
    if (!/^-?\d+$/.test(timestamp)) return 'bad timestamp';
  }
  return { measurement, fields };
}

function fieldType(raw: string): FieldType | undefined {
  if (/^[+-]?\d+i$/.test(raw)) return 'integer';
  if (/^\d+u$/.test(raw)) return 'uinteger';
  if (/^(t|T|true|True|TRUE|f|F|false|False|FALSE)$/.test(raw)) return 'boolean';
  if (/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(raw)) return 'float';
  return undefined;
}
