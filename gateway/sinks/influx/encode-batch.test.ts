import { describe, expect, it } from 'vitest';

import { createLogger } from '../../../lib/logger.js';
import type { LogRecord } from '../../log/log-record.js';
import { BatchEncoder } from './batch-encoder.js';
import { encodeRecords } from './encode-batch.js';
import { normaliseRecord } from './normalise.js';

function bleRecord(seq: number, sightings: number): LogRecord {
  return {
    v: 1,
    seq,
    appendedAt: 0,
    kind: 'ble',
    source: { storeId: 's1', sourceId: 'ble-1', role: 'sensor', type: 'ble', zone: 'door' },
    eventTime: 1_700_000_000_000 + seq,
    receivedAt: 1_700_000_000_000 + seq,
    mid: `m-${seq}`,
    qos: 1,
    slot: { offset: seq % 3 },
    message: {
      v: 1,
      ts: 1_700_000_000_000 + seq,
      mid: `m-${seq}`,
      sightings: Array.from({ length: sightings }, (_, i) => ({ id: `dev:${String(seq * 10 + i).padStart(24, '0')}`, rssi: -60 - i })),
    },
  };
}

describe('encodeRecords', () => {
  it('joins every record’s lines, in order, into bodies of at most linesPerBody lines', () => {
    const records = [bleRecord(1, 3), bleRecord(2, 4), bleRecord(3, 2)];
    const expected = records.flatMap((r) => normaliseRecord(r).map((p) => p.line));
    const encoded = encodeRecords(records, 4);
    expect(encoded.bodyLines).toEqual([4, 4, 1]);
    expect(encoded.bodies.join('\n')).toBe(expected.join('\n'));
    expect(encoded.perMeasurement).toEqual({ sighting: 9 });
  });

  it('encodes in this thread when the gateway runs from sources (no compiled worker beside it)', async () => {
    const encoder = new BatchEncoder(5000, createLogger('silent'), true);
    expect(encoder.inWorker).toBe(false);
    const records = [bleRecord(4, 2)];
    expect(await encoder.encode(records)).toEqual(encodeRecords(records, 5000));
    await encoder.stop();
  });
});
