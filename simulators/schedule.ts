/**
 * Simulated time against real time. The simulated window always ends "now": with speed S > 0 it is
 * [start, start + D] with start = realStart + D/S − D, and a message sent at simulated t (its
 * `sendAt`, never before it truly happened) is published at realStart + (t − start)/S, so nothing goes
 * out before it happened; with speed 0 the window is [now − D, now] and everything goes out at once,
 * in `sendAt` order.
 */

export interface SimulationWindow {
  startMs: number;
  endMs: number;
  /** Real time the run starts at (epoch ms). */
  realStartMs: number;
  speed: number;
}

/** The simulated window of a run starting (in real time) at `realStartMs`. */
export function simulationWindow(realStartMs: number, durationMs: number, speed: number): SimulationWindow {
  const startMs = speed === 0 ? realStartMs - durationMs : Math.floor(realStartMs + durationMs / speed - durationMs);
  return { startMs, endMs: startMs + durationMs, realStartMs, speed };
}

/** Real epoch ms at which a message sent at simulated `ts` (its `sendAt`) is published (never before `ts` itself for speed ≥ 1). */
export function publishTimeFor(window: SimulationWindow, ts: number): number {
  if (window.speed === 0) return window.realStartMs;
  return window.realStartMs + (ts - window.startMs) / window.speed;
}

/** The simulated instant that corresponds to a real instant (clamped to the window). */
export function simulatedTimeAt(window: SimulationWindow, realMs: number): number {
  if (window.speed === 0) return window.endMs;
  return Math.min(window.endMs, Math.max(window.startMs, Math.floor(window.startMs + (realMs - window.realStartMs) * window.speed)));
}

/** start + k·interval for k ≥ 1 up to the end; with `closeAtEnd` also the end when it is not on the grid. */
export function intervalTicks(startMs: number, endMs: number, intervalMs: number, closeAtEnd = false): number[] {
  const ticks: number[] = [];
  for (let t = startMs + intervalMs; t <= endMs; t += intervalMs) ticks.push(t);
  if (closeAtEnd && (ticks.length === 0 ? startMs : (ticks[ticks.length - 1] as number)) < endMs) ticks.push(endMs);
  return ticks;
}
