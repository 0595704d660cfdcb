/** Loading a page's data: one hook per request, cancelled when the page or its pickers change, holding the ready marker until it settles. */
import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';

import { holdReady } from './ready';

export type Loaded<T> = { state: 'loading' } | { state: 'ok'; data: T } | { state: 'error'; message: string };

/**
 * Runs `load` whenever `key` changes, and again at each new `refresh` value (a timer's tick) without
 * blanking what is shown or holding the ready marker; an answer to an older key is dropped.
 */
export function useData<T>(key: string, load: (signal: AbortSignal) => Promise<T>, refresh = 0): Loaded<T> {
  const [loaded, setLoaded] = useState<{ key: string; value: Loaded<T> }>({ key, value: { state: 'loading' } });
  const loadedKey = useRef<string | null>(null);
  // a layout effect: the request leaves as soon as the view is rendered, not after the next paint
  useLayoutEffect(() => {
    const controller = new AbortController();
    const first = loadedKey.current !== key;
    loadedKey.current = key;
    const release = first ? holdReady() : () => undefined;
    if (first) setLoaded({ key, value: { state: 'loading' } });
    load(controller.signal)
      .then(
        (data) => !controller.signal.aborted && setLoaded({ key, value: { state: 'ok', data } }),
        (err: unknown) =>
          !controller.signal.aborted && setLoaded({ key, value: { state: 'error', message: err instanceof Error ? err.message : String(err) } }),
      )
      .finally(release);
    return () => {
      controller.abort();
      release();
    };
    // the loader is keyed by `key` and `refresh`: a new loader function for the same key is the same request
  }, [key, refresh]);
  return loaded.key === key ? loaded.value : { state: 'loading' };
}

/** A value that changes every `ms`: pass it as useData's `refresh` for figures that move by themselves. */
export function useTick(ms: number): number {
  const [tick, setTick] = useState(0);
  useEffect(() => {
    const timer = setInterval(() => setTick((t) => t + 1), ms);
    return () => clearInterval(timer);
  }, [ms]);
  return tick;
}
