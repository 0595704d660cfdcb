/**
 * The ready marker: `<html data-ready="true">` once every chart of the page has its data and is
 * drawn, and the `storeloop-ready` performance mark at that moment. The browser tests wait on it and
 * measure navigation → ready with it. Each data load and each chart holds one part until it is done.
 */

let pending = 0;
let generation = 0;

function setReady(ready: boolean): void {
  if (ready) document.documentElement.dataset.ready = 'true';
  else delete document.documentElement.dataset.ready;
}

/** A page was opened or its pickers changed: not ready until what it starts is done. */
export function resetReady(): void {
  generation += 1;
  pending = 0;
  setReady(false);
}

/** Hold the page's readiness until the returned function is called (once; later calls do nothing). */
export function holdReady(): () => void {
  const mine = generation;
  pending += 1;
  setReady(false);
  let released = false;
  return () => {
    if (released || mine !== generation) return;
    released = true;
    pending -= 1;
    if (pending > 0) return;
    // the parts a finished load renders start in the next frames: ready only if none did
    requestAnimationFrame(() =>
      requestAnimationFrame(() => {
        if (pending === 0 && mine === generation && document.documentElement.dataset.ready !== 'true') {
          setReady(true);
          performance.mark('storeloop-ready');
        }
      }),
    );
  };
}
