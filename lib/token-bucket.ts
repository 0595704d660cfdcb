/** A token bucket (pure but for the clock): `ratePerS` tokens a second, at most `burst` saved up. */
export class TokenBucket {
  private tokens: number;
  private refilledAt: number;

  constructor(
    private ratePerS: number,
    private burst: number,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.tokens = burst;
    this.refilledAt = now();
  }

  /** Whole tokens available now. */
  available(): number {
    this.refill();
    return Math.floor(this.tokens);
  }

  /** Takes one token; the caller checked available(). */
  take(): void {
    this.refill();
    this.tokens -= 1;
  }

  /** Milliseconds until one whole token is there. */
  msUntilNext(): number {
    this.refill();
    return this.tokens >= 1 ? 0 : Math.ceil(((1 - this.tokens) / this.ratePerS) * 1000);
  }

  /**
   * Takes `n` tokens even when fewer are there (the balance may go below zero) and answers how many
   * milliseconds until the balance is back at zero: the delay that keeps a caller to the rate.
   */
  reserve(n: number): number {
    this.refill();
    this.tokens -= n;
    return this.tokens >= 0 ? 0 : Math.ceil((-this.tokens / this.ratePerS) * 1000);
  }

  /** Changes the rate and the burst (remote config); saved tokens above the new burst are dropped. */
  reset(ratePerS: number, burst: number): void {
    this.refill();
    this.ratePerS = ratePerS;
    this.burst = burst;
    this.tokens = Math.min(this.tokens, burst);
  }

  private refill(): void {
    const now = this.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.refilledAt) / 1000) * this.ratePerS);
    this.refilledAt = now;
  }
}
