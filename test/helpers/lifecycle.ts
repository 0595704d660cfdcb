/**
 * What every test with real processes needs: cleanups run after each test in reverse order, and
 * `eventually` to wait for a condition. Child processes run the run's one build (test-build.ts).
 */
import { afterEach } from 'vitest';

/** Polls `read` until `ok` holds; throws naming `what` with the last value after `timeoutMs`. */
export async function eventually<T>(read: () => T | Promise<T>, ok: (value: T) => boolean, what: string, timeoutMs = 30_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  let value = await read();
  while (!ok(value)) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(value).slice(0, 500)}`);
    await new Promise((r) => setTimeout(r, 50));
    value = await read();
  }
  return value;
}

/** A list of cleanups the calling test file fills; each runs after its test, last registered first. */
export function useCleanups(): Array<() => Promise<unknown>> {
  const cleanups: Array<() => Promise<unknown>> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
  });
  return cleanups;
}
