import { describe, expect, it } from 'vitest';

import { generateSecret, SecretHasher } from './secrets.js';

describe('secrets', () => {
  it('generates distinct url-safe secrets of 256 bits', () => {
    const a = generateSecret();
    const b = generateSecret();
    expect(a).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(a).not.toBe(b);
  });

  it('verifies a secret only against its own hash under the same key', () => {
    const hasher = new SecretHasher(Buffer.alloc(32, 1));
    const secret = generateSecret();
    const stored = hasher.hash(secret);
    expect(stored).toMatch(/^hmac-sha256:/);
    expect(stored).not.toContain(secret);
    expect(hasher.verify(secret, stored)).toBe(true);
    expect(hasher.verify(`${secret}x`, stored)).toBe(false);
    expect(hasher.verify('', stored)).toBe(false);
    expect(new SecretHasher(Buffer.alloc(32, 2)).verify(secret, stored)).toBe(false);
  });

  it('refuses a key too short to be a key', () => {
    expect(() => new SecretHasher(Buffer.alloc(8))).toThrow(/16 bytes/);
  });
});
