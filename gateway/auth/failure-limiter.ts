/**
 * Failed logins and bearer tokens per client address: past `maxPerWindow` failures in one window, the
 * address is refused before its credentials are even looked at, until the window ends. Guessing a
 * 256-bit secret is hopeless anyway; this keeps a misconfigured client or a scanner from costing a
 * database read and a hash per request, and makes it visible.
 */

/** Addresses tracked at most; past it, the oldest entry is dropped (memory stays bounded under a flood of addresses). */
const MAX_ADDRESSES = 10_000;

export class FailureLimiter {
  private readonly windows = new Map<string, { startMs: number; failures: number }>();

  constructor(
    private readonly maxPerWindow: number,
    private readonly windowMs = 60_000,
  ) {}

  /** Counts one failure of `address`. */
  record(address: string, now = Date.now()): void {
    const current = this.current(address, now);
    if (current) {
      current.failures += 1;
      return;
    }
    if (this.windows.size >= MAX_ADDRESSES) this.prune(now);
    if (this.windows.size >= MAX_ADDRESSES) {
      const oldest = this.windows.keys().next().value;
      if (oldest !== undefined) this.windows.delete(oldest);
    }
    this.windows.set(address, { startMs: now, failures: 1 });
  }

  /** Milliseconds until `address` may try again, or 0 when it may now. */
  blockedForMs(address: string, now = Date.now()): number {
    const current = this.current(address, now);
    return current && current.failures >= this.maxPerWindow ? current.startMs + this.windowMs - now : 0;
  }

  private current(address: string, now: number): { startMs: number; failures: number } | undefined {
    const window = this.windows.get(address);
    if (window === undefined) return undefined;
    if (now - window.startMs >= this.windowMs) {
      this.windows.delete(address);
      return undefined;
    }
    return window;
  }

  private prune(now: number): void {
    for (const [address, window] of this.windows) if (now - window.startMs >= this.windowMs) this.windows.delete(address);
  }
}
