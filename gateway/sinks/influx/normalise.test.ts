import { describe, expect, it } from 'vitest';

import type { LogRecord } from '../../log/log-record.js';
import { normaliseRecord, pointTimestamp, sightingLinesByBuilder } from './normalise.js';

const HOSTILE = ['plain', 'with space', 'comma,here', 'equals=sign', 'new\nline', 'ünïcødé ✓', ''];

function sightingRecord(kind: 'ble' | 'wifi', i: number, text: string): LogRecord {
  const source = { storeId: `store ${text}`, sourceId: `scanner,${text}`, role: 'sensor' as const, type: 'ble_scanner', zone: text };
  const base = {
    v: 1 as const,
    source,
    eventTime: 1_700_000_000_000 + i,
    receivedAt: 1_700_000_000_000,
    mid: `m-${i}`,
    qos: 1 as const,
    slot: { offset: (i * 37_013) % 999_990 },
    seq: i,
    appendedAt: 1,
  };
  const ids = [
    'ibeacon:f7826da6-4fa2-4e98-8024-bc5b71e0893e:1:65535',
    'eddystone:00112233445566778899:aabbccddeeff',
    `altbeacon:${'ab'.repeat(20)}`,
    'dev:abcdefghijklmnop_-',
    'dev:"quote\\d"',
  ];
  if (kind === 'ble') {
    const sightings = ids.map((id, n) => ({ id, rssi: -40 - n - i, ...(n % 2 === 0 ? { tx: -59 } : {}) }));
    return { ...base, kind, message: { v: 1, ts: base.eventTime, mid: base.mid, sightings } } as unknown as LogRecord;
  }
  const observations = ids.map((id, n) => ({ id: `${id}-${n}`, rssi: -70 + n, randomized: n % 2 === 0 }));
  return { ...base, kind, message: { v: 1, ts: base.eventTime, mid: base.mid, observations } } as unknown as LogRecord;
}

describe('InfluxDB sink normaliser', () => {
  it('writes sighting lines byte for byte as the LineBuilder path, for hostile names and every id type', () => {
    for (const [i, text] of HOSTILE.entries()) {
      for (const kind of ['ble', 'wifi'] as const) {
        const record = sightingRecord(kind, i, text);
        expect(normaliseRecord(record), `${kind} ${JSON.stringify(text)}`).toEqual(sightingLinesByBuilder(record));
      }
    }
  });

  it('stamps item i at ms × 10^6 + offset + i, the same as the BigInt sum at every edge', () => {
    for (const [ms, offset, index] of [
      [1_700_000_000_000, 0, 0],
      [1_700_000_000_000, 999_998, 1],
      [1, 5, 0],
      [1_700_000_000_123, 499_999, 1],
      [1_700_000_000_000, 999_999, 1],
      [0, 7, 0],
    ] as const) {
      expect(pointTimestamp(ms, offset, index)).toBe((BigInt(ms) * 1_000_000n + BigInt(offset + index)).toString());
    }
  });
});
