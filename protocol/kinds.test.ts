import { describe, expect, it } from 'vitest';

import { decodeMessage, type Decoded } from './decode.js';
import { MESSAGE_KIND_TABLE, SOURCE_ROLES, kindSpec } from './kinds.js';
import { MESSAGE_KINDS, type MessageKind } from './topics.js';

const TS = 1_790_000_000_000;
const IBEACON = 'ibeacon:f7826da6-4fa2-4e98-8024-bc5b71e0893e:100:7';
const PSEUDONYM = 'a1b2c3d4e5f60718293a4b5c';

/** A valid payload of every kind (a Record over the kinds: a new kind needs a sample here too). */
const SAMPLES: Record<MessageKind, Record<string, unknown>> = {
  ble: { ts: TS, mid: 'b-1', sightings: [{ id: IBEACON, rssi: -67, tx: -59 }] },
  wifi: { ts: TS, mid: 'w-1', observations: [{ id: PSEUDONYM, rssi: -71, randomized: true }] },
  device: { ts: TS, mid: 'd-1', event: { type: 'shelf', action: 'pick_up', sku: 'SKU-42' } },
  touchpoint: { ts: TS, mid: 't-1', action: 'feedback', value: 4, customer: 'C-000123' },
  status: { ts: TS, mid: 's-1', state: 'online', version: '1.0.0' },
};

/** What each kind's message says, reached through the narrowed type (no cast). */
function describeDecoded(decoded: Decoded): string {
  switch (decoded.kind) {
    case 'ble':
      return `ble ${decoded.message.sightings.map((s) => s.id).join(',')}`;
    case 'wifi':
      return `wifi ${decoded.message.observations.map((o) => o.randomized).join(',')}`;
    case 'device':
      return `device ${decoded.message.event.type}`;
    case 'touchpoint':
      return `touchpoint ${decoded.message.action}`;
    case 'status':
      return `status ${decoded.message.state}`;
  }
}

describe('the message kind table', () => {
  it('has exactly one row per contract kind', () => {
    expect(Object.keys(MESSAGE_KIND_TABLE).sort()).toEqual([...MESSAGE_KINDS].sort());
    for (const kind of MESSAGE_KINDS) expect(kindSpec(kind)).toBe(MESSAGE_KIND_TABLE[kind]);
  });

  it('lets at least one known source role publish each kind, and status every role', () => {
    for (const kind of MESSAGE_KINDS) {
      const { roles } = kindSpec(kind);
      expect(roles.length, kind).toBeGreaterThan(0);
      for (const role of roles) expect(SOURCE_ROLES, kind).toContain(role);
    }
    expect([...kindSpec('status').roles].sort()).toEqual([...SOURCE_ROLES].sort());
    expect(kindSpec('ble').roles).toEqual(['sensor']);
    expect(kindSpec('touchpoint').roles).toEqual(['touchpoint']);
  });

  it('names the item field of ble and wifi only, an array the kind’s schema fills', () => {
    expect(kindSpec('ble').items?.field).toBe('sightings');
    expect(kindSpec('wifi').items?.field).toBe('observations');
    for (const kind of ['device', 'touchpoint', 'status'] as const) expect(kindSpec(kind).items).toBeNull();
    for (const kind of ['ble', 'wifi'] as const) {
      const field = MESSAGE_KIND_TABLE[kind].items.field;
      const message: Record<string, unknown> = MESSAGE_KIND_TABLE[kind].schema.parse(SAMPLES[kind]);
      expect(Array.isArray(message[field]), kind).toBe(true);
    }
  });
});

describe('decodeMessage returns the kind with its message', () => {
  it.each(MESSAGE_KINDS)('decodes a valid %s payload into { kind, message } as its schema makes it', (kind) => {
    const decoded = decodeMessage(kind, SAMPLES[kind]);
    expect(decoded).toMatchObject({ ok: true, kind, itemRejections: [] });
    if (!decoded.ok) return;
    expect(decoded.message).toEqual(kindSpec(kind).schema.parse(SAMPLES[kind]));
  });

  it('narrows the message by kind in a switch', () => {
    const described = MESSAGE_KINDS.map((kind) => {
      const decoded = decodeMessage(kind, SAMPLES[kind]);
      return decoded.ok ? describeDecoded(decoded) : decoded.detail;
    });
    expect(described).toEqual([`ble ${IBEACON}`, 'wifi true', 'device shelf', 'touchpoint feedback', 'status online']);
  });

  it('applies the schema’s defaults and drops unknown keys', () => {
    const decoded = decodeMessage('device', { ts: TS, extra: 1, event: { type: 'shelf', action: 'put_back', sku: 'SKU-1' } });
    expect(decoded.ok && decoded.message).toEqual({ ts: TS, event: { type: 'shelf', action: 'put_back', sku: 'SKU-1', qty: 1 } });
  });

  it('refuses a payload of one kind decoded as another', () => {
    expect(decodeMessage('wifi', SAMPLES.ble)).toMatchObject({ ok: false, reason: 'schema_invalid', detail: expect.stringMatching(/^observations: /) });
    expect(decodeMessage('status', SAMPLES.touchpoint)).toMatchObject({ ok: false, reason: 'schema_invalid', detail: expect.stringMatching(/^state: /) });
  });
});
