/**
 * Failures of the simulator, shaped like the gateway's StoreloopError (stable code, context, cause);
 * simulators/ imports only protocol/ and config/, so the class is declared here.
 */
export class SimulationError extends Error {
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

/** The options do not describe a simulation that can run (names the key and the allowed values). */
export class SimulationOptionsError extends SimulationError {
  constructor(message: string, readonly problems: string[]) {
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
