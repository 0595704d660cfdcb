/**
 * Property and fuzz tests of the payload decoders, every kind of MESSAGE_KIND_TABLE: arbitrary text,
 * bytes and JSON are answered with a rejection and a reason (never an exception); a valid message
 * round-trips; hostile JSON (prototype keys at any depth, invalid UTF-8, deep nesting, huge numbers,
 * duplicate keys) is refused or reduced to what the schema allows, and never pollutes Object.prototype.
 */
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';

import { decodeJson, decodeMessage, decodePayload, type DecodeResult } from './decode.js';
import { beaconIdType } from './identifiers.js';
import { MESSAGE_KIND_TABLE } from './kinds.js';
import { beaconId, pseudonym, VALID_MESSAGE } from './messages.fixtures.js';
import { MESSAGE_KINDS, type MessageKind } from './topics.js';

const kind = fc.constantFrom(...MESSAGE_KINDS);
const PROTOTYPE_KEYS = ['__proto__', 'constructor', 'prototype'] as const;

/** Bytes to a decoded message, the way the gateway reads a payload. */
function decodeBytes(k: MessageKind, bytes: Uint8Array): DecodeResult | { ok: false; reason: string; detail: string } {
  const json = decodePayload(bytes);
  return json.ok ? decodeMessage(k, json.value) : json;
}

function expectAnswered(result: { ok: boolean; reason?: string; detail?: string }): void {
  if (result.ok) return;
  expect(['json_invalid', 'schema_invalid', 'version_unsupported']).toContain(result.reason);
  expect(typeof result.detail).toBe('string');
  expect(result.detail?.length).toBeGreaterThan(0);
}

function expectPrototypeClean(): void {
  expect(Object.keys(Object.prototype)).toEqual([]);
  expect(({} as Record<string, unknown>).polluted).toBeUndefined();
}

/** Own keys named like a prototype key anywhere in `value` (iterative: values may be deep). */
function prototypeKeysIn(value: unknown): string[] {
  const found: string[] = [];
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const next = stack.pop();
    if (typeof next !== 'object' || next === null) continue;
    for (const key of Object.keys(next)) {
      if ((PROTOTYPE_KEYS as readonly string[]).includes(key)) found.push(key);
      stack.push((next as Record<string, unknown>)[key]);
    }
  }
  return found;
}

afterEach(expectPrototypeClean);

// 1,000 runs each: random inputs every run, so CI covers new ones on every push
describe('decoders never throw (property tests)', () => {
  it('answers any text with a value or json_invalid', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 400 }), (text) => {
        const result = decodeJson(text);
        if (!result.ok) expectAnswered(result);
      }),
      { numRuns: 1_000 },
    );
  });

  it('answers any bytes, for every kind, with a message or a rejection and its reason', () => {
    fc.assert(
      fc.property(kind, fc.uint8Array({ maxLength: 400 }), (k, bytes) => expectAnswered(decodeBytes(k, bytes))),
      { numRuns: 1_000 },
    );
  });

  it('answers any JSON value, for every kind, with a message or a rejection and its reason', () => {
    fc.assert(
      fc.property(kind, fc.jsonValue({ maxDepth: 6 }), (k, value) => expectAnswered(decodeBytes(k, Buffer.from(JSON.stringify(value) ?? 'null')))),
      { numRuns: 1_000 },
    );
  });

  it('answers any JavaScript value handed to decodeMessage, for every kind', () => {
    fc.assert(
      fc.property(
        kind,
        fc.anything({ withBigInt: true, withDate: true, withMap: true, withSet: true, withTypedArray: true, withSparseArray: true }),
        (k, value) => expectAnswered(decodeMessage(k, value)),
      ),
      { numRuns: 1_000 },
    );
  });

  it('answers near-valid messages (one field replaced by anything) for every kind', () => {
    const nearValid = kind.chain((k) =>
      fc.tuple(fc.constant(k), VALID_MESSAGE[k] as fc.Arbitrary<Record<string, unknown>>, fc.string({ maxLength: 20 }), fc.jsonValue({ maxDepth: 3 })),
    );
    fc.assert(
      fc.property(nearValid, ([k, message, key, value]) => {
        const field = Object.keys(message)[key.length % Object.keys(message).length] ?? key;
        expectAnswered(decodeBytes(k, Buffer.from(JSON.stringify({ ...message, [field]: value }))));
      }),
      { numRuns: 1_000 },
    );
  });
});

