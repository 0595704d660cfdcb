import { randomBytes } from 'node:crypto';

import { describe, expect, it } from 'vitest';

import { PseudonymSchema } from '../../protocol/index.js';
import { PseudonymiseError } from './errors.js';
import { findLeaks, macSpellings } from './leak-scan.js';
import { createPseudonymiser } from './pseudonymiser.js';

const SECRET = 'retailer-secret-for-tests-0123456789';
const MAC = '00:00:5e:00:53:41';
const at = (iso: string) => Date.parse(iso);

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    return err instanceof PseudonymiseError ? err.code : `not a PseudonymiseError: ${String(err)}`;
  }
  return undefined;
}

describe('short-lived mode', () => {
  const p = createPseudonymiser({ mode: 'short-lived', secret: SECRET });

  it('gives one device the same pseudonym within a 15-minute window', () => {
    expect(p.pseudonymise('wifi-mac', MAC, at('2024-06-07T14:00:00.000Z'))).toBe(p.pseudonymise('wifi-mac', MAC, at('2024-06-07T14:14:59.999Z')));
  });

  it('gives it an unrelated pseudonym in the next window', () => {
    expect(p.pseudonymise('wifi-mac', MAC, at('2024-06-07T14:14:59.999Z'))).not.toBe(p.pseudonymise('wifi-mac', MAC, at('2024-06-07T14:15:00.000Z')));
  });

  it('follows rotationMinutes', () => {
    const five = createPseudonymiser({ mode: 'short-lived', secret: SECRET, rotationMinutes: 5 });
    expect(five.pseudonymise('wifi-mac', MAC, at('2024-06-07T14:00:00Z'))).toBe(five.pseudonymise('wifi-mac', MAC, at('2024-06-07T14:04:59Z')));
    expect(five.pseudonymise('wifi-mac', MAC, at('2024-06-07T14:04:59Z'))).not.toBe(five.pseudonymise('wifi-mac', MAC, at('2024-06-07T14:05:00Z')));
    // different window lengths never share keys, even for window 0
    expect(five.pseudonymise('wifi-mac', MAC, 0)).not.toBe(p.pseudonymise('wifi-mac', MAC, 0));
  });

  it('hashes at the clock time when no event time is given', () => {
    let clock = at('2024-06-07T14:01:00Z');
    const clocked = createPseudonymiser({ mode: 'short-lived', secret: SECRET, now: () => clock });
    const first = clocked.pseudonymise('wifi-mac', MAC);
    expect(first).toBe(p.pseudonymise('wifi-mac', MAC, at('2024-06-07T14:01:00Z')));
    clock = at('2024-06-07T14:20:00Z');
    expect(clocked.pseudonymise('wifi-mac', MAC)).not.toBe(first);
  });
});

describe('daily mode', () => {
  const paris = createPseudonymiser({ mode: 'daily', secret: SECRET, timezone: 'Europe/Paris' });

  it('is the default mode', () => {
    expect(createPseudonymiser({ secret: SECRET }).mode).toBe('daily');
  });

  it('links a device across one local day', () => {
    // 06:00 and 23:59 CEST on 7 June
    expect(paris.pseudonymise('wifi-mac', MAC, at('2024-06-07T04:00:00Z'))).toBe(paris.pseudonymise('wifi-mac', MAC, at('2024-06-07T21:59:59Z')));
  });

  it('rotates at local midnight, not UTC midnight', () => {
    const before = paris.pseudonymise('wifi-mac', MAC, at('2024-06-07T21:59:59.999Z'));
    const after = paris.pseudonymise('wifi-mac', MAC, at('2024-06-07T22:00:00.000Z'));
    expect(after).not.toBe(before);
    // 00:00 and 01:30 CEST on 8 June straddle UTC midnight but are one local day
    expect(paris.pseudonymise('wifi-mac', MAC, at('2024-06-07T23:59:00Z'))).toBe(after);
    expect(paris.pseudonymise('wifi-mac', MAC, at('2024-06-08T00:30:00Z'))).toBe(after);
  });

  it('keeps one key for the whole of a 23-hour DST day', () => {
    // 31 March 2024 in Paris runs from 23:00Z on the 30th to 22:00Z on the 31st
    const start = paris.pseudonymise('wifi-mac', MAC, at('2024-03-30T23:00:00Z'));
    expect(paris.pseudonymise('wifi-mac', MAC, at('2024-03-31T21:59:59Z'))).toBe(start);
    expect(paris.pseudonymise('wifi-mac', MAC, at('2024-03-30T22:59:59Z'))).not.toBe(start);
    expect(paris.pseudonymise('wifi-mac', MAC, at('2024-03-31T22:00:00Z'))).not.toBe(start);
  });

  it('gives other timezones their own midnight', () => {
    const ny = createPseudonymiser({ mode: 'daily', secret: SECRET, timezone: 'America/New_York' });
    // 17:00 and 23:59:59 EDT on 7 June are one day there; midnight EDT is 04:00Z
    expect(ny.pseudonymise('wifi-mac', MAC, at('2024-06-07T21:00:00Z'))).toBe(ny.pseudonymise('wifi-mac', MAC, at('2024-06-08T03:59:59Z')));
    expect(ny.pseudonymise('wifi-mac', MAC, at('2024-06-08T03:59:59Z'))).not.toBe(ny.pseudonymise('wifi-mac', MAC, at('2024-06-08T04:00:00Z')));
  });
});

