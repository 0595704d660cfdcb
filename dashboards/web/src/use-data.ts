/** Loading a page's data: one hook per request, cancelled when the page or its pickers change, holding the ready marker until it settles. */
import { useEffect, useState } from 'preact/hooks';

import { holdReady } from './ready';

export type Loaded<T> = { state: 'loading' } | { state: 'ok'; data: T } | { state: 'error'; message: string };

/** Runs `load` whenever `key` changes; an answer to an older key is dropped. */
export function useData<T>(key: string, load: (signal: AbortSignal) => Promise<T>): Loaded<T> {
  const [loaded, setLoaded] = useState<{ key: string; value: Loaded<T> }>({ key, value: { state: 'loading' } });
  useEffect(() => {
    const controller = new AbortController();
    const release = holdReady();
    setLoaded({ key, value: { state: 'loading' } });
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
    // the loader is keyed by `key`: a new loader function for the same key is the same request
  }, [key]);
  return loaded.key === key ? loaded.value : { state: 'loading' };
}
