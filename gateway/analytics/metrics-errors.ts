/** Why a metrics request cannot be answered: a bad request (400), an unknown store (404), InfluxDB (502). */
import { StoreloopError } from '../../lib/errors.js';

export type MetricsErrorCode =
  | 'SL_ERR_METRICS_STORE_UNKNOWN'
  | 'SL_ERR_METRICS_ZONE_UNKNOWN'
  | 'SL_ERR_METRICS_TOUCHPOINT_UNKNOWN'
  | 'SL_ERR_METRICS_FILTER'
  | 'SL_ERR_METRICS_TIME'
  | 'SL_ERR_METRICS_INTERVAL'
  | 'SL_ERR_METRICS_TOO_MANY_BUCKETS'
  | 'SL_ERR_METRICS_INFLUX';

const STATUS: Record<MetricsErrorCode, 400 | 404 | 502> = {
  SL_ERR_METRICS_STORE_UNKNOWN: 404,
  SL_ERR_METRICS_ZONE_UNKNOWN: 400,
  SL_ERR_METRICS_TOUCHPOINT_UNKNOWN: 400,
  SL_ERR_METRICS_FILTER: 400,
  SL_ERR_METRICS_TIME: 400,
  SL_ERR_METRICS_INTERVAL: 400,
  SL_ERR_METRICS_TOO_MANY_BUCKETS: 400,
  SL_ERR_METRICS_INFLUX: 502,
};

export class MetricsError extends StoreloopError {
  /** The HTTP status the API answers with. */
  readonly status: 400 | 404 | 502;

  constructor(code: MetricsErrorCode, message: string, options: { context?: Record<string, unknown>; cause?: unknown } = {}) {
    super(code, message, options.context, { cause: options.cause });
    this.status = STATUS[code];
  }
}