describe('valid messages round-trip (property tests)', () => {
  for (const k of MESSAGE_KINDS) {
    it(`decodes every valid ${k} message to itself`, () => {
      fc.assert(
        fc.property(VALID_MESSAGE[k], (message) => {
          const result = decodeBytes(k, Buffer.from(JSON.stringify(message), 'utf8'));
          expect(result).toEqual({ ok: true, kind: k, message, itemRejections: [] });
        }),
        { numRuns: 300 },
      );
    });
  }

  it('covers every kind of the kind table', () => {
    expect(Object.keys(VALID_MESSAGE).sort()).toEqual(Object.keys(MESSAGE_KIND_TABLE).sort());
  });

  it('gives every generated beacon id its format, and accepts every generated pseudonym as a wifi id', () => {
    fc.assert(
      fc.property(beaconId, pseudonym, (beacon, id) => {
        expect(beaconIdType(beacon.id)).toBe(beacon.type);
        expect(decodeMessage('wifi', { ts: 1_700_000_000_000, observations: [{ id, rssi: -50, randomized: true }] }).ok).toBe(true);
      }),
    );
  });
});

/** Puts `key: hostile` into the object at a position chosen by `path` (indices into nested objects and arrays), as JSON text. */
function withKeyAt(message: unknown, path: number[], key: string, hostile: unknown): string {
  const copy = JSON.parse(JSON.stringify(message)) as unknown;
  let target: unknown = copy;
  for (const step of path) {
    const children = typeof target === 'object' && target !== null ? Object.values(target).filter((v) => typeof v === 'object' && v !== null) : [];
    if (children.length === 0) break;
    target = children[step % children.length];
  }
  if (Array.isArray(target) || typeof target !== 'object' || target === null) target = copy;
  // an own property named `key` even for __proto__ (an assignment would set the prototype instead)
  Object.defineProperty(target, key, { value: hostile, enumerable: true, configurable: true, writable: true });
  return JSON.stringify(copy);
}

