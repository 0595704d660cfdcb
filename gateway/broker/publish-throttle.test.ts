import { describe, expect, it } from 'vitest';

import { PublishThrottle } from './publish-throttle.js';

describe('PublishThrottle', () => {
  it('passes a second of burst, then delays each client by what it owes, and disconnects one that owes too much', () => {
    let now = 0;
    const throttle = new PublishThrottle({ messagesPerSecond: 10, bytesPerSecond: 1_000, maxDelayMs: 2_000 }, () => now);
    const flooder = {};
    const honest = {};
    for (let i = 0; i < 10; i++) expect(throttle.verdict(flooder, 10)).toEqual({ action: 'pass' });
    expect(throttle.verdict(flooder, 10)).toEqual({ action: 'delay', ms: 100 });
    expect(throttle.verdict(honest, 10)).toEqual({ action: 'pass' }); // each client has its own rate
    for (let i = 0; i < 19; i++) throttle.verdict(flooder, 10); // 20 owed: 2 s, the most a publish may wait
    expect(throttle.verdict(flooder, 10)).toEqual({ action: 'disconnect', ms: 2_000 + 100 });
    now = 10_000;
    expect(throttle.verdict(flooder, 10)).toEqual({ action: 'pass' });
  });

  it('counts payload bytes as well as messages', () => {
    const throttle = new PublishThrottle({ messagesPerSecond: 1_000, bytesPerSecond: 1_000, maxDelayMs: 5_000 }, () => 0);
    const client = {};
    expect(throttle.verdict(client, 1_000)).toEqual({ action: 'pass' });
    expect(throttle.verdict(client, 500)).toEqual({ action: 'delay', ms: 500 });
  });
});