describe('consented mode', () => {
  const consented = createPseudonymiser({ mode: 'consented', secret: SECRET });

  it('keeps one pseudonym across days and years', () => {
    expect(consented.pseudonymise('user-id', 'app-user-4711', at('2024-06-07T12:00:00Z'))).toBe(
      consented.pseudonymise('user-id', 'app-user-4711', at('2026-01-01T12:00:00Z')),
    );
  });

  it('refuses wifi MACs, which belong to visitors who did not opt in', () => {
    expect(codeOf(() => consented.pseudonymise('wifi-mac', MAC))).toBe('SL_ERR_PSEUDONYMISE_NOT_ALLOWED');
  });
});

describe('pseudonyms', () => {
  const p = createPseudonymiser({ mode: 'daily', secret: SECRET, timezone: 'UTC' });
  const t = at('2024-06-07T14:00:00Z');

  it('do not depend on how the address is spelled', () => {
    const expected = p.pseudonymise('wifi-mac', MAC, t);
    for (const spelling of macSpellings(MAC).concat(MAC.toUpperCase())) expect(p.pseudonymise('wifi-mac', spelling, t), spelling).toBe(expected);
  });

  it('differ between retailers (secrets)', () => {
    const other = createPseudonymiser({ mode: 'daily', secret: 'another-retailer-secret-987654321', timezone: 'UTC' });
    expect(other.pseudonymise('wifi-mac', MAC, t)).not.toBe(p.pseudonymise('wifi-mac', MAC, t));
  });

  it('take a Buffer secret as its bytes', () => {
    const fromBuffer = createPseudonymiser({ mode: 'daily', secret: Buffer.from(SECRET, 'utf8'), timezone: 'UTC' });
    expect(fromBuffer.pseudonymise('wifi-mac', MAC, t)).toBe(p.pseudonymise('wifi-mac', MAC, t));
  });

  it('differ between identifier kinds with equal bytes', () => {
    expect(p.pseudonymise('ble-address', MAC, t)).not.toBe(p.pseudonymise('wifi-mac', MAC, t));
  });

  it('fold user ids by case, outer whitespace and Unicode compatibility', () => {
    expect(p.pseudonymise('user-id', '  Alex@Example.com ', t)).toBe(p.pseudonymise('user-id', 'alex@example.com', t));
    expect(p.pseudonymise('user-id', 'ａｌｅｘ@example.com', t)).toBe(p.pseudonymise('user-id', 'alex@example.com', t));
  });

  it('stay stable across releases (known answer)', () => {
    // recomputed outside Node (Python hmac) from the formula in pseudonymiser.ts; changing the
    // derivation mid-day would split every visit in progress: do it only on purpose
    expect(p.pseudonymise('wifi-mac', MAC, t)).toBe('UNI5ruyhqoWPJjIYWkXw0A');
  });

  it('always pass PseudonymSchema and never contain the address, over 5000 random MACs', () => {
    const short = createPseudonymiser({ mode: 'short-lived', secret: randomBytes(32), rotationMinutes: 1 });
    for (let i = 0; i < 5000; i += 1) {
      const mac = [...randomBytes(6)].map((b) => b.toString(16).padStart(2, '0')).join(':');
      const pseudonym = short.pseudonymise(i % 2 === 0 ? 'wifi-mac' : 'ble-address', mac, t + i * 7_000);
      expect(PseudonymSchema.safeParse(pseudonym).success).toBe(true);
      expect(pseudonym).toHaveLength(22);
      expect(findLeaks(pseudonym, macSpellings(mac))).toEqual([]);
    }
  });
});

