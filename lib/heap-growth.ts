/**
 * How far V8 lets the heap grow past what is live before its next full collection. By default the
 * limit after a full GC is up to 4 × the live heap on a machine whose heap limit is 2 GB or more (any
 * machine with 16 GB of RAM or more): under the bench's attack the gateway's live heap was ~50 MB and its
 * heap reached ~250 MB, with the buffers only a full GC frees on top. 100 % (2 ×) kept the peak RSS under
 * attack at ~340 MB instead of ~470 MB; the extra full collections took ~1 µs per message on the event
 * loop (50 %, 1.5 ×, took ~5 µs). See docs/configuration.md, "Memory".
 */
import { setFlagsFromString } from 'node:v8';

export const HEAP_GROWING_PERCENT = 100;

const FLAG = /^--heap[-_]growing[-_]percent(=|$)/;

/**
 * Sets V8's heap growing factor to 1 + HEAP_GROWING_PERCENT / 100 for this process and its worker
 * threads, unless node was started with its own `--heap-growing-percent` (then that one stays).
 * V8 reads the flag each time it sets the next limit, so setting it at startup takes effect.
 */
export function limitHeapGrowth(execArgv: readonly string[] = process.execArgv): boolean {
  if (execArgv.some((arg) => FLAG.test(arg))) return false;
  setFlagsFromString(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
  return true;
}
