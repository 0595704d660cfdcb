/**
 * How far a backfill of history has got (the demo: days of a simulated store published fast before the
 * live store starts), for GET /api/v1/live: the page can say that older history is still filling in.
 * Whoever publishes the history sets it; the gateway only shows it. Times are epoch ms.
 */

/** The answer's `history`: the simulated span, how far it has been published, whether it is done. */
export interface HistorySnapshot {
  from: string;
  to: string;
  reached: string;
  done: boolean;
}

export class HistoryStatus {
  private span: { fromMs: number; toMs: number; reachedMs: number; done: boolean } | null = null;

  /** A backfill of [fromMs, toMs] starts (a later one replaces it: a catch-up to the present extends `to`). */
  begin(fromMs: number, toMs: number): void {
    if (!(Number.isFinite(fromMs) && Number.isFinite(toMs) && fromMs <= toMs)) throw new RangeError(`history span: expected from ≤ to, got ${fromMs}..${toMs}`);
    const reachedMs = this.span && this.span.fromMs === fromMs ? Math.min(this.span.reachedMs, toMs) : fromMs;
    this.span = { fromMs, toMs, reachedMs, done: false };
  }

  /** The backfill has published up to `reachedMs` (never moves back, never past its end). */
  reach(reachedMs: number): void {
    if (!this.span) return;
    this.span.reachedMs = Math.min(this.span.toMs, Math.max(this.span.reachedMs, reachedMs));
  }

  /** Every message of the history is published (or the backfill stopped: `reached` says how far it got). */
  finish(): void {
    if (this.span) this.span.done = true;
  }

  /** null: no backfill. */
  snapshot(): HistorySnapshot | null {
    if (!this.span) return null;
    const iso = (ms: number) => new Date(ms).toISOString();
    return { from: iso(this.span.fromMs), to: iso(this.span.toMs), reached: iso(this.span.reachedMs), done: this.span.done };
  }
}
