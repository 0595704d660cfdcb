/** Classifies InfluxDB write failures (InfluxWriteError carries the HTTP status in its context). */

/** True for an answer that will not change on retry: HTTP 4xx other than 429. */
export function isPermanentWriteFailure(err: unknown): boolean {
  const status = (err as { context?: { status?: unknown } } | undefined)?.context?.status;
  return typeof status === 'number' && status >= 400 && status < 500 && status !== 429;
}
