/**
 * A metrics request as the API receives it (strings), checked against the store's config and turned
 * into the validated request the query builders take: known store, zone and touchpoint ids only, a
 * time range in epoch ms, an interval, and no more buckets than MAX_BUCKETS.
 */
import type { StoreConfig } from '../../config/index.js';
import { METRICS, type MetricName } from './metric-catalogue.js';
import { MetricsError } from './metrics-errors.js';

/** The most intervals one series may have; a longer range needs a longer interval. */
export const MAX_BUCKETS = 5000;

export const INTERVAL_PATTERN = /^([1-9]\d{0,5})(s|m|h|d)$/;
const INTERVAL_UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** An ISO 8601 date (UTC midnight) or date-time with a `Z` or `±hh:mm` offset. */
const ISO_TIME = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2}))?$/;

export interface RawMetricsRequest {
  store: string;
  metric: MetricName;
  from: string;
  to: string;
  interval: string;
  zone?: string | undefined;
  touchpoint?: string | undefined;
}

export interface MetricsRequest {
  store: StoreConfig;
  metric: MetricName;
  /** Inclusive. */
  fromMs: number;
  /** Exclusive. */
  toMs: number;
  /** As the caller wrote it (`5m`). */
  interval: string;
  intervalMs: number;
  /** Intervals from `fromMs` (the first starts at `fromMs`, the last may end after `toMs`). */
  buckets: number;
  zone?: string;
  touchpoint?: string;
}

/** Epoch ms of `from`/`to`: digits are epoch milliseconds, anything else must be ISO 8601. */
export function parseTime(name: 'from' | 'to', text: string): number {
  const value = /^\d{1,15}$/.test(text) ? Number(text) : ISO_TIME.test(text) ? Date.parse(text) : Number.NaN;
  if (!Number.isFinite(value)) {
    throw new MetricsError(
      'SL_ERR_METRICS_TIME',
      `${name} '${text.slice(0, 40)}' is neither an ISO 8601 time (2026-01-01T10:00:00Z, with Z or an offset) nor epoch milliseconds`,
    );
  }
  return Math.floor(value);
}

/** Milliseconds of an interval such as `5m`, `1h`, `1d` (units s, m, h, d). */
export function parseInterval(text: string): number {
  const match = INTERVAL_PATTERN.exec(text);
  if (match === null)
    throw new MetricsError('SL_ERR_METRICS_INTERVAL', `interval '${text.slice(0, 20)}' is not a whole number with a unit s, m, h or d (e.g. 5m, 1h, 1d)`);
  return Number(match[1]) * (INTERVAL_UNIT_MS[match[2] as string] as number);
}

/** Checks `raw` against the configured stores; throws a MetricsError (400 or 404) saying what is wrong. */
export function validateMetricsRequest(raw: RawMetricsRequest, stores: ReadonlyArray<StoreConfig>): MetricsRequest {
  const store = stores.find((s) => s.id === raw.store);
  if (store === undefined) {
    throw new MetricsError('SL_ERR_METRICS_STORE_UNKNOWN', `unknown store '${raw.store.slice(0, 64)}' (stores: ${stores.map((s) => s.id).join(', ')})`);
  }
  const fromMs = parseTime('from', raw.from);
  const toMs = parseTime('to', raw.to);
  if (toMs <= fromMs) throw new MetricsError('SL_ERR_METRICS_TIME', `to (${raw.to}) must be after from (${raw.from})`);
  const intervalMs = parseInterval(raw.interval);
  const buckets = Math.ceil((toMs - fromMs) / intervalMs);
  if (buckets > MAX_BUCKETS) {
    throw new MetricsError(
      'SL_ERR_METRICS_TOO_MANY_BUCKETS',
      `from ${raw.from} to ${raw.to} by ${raw.interval} is ${buckets} intervals: at most ${MAX_BUCKETS} per series; choose a longer interval or a shorter range`,
    );
  }
  const request: MetricsRequest = { store, metric: raw.metric, fromMs, toMs, interval: raw.interval, intervalMs, buckets };
  const filter = METRICS[raw.metric].filter;
  for (const given of ['zone', 'touchpoint'] as const) {
    if (raw[given] !== undefined && filter !== given) {
      throw new MetricsError(
        'SL_ERR_METRICS_FILTER',
        `the metric '${raw.metric}' takes no ${given} filter (${filter === null ? 'it is per store' : `it is filtered by ${filter}`})`,
      );
    }
  }
  if (raw.zone !== undefined) {
    const known = store.zones.map((z) => z.id);
    if (!known.includes(raw.zone)) {
      throw new MetricsError('SL_ERR_METRICS_ZONE_UNKNOWN', `unknown zone '${raw.zone.slice(0, 64)}' in store '${store.id}' (zones: ${known.join(', ')})`);
    }
    request.zone = raw.zone;
  }
  if (raw.touchpoint !== undefined) {
    const known = store.touchpoints.map((t) => t.id);
    if (!known.includes(raw.touchpoint)) {
      throw new MetricsError(
        'SL_ERR_METRICS_TOUCHPOINT_UNKNOWN',
        `unknown touchpoint '${raw.touchpoint.slice(0, 64)}' in store '${store.id}' (touchpoints: ${known.length === 0 ? 'none' : known.join(', ')})`,
      );
    }
    request.touchpoint = raw.touchpoint;
  }
  return request;
}
