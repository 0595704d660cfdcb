/** Logs a repeated warning at most once per interval per key, with the count it held back. */
import type { Logger } from './logger.js';

export class RateLimitedLog {
  private readonly lastLogged = new Map<string, { at: number; suppressed: number }>();

  constructor(
    private readonly log: Logger,
    private readonly intervalMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  warn(key: string, fields: Record<string, unknown>, message: string): void {
    this.run(key, (suppressed) => this.log.warn({ ...fields, suppressed }, message));
  }

  /** Calls `emit` (with the number of calls held back since the last one) at most once per interval per key. */
  run(key: string, emit: (suppressed: number) => void): void {
    const now = this.now();
    const entry = this.lastLogged.get(key);
    if (entry && now - entry.at < this.intervalMs) {
      entry.suppressed += 1;
      return;
    }
    this.lastLogged.set(key, { at: now, suppressed: 0 });
    emit(entry?.suppressed ?? 0);
  }
}
