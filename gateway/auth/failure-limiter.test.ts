import { describe, expect, it } from 'vitest';

import { FailureLimiter } from './failure-limiter.js';
import { WebSessions } from './web-sessions.js';

describe('FailureLimiter', () => {
  it('blocks an address after its failures in one window until the window ends, and no other address', () => {
    const limiter = new FailureLimiter(3, 60_000);
    const t0 = 1_000_000;
    for (let i = 0; i < 2; i++) limiter.record('10.0.0.1', t0 + i);
    expect(limiter.blockedForMs('10.0.0.1', t0 + 2)).toBe(0);
    limiter.record('10.0.0.1', t0 + 2);
    expect(limiter.blockedForMs('10.0.0.1', t0 + 10_000)).toBe(50_000);
    expect(limiter.blockedForMs('10.0.0.2', t0 + 10_000)).toBe(0);
    expect(limiter.blockedForMs('10.0.0.1', t0 + 60_000)).toBe(0);
  });
});

describe('WebSessions', () => {
  it('ends a session after its TTL, or at its token expiry when that comes first, and on logout', () => {
    const sessions = new WebSessions(3_600_000);
    const t0 = 1_000_000;
    const long = sessions.create('tok1', null, t0);
    const short = sessions.create('tok2', new Date(t0 + 60_000), t0);
    expect(long.id).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(short.expiresAt.getTime()).toBe(t0 + 60_000);
    expect(sessions.get(short.id, t0 + 59_999)?.tokenId).toBe('tok2');
    expect(sessions.get(short.id, t0 + 60_000)).toBeUndefined();
    expect(sessions.get(long.id, t0 + 3_599_999)?.tokenId).toBe('tok1');
    expect(sessions.get(long.id, t0 + 3_600_000)).toBeUndefined();
    const again = sessions.create('tok1', null, t0);
    sessions.end(again.id);
    expect(sessions.get(again.id, t0)).toBeUndefined();
    expect(sessions.get('made-up', t0)).toBeUndefined();
  });
});
