/**
 * Per-client publish rates (messages and payload bytes a second, each with one second of burst). A
 * client over its rate is slowed, not refused: its publish waits before the ingest pipeline sees it,
 * and since aedes reads a connection's next packets only once the previous ones are answered, TCP
 * pushes back on the client itself while every other client goes on at full speed. A client so far
 * over its rate that it would wait longer than `maxDelayMs` is disconnected instead.
 */
import { TokenBucket } from '../../lib/token-bucket.js';

export interface PublishRates {
  messagesPerSecond: number;
  bytesPerSecond: number;
  /** The most a publish may be held back before its client is disconnected instead. */
  maxDelayMs: number;
}

export type ThrottleVerdict = { action: 'pass' } | { action: 'delay'; ms: number } | { action: 'disconnect'; ms: number };

export class PublishThrottle {
  private readonly buckets = new WeakMap<object, { messages: TokenBucket; bytes: TokenBucket }>();

  constructor(
    private readonly rates: PublishRates,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** What to do with one publish of `bytes` payload bytes from `client`. */
  verdict(client: object, bytes: number): ThrottleVerdict {
    let buckets = this.buckets.get(client);
    if (buckets === undefined) {
      const { messagesPerSecond, bytesPerSecond } = this.rates;
      buckets = { messages: new TokenBucket(messagesPerSecond, messagesPerSecond, this.now), bytes: new TokenBucket(bytesPerSecond, bytesPerSecond, this.now) };
      this.buckets.set(client, buckets);
    }
    const ms = Math.max(buckets.messages.reserve(1), buckets.bytes.reserve(bytes));
    if (ms === 0) return { action: 'pass' };
    return ms > this.rates.maxDelayMs ? { action: 'disconnect', ms } : { action: 'delay', ms };
  }
}
