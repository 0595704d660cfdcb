/**
 * Property tests of the contract's MAC filter: every spelling docs/protocol.md lists is refused in free
 * text wherever it stands, and never mistaken in the typed ids that legitimately hold hex (beacon ids).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import { BeaconIdSchema, containsMacAddress, maskMacAddresses, PseudonymSchema, textContainsMacAddress } from './identifiers.js';
import { TouchpointMessageSchema } from './messages.js';

const hexByte = fc.integer({ min: 0, max: 255 }).map((b) => b.toString(16).padStart(2, '0'));
const macBytes = fc.array(hexByte, { minLength: 6, maxLength: 6 });
const upperOrLower = fc.boolean();

/** Every spelling of a MAC address the contract names. */
const spelledMac = fc.tuple(macBytes, fc.constantFrom(':', '-', '.', ' ', 'cisco', 'bare'), upperOrLower).map(([bytes, style, upper]) => {
  const text = style === 'cisco' ? `${bytes[0]}${bytes[1]}.${bytes[2]}${bytes[3]}.${bytes[4]}${bytes[5]}` : bytes.join(style === 'bare' ? '' : style);
  return upper ? text.toUpperCase() : text;
});
/** Text around an address: anything that does not run on into hex digits or letters. */
const surrounding = fc.string({ maxLength: 20 }).map((s) => s.replace(/[-0-9a-z.:]/gi, ''));

describe('the contract’s MAC filter (property tests)', () => {
  it('refuses every spelling of a MAC address inside free text, wherever it stands', () => {
    fc.assert(
      fc.property(spelledMac, surrounding, surrounding, (mac, before, after) => {
        const label = `${before}${before ? ' ' : ''}${mac}${after ? ' ' : ''}${after}`.slice(0, 64);
        expect(textContainsMacAddress(label), label).toBe(true);
        const parsed = TouchpointMessageSchema.safeParse({ v: 1, ts: 1_700_000_000_000, action: 'tap', label });
        expect(parsed.success, label).toBe(false);
      }),
      { numRuns: 500 },
    );
  });

  it('masks every spelling in an excerpt, so none is left to read', () => {
    fc.assert(
      fc.property(spelledMac, surrounding, (mac, before) => {
        const separated = !/^[0-9a-f]{12}$/i.test(mac);
        // a bare 12 hex digits is masked where it stands as a JSON string (the gateway's excerpts mask it anywhere)
        const text = separated ? `${before} ${mac}` : `{"id":"${mac}"}`;
        expect(maskMacAddresses(text).toLowerCase()).not.toContain(mac.toLowerCase());
      }),
      { numRuns: 500 },
    );
  });

  it('accepts every valid typed beacon id, though Eddystone and AltBeacon ids are long runs of hex', () => {
    const hex = (n: number) => fc.array(hexByte, { minLength: n, maxLength: n }).map((b) => b.join(''));
    const ids = fc.oneof(
      fc
        .tuple(fc.uuid(), fc.integer({ min: 0, max: 65535 }), fc.integer({ min: 0, max: 65535 }))
        .map(([uuid, major, minor]) => `ibeacon:${uuid.toLowerCase()}:${major}:${minor}`),
      fc.tuple(hex(10), hex(6)).map(([ns, instance]) => `eddystone:${ns}:${instance}`),
      hex(20).map((id) => `altbeacon:${id}`),
    );
    fc.assert(
      fc.property(ids, (id) => {
        expect(containsMacAddress(id), id).toBe(false);
        expect(BeaconIdSchema.safeParse(id).success, id).toBe(true);
      }),
      { numRuns: 500 },
    );
  });

  it('accepts hex pseudonyms of every allowed length, and refuses any MAC spelling as one', () => {
    fc.assert(
      fc.property(fc.integer({ min: 8, max: 32 }), fc.array(hexByte, { minLength: 32, maxLength: 32 }), (bytes, pool) => {
        const pseudonym = pool.slice(0, bytes).join('');
        expect(PseudonymSchema.safeParse(pseudonym).success, pseudonym).toBe(pseudonym.length >= 16);
      }),
      { numRuns: 300 },
    );
    fc.assert(
      fc.property(spelledMac, (mac) => {
        expect(PseudonymSchema.safeParse(mac).success, mac).toBe(false);
      }),
      { numRuns: 300 },
    );
  });
});
