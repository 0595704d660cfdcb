import { describe, expect, it } from 'vitest';

import { PseudonymSchema, type MessageKind } from '../../protocol/index.js';
import { touchpointEntry } from './log-entry.fixtures.js';
import { decodeLogRecord, encodeLogEntry, itemCount, LogRecordError, rawPayload, type LoggedKindedMessage } from './log-record.js';

const VISITOR = PseudonymSchema.parse('a1b2c3d4e5f60718293a4b5c');

describe('log record encoding', () => {
  it('decodes what it encodes, the message last and parsed on first access', () => {
    const entry = touchpointEntry(7, { label: 'hello' });
    const payload = encodeLogEntry(entry);
    expect(payload.toString()).toMatch(/,"message":\{[^]*\}\}$/);
    const record = decodeLogRecord(41, 1_700_000_000_123, payload);
    expect(record).toMatchObject({ seq: 41, appendedAt: 1_700_000_000_123, kind: 'touchpoint', mid: 'm-7' });
    expect(record.message).toEqual(entry.message);
    expect(JSON.parse(JSON.stringify(record))).toEqual({ ...entry, seq: 41, appendedAt: 1_700_000_000_123 });
    expect(rawPayload(record)).toBe(payload);
  });

  it('reuses the message JSON the pipeline made, byte for byte', () => {
    const entry = touchpointEntry(1);
    expect(encodeLogEntry(entry, JSON.stringify(entry.message)).equals(encodeLogEntry(entry))).toBe(true);
  });

  it('is not fooled by a string that spells the message key', () => {
    const entry = { ...touchpointEntry(2), mid: 'x,"message":{"v":9}', source: { ...touchpointEntry(2).source, zone: '","message":' } };
    const record = decodeLogRecord(1, 1, encodeLogEntry(entry));
    expect(record.mid).toBe(entry.mid);
    expect(record.source.zone).toBe(entry.source.zone);
    expect(record.message).toEqual(entry.message);
  });

  it('reads a record whose message is not the last key whole', () => {
    const { message, ...envelope } = touchpointEntry(3);
    const payload = Buffer.from(JSON.stringify({ message, ...envelope }));
    const record = decodeLogRecord(5, 5, payload);
    expect(record.slot).toEqual(envelope.slot);
    expect(record.message).toEqual(message);
  });

  it('refuses another record version, and a message that is not JSON when it is read', () => {
    const entry = touchpointEntry(4);
    expect(() => decodeLogRecord(9, 9, Buffer.from(JSON.stringify({ ...entry, v: 2 })))).toThrow(/version 2/);
    const broken = Buffer.from(
      encodeLogEntry(entry)
        .toString()
        .replace(/"message":\{/, '"message":{{'),
    );
    const record = decodeLogRecord(9, 9, broken);
    expect(() => record.message).toThrow(LogRecordError);
  });
});

describe('itemCount', () => {
  /** A logged message of every kind and the points it becomes (a Record over the kinds: a new kind needs one here). */
  const CASES: Record<MessageKind, { logged: LoggedKindedMessage; items: number }> = {
    ble: { logged: { kind: 'ble', message: { ts: 1, sightings: [1, 2, 3].map((i) => ({ id: `dev:${VISITOR}${i}`, rssi: -60 })) } }, items: 3 },
    wifi: { logged: { kind: 'wifi', message: { ts: 1, observations: [{ id: VISITOR, rssi: -60, randomized: false }] } }, items: 1 },
    device: { logged: { kind: 'device', message: { ts: 1, event: { type: 'people_count', in: 4, out: 2 } } }, items: 1 },
    touchpoint: { logged: { kind: 'touchpoint', message: { ts: 1, action: 'tap', customerToken: 'tok' } }, items: 1 },
    status: { logged: { kind: 'status', message: { state: 'online' } }, items: 1 },
  };

  it.each(Object.entries(CASES))('counts the items of a %s message', (_kind, { logged, items }) => {
    expect(itemCount(logged)).toBe(items);
  });

  it('counts no item in a scan that saw nothing', () => {
    expect(itemCount({ kind: 'ble', message: { ts: 1, sightings: [] } })).toBe(0);
  });
});
