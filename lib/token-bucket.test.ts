import { describe, expect, it } from 'vitest';

import { TokenBucket } from './token-bucket.js';

describe('TokenBucket', () => {
  it('allows a burst, then the rate, and says how long to wait', () => {
    let now = 0;
    const bucket = new TokenBucket(10, 3, () => now);
    expect(bucket.available()).toBe(3);
    for (let i = 0; i < 3; i++) bucket.take();
    expect(bucket.available()).toBe(0);
    expect(bucket.msUntilNext()).toBe(100);
    now = 250;
    expect(bucket.available()).toBe(2);
    now = 10_000;
    expect(bucket.available()).toBe(3); // never more than the burst
    bucket.reset(1, 1);
    expect(bucket.available()).toBe(1);
    bucket.take();
    expect(bucket.msUntilNext()).toBe(1000);
  });
});

describe('TokenBucket.reserve', () => {
  it('goes into debt and answers the delay that keeps the caller to the rate', () => {
    let now = 0;
    const bucket = new TokenBucket(100, 100, () => now);
    expect(bucket.reserve(100)).toBe(0); // the burst
    expect(bucket.reserve(50)).toBe(500); // 50 tokens owed at 100/s
    expect(bucket.reserve(50)).toBe(1000);
    now = 1000;
    expect(bucket.reserve(0)).toBe(0);
    expect(bucket.reserve(1)).toBe(10);
  });
});
