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