describe('hostile JSON (property tests)', () => {
  it('refuses a __proto__, constructor or prototype key at any depth of any kind, and pollutes nothing', () => {
    const hostileCase = kind.chain((k) =>
      fc.tuple(
        fc.constant(k),
        VALID_MESSAGE[k] as fc.Arbitrary<unknown>,
        fc.array(fc.nat(), { maxLength: 4 }),
        fc.constantFrom(...PROTOTYPE_KEYS),
        fc.oneof(fc.constant({ polluted: true }), fc.constant({ prototype: { polluted: true } }), fc.jsonValue({ maxDepth: 2 })),
        fc.boolean(),
      ),
    );
    fc.assert(
      fc.property(hostileCase, ([k, message, path, key, hostile, escaped]) => {
        let text = withKeyAt(message, path, key, hostile);
        // the same key spelled with a JSON escape: JSON.parse makes the same key of it
        if (escaped)
          text = text.replace(
            `"${key}"`,
            `"${key.slice(0, -1)}\\u${key
              .charCodeAt(key.length - 1)
              .toString(16)
              .padStart(4, '0')}"`,
          );
        const result = decodeBytes(k, Buffer.from(text));
        expect(result).toMatchObject({ ok: false, reason: 'schema_invalid', detail: expect.stringContaining(`'${key}' key`) });
        expectPrototypeClean();
      }),
      { numRuns: 1_000 },
    );
  });

  it('keeps no prototype key in a decoded message even when one is handed to decodeMessage directly', () => {
    fc.assert(
      fc.property(
        kind.chain((k) =>
          fc.tuple(fc.constant(k), VALID_MESSAGE[k] as fc.Arbitrary<unknown>, fc.array(fc.nat(), { maxLength: 4 }), fc.constantFrom(...PROTOTYPE_KEYS)),
        ),
        ([k, message, path, key]) => {
          const value = JSON.parse(withKeyAt(message, path, key, { polluted: true })) as unknown;
          const result = decodeMessage(k, value);
          if (result.ok) expect(prototypeKeysIn(result.message)).toEqual([]);
          else expectAnswered(result);
          expectPrototypeClean();
        },
      ),
      { numRuns: 500 },
    );
  });

  it('refuses a payload that is not valid UTF-8 with a reason that says so, wherever the bad bytes are', () => {
    const badSequence = fc.constantFrom(
      [0xff], // never valid
      [0xc0, 0xaf], // overlong '/'
      [0x80], // a continuation byte alone
      [0xe2, 0x82], // a three-byte sequence cut short
      [0xed, 0xa0, 0x80], // a UTF-16 surrogate encoded
      [0xf4, 0x90, 0x80, 0x80], // above U+10FFFF
    );
    fc.assert(
      fc.property(
        kind.chain((k) => fc.tuple(fc.constant(k), VALID_MESSAGE[k] as fc.Arbitrary<unknown>)),
        badSequence,
        fc.nat(),
        ([k, message], bad, at) => {
          const valid = Buffer.from(JSON.stringify(message), 'utf8');
          const cut = at % (valid.length + 1);
          const bytes = Buffer.concat([valid.subarray(0, cut), Buffer.from(bad), valid.subarray(cut)]);
          expect(decodeBytes(k, bytes)).toEqual({ ok: false, reason: 'json_invalid', detail: expect.stringContaining('not valid UTF-8') });
        },
      ),
      { numRuns: 1_000 },
    );
  });

  it('refuses deep nesting in any field without overflowing the stack', () => {
    fc.assert(
      fc.property(
        kind,
        fc.integer({ min: 1_000, max: 100_000 }),
        fc.constantFrom('array', 'object'),
        fc.constantFrom('ts', 'sightings', 'observations', 'event', 'action', 'detail', 'extra', 'mid'),
        (k, depth, shape, field) => {
          const [open, close] = shape === 'array' ? ['[', ']'] : ['{"a":', '}'];
          const deep = `${open.repeat(depth)}1${close.repeat(depth)}`;
          const text = `{"ts":1700000000000,"state":"online","action":"tap",${JSON.stringify(field)}:${deep}}`;
          const result = decodeBytes(k, Buffer.from(text));
          expectAnswered(result);
          if (result.ok) expect(Object.keys(result.message)).not.toContain(field); // a field the kind does not know is dropped, not walked
        },
      ),
      { numRuns: 40 },
    );
  });

  it('refuses numbers out of range, infinite or huge, and keeps exact ones exactly', () => {
    const huge = fc.constantFrom('1e400', '-1e400', '1e308', '9007199254740993', '123456789012345678901234567890', '-0', '1e-400', '0.1e2');
    fc.assert(
      fc.property(huge, fc.constantFrom('ts', 'rssi', 'in', 'value', 'queue_depth', 'uptime_s'), (number, field) => {
        const texts: Array<[MessageKind, string]> = [
          ['ble', `{"ts":${field === 'ts' ? number : 1700000000000},"sightings":[{"id":"dev:abcdefghijklmnop","rssi":${field === 'rssi' ? number : -50}}]}`],
          ['device', `{"ts":1700000000000,"event":{"type":"people_count","in":${field === 'in' ? number : 1},"out":0}}`],
          ['touchpoint', `{"ts":1700000000000,"action":"rate","value":${field === 'value' ? number : 1}}`],
          ['status', `{"state":"online","queue_depth":${field === 'queue_depth' ? number : 0},"uptime_s":${field === 'uptime_s' ? number : 0}}`],
        ];
        for (const [k, text] of texts) {
          const result = decodeBytes(k, Buffer.from(text));
          expectAnswered(result);
          if (result.ok) expect(JSON.stringify(result.message)).not.toMatch(/null|Infinity/);
        }
      }),
    );
    expect(decodeBytes('touchpoint', Buffer.from('{"ts":1700000000000,"action":"rate","value":1e400}'))).toMatchObject({ ok: false, reason: 'schema_invalid' });
    expect(decodeBytes('device', Buffer.from('{"ts":1700000000000,"event":{"type":"people_count","in":1e400,"out":0}}'))).toMatchObject({ ok: false });
  });

  it('reads duplicate keys as JSON.parse does (the last one wins) and validates what it read', () => {
    fc.assert(
      fc.property(fc.constantFrom('"tap"', '"Bad!"', '1', 'null', '{}'), fc.constantFrom('"tap"', '"Bad!"', '1', 'null', '{}'), (first, last) => {
        const result = decodeBytes('touchpoint', Buffer.from(`{"ts":1700000000000,"action":${first},"action":${last}}`));
        if (last === '"tap"') expect(result).toMatchObject({ ok: true, message: { action: 'tap' } });
        else expect(result).toMatchObject({ ok: false, reason: 'schema_invalid', detail: expect.stringContaining('action') });
      }),
    );
    // a MAC address in a duplicate key is refused whether it comes first or last
    const mac = '"seen aa:bb:cc:dd:ee:05"';
    expect(decodeBytes('touchpoint', Buffer.from(`{"ts":1700000000000,"action":"tap","label":"ok","label":${mac}}`)).ok).toBe(false);
    expect(decodeBytes('touchpoint', Buffer.from(`{"ts":1700000000000,"action":"tap","label":${mac},"label":"ok"}`))).toMatchObject({
      ok: true,
      message: { label: 'ok' },
    });
  });
});
