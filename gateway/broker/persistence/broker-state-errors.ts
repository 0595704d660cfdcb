/** Failures of the broker's persistent state, one class per failure, each with a stable SL_ERR_BROKER_STATE_* code. */
import { StoreloopError } from '../../../lib/errors.js';

interface ErrorOptions {
  context?: Record<string, unknown>;
  cause?: unknown;
}

/** The state file could not be opened, is held by another process, or has an unknown schema version. */
export class BrokerStateOpenError extends StoreloopError {
  constructor(message: string, options: ErrorOptions = {}) {
    super('SL_ERR_BROKER_STATE_OPEN', message, options.context, { cause: options.cause });
  }
}

/** SQLite refused a read or a write (disk full, I/O error); a failed write changed nothing. */
export class BrokerStateIoError extends StoreloopError {
  constructor(message: string, options: ErrorOptions = {}) {
    super('SL_ERR_BROKER_STATE_IO', message, options.context, { cause: options.cause });
  }
}

/** The state was used after destroy(). */
export class BrokerStateClosedError extends StoreloopError {
  constructor(message: string, options: ErrorOptions = {}) {
    super('SL_ERR_BROKER_STATE_CLOSED', message, options.context, { cause: options.cause });
  }
}

/** A lookup by messageId found no stored packet (aedes treats this as "not there", e.g. a new QoS 2 publish). */
export class BrokerStateNoPacketError extends StoreloopError {
  constructor(message: string, options: ErrorOptions = {}) {
    super('SL_ERR_BROKER_STATE_NO_PACKET', message, options.context, { cause: options.cause });
  }
}
