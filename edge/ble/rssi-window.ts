/** RSSI smoothing: the median of the samples of the last `windowMs` (robust to one-off reflections). */
export class RssiWindow {
  private samples: Array<{ at: number; rssi: number }> = [];

  constructor(private readonly windowMs: number) {}

  add(at: number, rssi: number): void {
    this.samples.push({ at, rssi });
  }

  clear(): void {
    this.samples = [];
  }

  /** Median of the samples taken after `now - windowMs`, rounded to a whole dBm; undefined when there are none. */
  median(now: number): number | undefined {
    const from = now - this.windowMs;
    this.samples = this.samples.filter((s) => s.at >= from);
    if (this.samples.length === 0) return undefined;
    const sorted = this.samples.map((s) => s.rssi).sort((a, b) => a - b);
    const mid = sorted.length >> 1;
    // both indexes exist: length >= 1 and mid < length
    const value = sorted.length % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
    return Math.round(value);
  }
}
