/**
 * Transports for the InfluxWriter's requests. Both wrap the client's own NodeHttpTransport, so gzip,
 * timeouts and error shapes (HttpError with statusCode, body, retryAfter) are the client's for both
 * APIs. `V1Transport` maps `/api/v2/write` to InfluxDB 1.x `/write`.
 */
import {
  HttpError,
  InfluxDB,
  type ChunkCombiner,
  type CommunicationObserver,
  type ResponseStartedFn,
  type SendOptions,
  type Transport,
} from '@influxdata/influxdb-client';

import { basicAuth } from './influx-query.js';

/** The client's v2 precision names and their InfluxDB 1.x `/write?precision=` spelling. */
export const V1_PRECISION = { ns: 'n', us: 'u', ms: 'ms', s: 's' } as const satisfies Record<string, string>;

const V2_WRITE_PATH = '/api/v2/write';

/**
 * The client's NodeHttpTransport with errors normalised the same way for both APIs:
 * - 1.x error bodies are `{"error": "..."}`; the client only reads 2.x's `message`, so the 1.x text
 *   becomes the error message (the client would say `400 Bad Request : {"error":…}`).
 * - `Retry-After` is seconds (RFC 9110 §10.2.3) or an HTTP date; client 1.35 parses the number as
 *   milliseconds, so a server asking for 30 s would be retried after 30 ms. It is converted here.
 */
export class NormalisingTransport implements Transport {
  readonly chunkCombiner: ChunkCombiner;

  constructor(protected readonly inner: Transport) {
    this.chunkCombiner = inner.chunkCombiner;
  }

  /** Maps a client path to the server's; identity here. */
  protected mapPath(path: string): string {
    return path;
  }

  send(path: string, body: string, options: SendOptions, callbacks?: Partial<CommunicationObserver<Uint8Array>>): void {
    this.inner.send(
      this.mapPath(path),
      body,
      options,
      this.wrapCallbacks(callbacks, (err) => callbacks?.error?.(err)),
    );
  }

  async request(path: string, body: unknown, options: SendOptions, responseStarted?: ResponseStartedFn): Promise<unknown> {
    try {
      return (await this.inner.request(this.mapPath(path), body, options, responseStarted)) as unknown;
    } catch (err) {
      throw normaliseError(err);
    }
  }

  async *iterate(path: string, body: unknown, options: SendOptions): AsyncIterableIterator<Uint8Array> {
    try {
      yield* this.inner.iterate(this.mapPath(path), body, options);
    } catch (err) {
      throw normaliseError(err);
    }
  }

  /** Forwards every callback; `onError` receives the normalised error instead of `callbacks.error`. */
  protected wrapCallbacks(
    callbacks: Partial<CommunicationObserver<Uint8Array>> | undefined,
    onError: (err: Error) => void,
  ): Partial<CommunicationObserver<Uint8Array>> {
    const wrapped: Partial<CommunicationObserver<Uint8Array>> = {
      next: (data) => callbacks?.next?.(data),
      complete: () => callbacks?.complete?.(),
      responseStarted: (headers, statusCode) => callbacks?.responseStarted?.(headers, statusCode),
      error: (err) => onError(normaliseError(err)),
    };
    if (callbacks?.useCancellable) wrapped.useCancellable = callbacks.useCancellable.bind(callbacks);
    if (callbacks?.useResume) wrapped.useResume = callbacks.useResume.bind(callbacks);
    return wrapped;
  }
}

export interface V2TransportOptions {
  url: string;
  token?: string | undefined;
  timeoutMs: number;
}

/** The client's NodeHttpTransport for 2.x (`Authorization: Token`), errors normalised. */
export function createV2Transport(opts: V2TransportOptions): Transport {
  const connection = { url: opts.url, timeout: opts.timeoutMs, ...(opts.token === undefined ? {} : { token: opts.token }) };
  return new NormalisingTransport(new InfluxDB(connection).transport);
}

export interface V1TransportOptions {
  url: string;
  database: string;
  retentionPolicy?: string | undefined;
  /** HTTP Basic auth; none when undefined. */
  username?: string | undefined;
  password?: string | undefined;
  timeoutMs: number;
}

/** InfluxDB 1.x `/write` behind the client's v2 write path, HTTP Basic auth or none. */
export class V1Transport extends NormalisingTransport {
  constructor(private readonly opts: V1TransportOptions) {
    const headers: Record<string, string> = {};
    if (opts.username !== undefined) headers['authorization'] = basicAuth(opts.username, opts.password ?? '');
    // No token: NodeHttpTransport would add `Authorization: Token`, which 1.x does not understand.
    super(new InfluxDB({ url: opts.url, timeout: opts.timeoutMs, headers }).transport);
  }

  protected override mapPath(path: string): string {
    return toV1WritePath(path, this.opts.database, this.opts.retentionPolicy);
  }
}

function isV2WritePath(path: string): boolean {
  return path.split('?', 1)[0] === V2_WRITE_PATH;
}

/**
 * `/api/v2/write?org=&bucket=&precision=ns[&consistency=]` → `/write?db=&rp=&precision=n[&consistency=]`;
 * any other path is returned as it is.
 */
export function toV1WritePath(path: string, database: string, retentionPolicy?: string): string {
  if (!isV2WritePath(path)) return path;
  const v2 = new URLSearchParams(path.slice(V2_WRITE_PATH.length + 1));
  const v1 = new URLSearchParams({ db: database });
  if (retentionPolicy !== undefined && retentionPolicy !== '') v1.set('rp', retentionPolicy);
  const precision = v2.get('precision');
  if (precision !== null) v1.set('precision', precision in V1_PRECISION ? V1_PRECISION[precision as keyof typeof V1_PRECISION] : precision);
  const consistency = v2.get('consistency'); // InfluxDB Enterprise 1.x
  if (consistency !== null) v1.set('consistency', consistency);
  return `/write?${v1.toString()}`;
}

/** See NormalisingTransport: 1.x error text as the message, Retry-After seconds as milliseconds. */
export function normaliseError(err: unknown): Error {
  if (!(err instanceof HttpError)) return err instanceof Error ? err : new Error(String(err));
  const json = err.json as unknown;
  const v1Message = isRecord(json) && typeof json['error'] === 'string' ? json['error'] : undefined;
  const message = v1Message ?? err.message;
  const retryAfterMs = parseRetryAfterMs(headerValue(err.headers?.['retry-after']));
  if (retryAfterMs === undefined) {
    err.message = message;
    return err;
  }
  const fixed = new HttpError(err.statusCode, err.statusMessage, err.body, String(retryAfterMs), err.contentType, message, err.headers);
  fixed.json = err.json;
  fixed.code = err.code;
  return fixed;
}

/** Milliseconds to wait from a `Retry-After` value (delay-seconds or HTTP-date); undefined when absent or unreadable. */
export function parseRetryAfterMs(value: string | undefined, now = Date.now()): number | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  const trimmed = value.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000);
  const date = Date.parse(trimmed);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}
