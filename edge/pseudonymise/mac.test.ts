import { describe, expect, it } from 'vitest';

import { isLocallyAdministered, isMulticastMac, normaliseMac } from './mac.js';

describe('normaliseMac', () => {
  it('reduces every common spelling of one address to 12 lowercase hex digits', () => {
    for (const spelling of ['00:00:5e:00:53:41', '00-00-5E-00-53-41', '00_00_5E_00_53_41', '0000.5e00.5341', '00005E005341', ' 0:0:5e:0:53:41 ']) {
      expect(normaliseMac(spelling), spelling).toBe('00005e005341');
    }
  });

  it('refuses strings that are not MAC-48 addresses', () => {
    for (const text of ['', '00:00:5e:00:53', '00:00:5e:00:53:41:00', '00:00-5e:00:53:41', 'zz:00:5e:00:53:41', '000:00:5e:00:53:41', 'alex@example.com']) {
      expect(normaliseMac(text), text).toBeUndefined();
    }
  });
});

describe('isLocallyAdministered', () => {
  // probe-requests.md, "locally administered" column: 0x02 of the first octet
  it.each([
    ['00:00:5e:00:53:11', false],
    ['00:00:5e:00:53:22', false],
    ['00:00:5e:00:53:33', false],
    ['02:00:5e:00:53:a1', true],
    ['06:00:5e:00:53:a2', true],
    ['0a:00:5e:00:53:a3', true],
    ['da:00:5e:00:53:b1', true],
    ['5e:00:5e:00:53:b2', true],
  ])('flags %s of the probe-request sample as %s', (mac, expected) => {
    expect(isLocallyAdministered(mac)).toBe(expected);
  });

  it('flags the Meraki samples: only da:00:5e:00:53:7c is randomised', () => {
    expect(isLocallyAdministered('da:00:5e:00:53:7c')).toBe(true);
    for (const mac of ['00:00:5e:00:53:41', '00:00:5e:00:53:42', '00:00:5e:00:53:43']) expect(isLocallyAdministered(mac)).toBe(false);
  });

  it('reads the bit in any spelling and is false for non-addresses', () => {
    expect(isLocallyAdministered('DA-00-5E-00-53-7C')).toBe(true);
    expect(isLocallyAdministered('2:0:5e:0:53:a1')).toBe(true);
    expect(isLocallyAdministered('not a mac')).toBe(false);
  });
});

describe('isMulticastMac', () => {
  it('is true for group addresses only', () => {
    expect(isMulticastMac('ff:ff:ff:ff:ff:ff')).toBe(true);
    expect(isMulticastMac('01:00:5e:00:00:01')).toBe(true);
    expect(isMulticastMac('02:00:5e:00:53:a1')).toBe(false);
  });
});
