/**
 * Failures of the edge agent, one class per failure, each with a stable SL_ERR_EDGE_* code.
 * The base class lives in lib/errors.ts, shared by the gateway and the edge agent.
 */
import { StoreloopError } from '../../lib/errors.js';

interface ErrorOptions {
  context?: Record<string, unknown>;
  cause?: unknown;
}

/** The agent's config file (or an env override) is invalid; `problems` name the key paths. */
export class EdgeConfigError extends StoreloopError {
  constructor(
    message: string,
    readonly problems: string[],
    options: ErrorOptions = {},
  ) {
    super('SL_ERR_EDGE_CONFIG_INVALID', message, { problems, ...options.context }, { cause: options.cause });
  }
}

/** The store-and-forward queue could not be opened or written. */
export class EdgeQueueError extends StoreloopError {
  constructor(message: string, options: ErrorOptions = {}) {
    super('SL_ERR_EDGE_QUEUE', message, options.context, { cause: options.cause });
  }
}

/** A source, the ingress or the publisher failed to start. */
export class EdgeStartError extends StoreloopError {
  constructor(message: string, options: ErrorOptions = {}) {
    super('SL_ERR_EDGE_START', message, options.context, { cause: options.cause });
  }
}
