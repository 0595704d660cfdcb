/** Errors of the system (not bad input, which is a `Rejection` value): a stable code, context and cause. */
export class StoreloopError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly context: Record<string, unknown> = {},
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}

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
