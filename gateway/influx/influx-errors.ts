/** Errors of the InfluxDB client code: a write or a query that InfluxDB refused or never answered. */
import { StoreloopError } from '../../lib/errors.js';

export class InfluxWriteError extends StoreloopError {
  constructor(message: string, options: { context?: Record<string, unknown>; cause?: unknown } = {}) {
    super('SL_ERR_INFLUX_WRITE', message, options.context, { cause: options.cause });
  }
}

export class InfluxQueryError extends StoreloopError {
  constructor(message: string, options: { context?: Record<string, unknown>; cause?: unknown } = {}) {
    super('SL_ERR_INFLUX_QUERY', message, options.context, { cause: options.cause });
  }
}
