import { readFileSync } from 'node:fs';

import { describe, expect, it } from 'vitest';

import { parseAdvertisement, parseEddystone, parseIbeacon, type FrameResult } from './beacon-parser.js';
import { toAdvertisement } from './bluez-values.js';

interface Vector {
  name: string;
  valid: boolean;
  payload_hex: string;
  bluez: { ManufacturerData?: Record<string, number[]>; ServiceData?: Record<string, number[]> };
  expected: Record<string, unknown>;
}

const VECTORS = (JSON.parse(readFileSync(new URL('./vectors/ble-frames.json', import.meta.url), 'utf8')) as { vectors: Vector[] }).vectors;

function parseVector(v: Vector): FrameResult[] {
  return parseAdvertisement(toAdvertisement(v.bluez.ManufacturerData, v.bluez.ServiceData));
}

describe('parseAdvertisement against ble-frames.json', () => {
  it('holds the 8 valid and 3 invalid vectors the sample describes', () => {
    expect(VECTORS.filter((v) => v.valid)).toHaveLength(8);
    expect(VECTORS.filter((v) => !v.valid)).toHaveLength(3);
  });

  for (const v of VECTORS.filter((x) => x.valid)) {
    it(`decodes ${v.name} to the expected fields`, () => {
      const results = parseVector(v);
      expect(results).toHaveLength(1);
      expect(results[0]).toEqual({ ok: true, frame: v.expected });
    });
  }

  for (const v of VECTORS.filter((x) => !x.valid)) {
    it(`rejects ${v.name} with ${String(v.expected.error)}`, () => {
      const results = parseVector(v);
      expect(results).toEqual([{ ok: false, error: { code: v.expected.error, detail: v.expected.detail } }]);
    });
  }

  it('reads the same frames from dbus-next shapes: a Map of company ids and variants holding Buffers', () => {
    for (const v of VECTORS) {
      const md = new Map(Object.entries(v.bluez.ManufacturerData ?? {}).map(([k, bytes]) => [Number(k), { signature: 'ay', value: Buffer.from(bytes) }]));
      const sd = Object.fromEntries(
        Object.entries(v.bluez.ServiceData ?? {}).map(([k, bytes]) => [k.toUpperCase(), { signature: 'ay', value: Buffer.from(bytes) }]),
      );
      expect(parseAdvertisement(toAdvertisement({ signature: 'a{qv}', value: md }, sd))).toEqual(parseVector(v));
    }
  });
});

describe('strictness beyond the vectors', () => {
  const ibeacon = Buffer.from('021528e13894a2ad49b39d0395c43b5bba7c12345678c5', 'hex');

  it('rejects an iBeacon with a byte too many (the Apple layout is fixed)', () => {
    expect(parseIbeacon(0x4c, Buffer.concat([ibeacon, Buffer.from([0])]))).toEqual({
      ok: false,
      error: { code: 'ibeacon-bad-length', detail: '24 bytes after the company id, expected 23' },
    });
  });

  it('ignores Apple data that is not an iBeacon (e.g. an iPhone Nearby Info, type 0x10)', () => {
    expect(parseAdvertisement(toAdvertisement({ 76: [0x10, 0x05, 0x01, 0x18, 0x44, 0x7a, 0x9c] }, {}))).toEqual([]);
  });

  it('reads a legacy 18-byte Eddystone-UID (no RFU bytes)', () => {
    const result = parseEddystone(Buffer.from('00ee0caaf24ab1a0c33440c00a0b0c0d0e0f', 'hex'));
    expect(result).toEqual({ ok: true, frame: { format: 'eddystone-uid', txPower: -18, namespaceId: '0caaf24ab1a0c33440c0', instanceId: '0a0b0c0d0e0f' } });
  });

  it.each([
    ['00ee0caaf24ab1a0c33440c00a0b0c0d0e', 'eddystone-uid-bad-length'],
    ['10ec04', 'eddystone-url-bad-length'],
    ['10ec0465', 'eddystone-url-bad-scheme'],
    ['10ec0165ff', 'eddystone-url-bad-byte'],
    ['2001', 'eddystone-tlm-unsupported-version'],
    ['20000b86', 'eddystone-tlm-bad-length'],
    ['30ee0102030405060708', 'eddystone-eid-not-decoded'],
    ['', 'eddystone-truncated'],
  ])('rejects Eddystone service data %s with %s', (hexData, code) => {
    const result = parseEddystone(Buffer.from(hexData, 'hex'));
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error.code).toBe(code);
  });

  it('rejects an AltBeacon whose length is not 24 bytes after the company id', () => {
    const results = parseAdvertisement(toAdvertisement({ 280: [0xbe, 0xac, 1, 2, 3] }, {}));
    expect(results).toEqual([{ ok: false, error: { code: 'altbeacon-bad-length', detail: '5 bytes after the company id, expected 24' } }]);
  });
});