describe('bad input', () => {
  const p = createPseudonymiser({ mode: 'daily', secret: SECRET, timezone: 'UTC' });

  it('refuses a wifi-mac that is not a MAC without repeating the value', () => {
    try {
      p.pseudonymise('wifi-mac', '00:00:5e:00:53', 0);
      expect.unreachable('should have thrown');
    } catch (err) {
      expect(err).toBeInstanceOf(PseudonymiseError);
      const e = err as PseudonymiseError;
      expect(e.code).toBe('SL_ERR_PSEUDONYMISE_INPUT');
      expect(JSON.stringify({ message: e.message, context: e.context })).not.toContain('00:00:5e:00:53');
    }
  });

  it('refuses an empty user id and a non-finite time', () => {
    expect(codeOf(() => p.pseudonymise('user-id', '   ', 0))).toBe('SL_ERR_PSEUDONYMISE_INPUT');
    expect(codeOf(() => p.pseudonymise('wifi-mac', MAC, Number.NaN))).toBe('SL_ERR_PSEUDONYMISE_INPUT');
  });
});

describe('options', () => {
  it.each([
    ['a secret under 16 bytes', { secret: 'short' }],
    ['an unknown mode', { mode: 'forever' as never, secret: SECRET }],
    ['an unknown timezone', { mode: 'daily' as const, secret: SECRET, timezone: 'Mars/Olympus_Mons' }],
    ['a 0-minute window', { mode: 'short-lived' as const, secret: SECRET, rotationMinutes: 0 }],
    ['a window over an hour', { mode: 'short-lived' as const, secret: SECRET, rotationMinutes: 90 }],
    ['rotationMinutes outside short-lived', { mode: 'daily' as const, secret: SECRET, rotationMinutes: 15 }],
    ['a timezone outside daily', { mode: 'consented' as const, secret: SECRET, timezone: 'UTC' }],
  ])('refuses %s', (_name, options) => {
    expect(codeOf(() => createPseudonymiser(options))).toBe('SL_ERR_PSEUDONYMISE_CONFIG');
  });

  it('never puts the secret in an error', () => {
    try {
      createPseudonymiser({ secret: 'tiny-secret' });
    } catch (err) {
      expect(JSON.stringify({ message: (err as PseudonymiseError).message, context: (err as PseudonymiseError).context })).not.toContain('tiny-secret');
    }
  });
});

describe('describe()', () => {
  it('states rotation, what is kept, how long it links and what analytics it allows, per mode', () => {
    const short = createPseudonymiser({ mode: 'short-lived', secret: SECRET, rotationMinutes: 10 }).describe();
    expect(short).toMatchObject({ mode: 'short-lived', linkableFor: 'at most 10 min (one window)' });
    expect(short.analytics).toContain('no repeat visitors');
    const daily = createPseudonymiser({ mode: 'daily', secret: SECRET, timezone: 'Europe/Paris' }).describe();
    expect(daily.rotation).toBe('daily at local midnight (Europe/Paris)');
    expect(daily.analytics).toContain('no repeat visitors');
    const consented = createPseudonymiser({ mode: 'consented', secret: SECRET }).describe();
    expect(consented.basis).toContain('never for wifi MACs');
    for (const d of [short, daily, consented]) {
      for (const key of ['rotation', 'keeps', 'linkableFor', 'analytics', 'basis'] as const) expect(d[key].length).toBeGreaterThan(10);
      expect(JSON.stringify(d)).not.toContain(SECRET);
    }
  });
});
