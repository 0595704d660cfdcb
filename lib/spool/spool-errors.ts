/** Failures of the spool, one class per failure, each with a stable SL_ERR_SPOOL_* code. */
import { StoreloopError } from '../errors.js';

interface ErrorOptions {
  context?: Record<string, unknown>;
  cause?: unknown;
}

/** The quota would be exceeded; nothing of the rejected append was written. */
export class SpoolFullError extends StoreloopError {
  constructor(context: { quotaBytes: number; pendingBytes: number; recordBytes: number }) {
    super('SL_ERR_SPOOL_FULL', `spool full: ${context.recordBytes} bytes do not fit (${context.pendingBytes} of ${context.quotaBytes} bytes pending)`, context);
  }
}

/** Writing or syncing a group failed; its appends were rejected and the segment was closed. */
export class SpoolWriteError extends StoreloopError {
  constructor(message: string, options: ErrorOptions = {}) {
    super('SL_ERR_SPOOL_WRITE', message, options.context, { cause: options.cause });
  }
}

/** Bytes on disk do not match what the spool wrote (a record read back fails its checks). */
export class SpoolCorruptError extends StoreloopError {
  constructor(message: string, options: ErrorOptions = {}) {
    super('SL_ERR_SPOOL_CORRUPT', message, options.context, { cause: options.cause });
  }
}

/** Opening failed: the directory, the checkpoint or a segment could not be read or repaired. */
export class SpoolOpenError extends StoreloopError {
  constructor(message: string, options: ErrorOptions = {}) {
    super('SL_ERR_SPOOL_OPEN', message, options.context, { cause: options.cause });
  }
}

/** Persisting an ack (the checkpoint) failed; the acked state is unchanged. */
export class SpoolAckError extends StoreloopError {
  constructor(message: string, options: ErrorOptions = {}) {
    super('SL_ERR_SPOOL_ACK', message, options.context, { cause: options.cause });
  }
}

/** The spool was used before open() resolved or after close(). */
export class SpoolStateError extends StoreloopError {
  constructor(message: string, options: ErrorOptions = {}) {
    super('SL_ERR_SPOOL_STATE', message, options.context, { cause: options.cause });
  }
}
