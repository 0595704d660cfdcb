/** Failures of the simulator: StoreloopError subclasses with stable SL_ERR_SIM_* codes. */
import { StoreloopError } from '../lib/errors.js';

export class SimulationError extends StoreloopError {}

/** The options do not describe a simulation that can run (names the key and the allowed values). */
export class SimulationOptionsError extends SimulationError {
  constructor(
    message: string,
    readonly problems: string[],
  ) {
    super('SL_ERR_SIM_OPTIONS', message, { problems });
  }
}

/** The broker could not be reached or refused the connection. */
export class SimulationConnectError extends SimulationError {
  constructor(message: string, options: { context?: Record<string, unknown>; cause?: unknown } = {}) {
    super('SL_ERR_SIM_CONNECT', message, options.context, { cause: options.cause });
  }
}

/** A publish failed (the broker went away, or the client was closed under it). */
export class SimulationPublishError extends SimulationError {
  constructor(message: string, options: { context?: Record<string, unknown>; cause?: unknown } = {}) {
    super('SL_ERR_SIM_PUBLISH', message, options.context, { cause: options.cause });
  }
}
