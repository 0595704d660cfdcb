import { describe, expect, it } from 'vitest';

import { MESSAGE_KINDS, PseudonymSchema, type MessageKind } from '../../../protocol/index.js';
import type { ResolvedSource } from '../../ingest/store-directory.js';
import type { LogRecord, LogRecordOf, LoggedMessage } from '../../log/log-record.js';
import { normaliseRecord } from './normalise.js';

const MS = 1_700_000_000_000;
const VISITOR = PseudonymSchema.parse('a1b2c3d4e5f60718293a4b5c');
const IBEACON = 'ibeacon:f7826da6-4fa2-4e98-8024-bc5b71e0893e:100:7';

function record<K extends MessageKind>(kind: K, source: ResolvedSource, message: LoggedMessage<K>): LogRecordOf<K> {
  return { v: 1, kind, source, eventTime: MS, receivedAt: MS, mid: null, qos: 1, slot: { offset: 7 }, seq: 1, appendedAt: MS, message };
}

/** One record of every kind and the lines docs/schema.md gives it (a Record over the kinds: a new kind needs one here). */
const CASES: Record<MessageKind, { record: LogRecord; lines: string[] }> = {
  ble: {
    record: record(
      'ble',
      { storeId: 's1', sourceId: 'ble-1', role: 'sensor', type: 'ble', zone: 'door' },
      { ts: MS, sightings: [{ id: `dev:${VISITOR}`, rssi: -60, tx: -59 }] },
    ),
    lines: [`sighting,id_type=dev,sensor=ble-1,source=ble,store=s1,zone=door rssi=-60i,tx=-59i,visitor="dev:${VISITOR}" 1700000000000000007`],
  },
  wifi: {
    record: record(
      'wifi',
      { storeId: 's1', sourceId: 'wifi-1', role: 'sensor', type: 'wifi', zone: null },
      { ts: MS, observations: [{ id: VISITOR, rssi: -70, randomized: true }] },
    ),
    lines: [`sighting,id_type=wifi,sensor=wifi-1,source=wifi,store=s1 randomized=T,rssi=-70i,visitor="${VISITOR}" 1700000000000000007`],
  },
  device: {
    record: record(
      'device',
      { storeId: 's1', sourceId: 'counter', role: 'device', type: 'people_counter', zone: 'door' },
      { ts: MS, event: { type: 'people_count', in: 3, out: 1 } },
    ),
    lines: ['telemetry,device=counter,device_type=people_counter,event=people_count,store=s1,zone=door in=3i,out=1i 1700000000000000007'],
  },
  touchpoint: {
    record: record(
      'touchpoint',
      { storeId: 's1', sourceId: 'kiosk-1', role: 'touchpoint', type: 'kiosk', zone: 'door' },
      { ts: MS, action: 'tap', visitor: VISITOR, beacon: IBEACON, value: 4, customerToken: 'tok' },
    ),
    lines: [
      `interaction,action=tap,store=s1,touchpoint=kiosk-1,touchpoint_type=kiosk,zone=door beacon="${IBEACON}",count=1i,identified=T,value=4,visitor="${VISITOR}" 1700000000000000007`,
    ],
  },
  status: {
    record: record('status', { storeId: 's1', sourceId: 'edge-1', role: 'agent', type: null, zone: null }, { state: 'offline', version: '1.0.0' }),
    lines: ['agent,agent=edge-1,role=agent,state=offline,store=s1 online=F,version="1.0.0" 1700000000000000007'],
  },
};

describe('normaliseRecord, kind by kind', () => {
  it.each(MESSAGE_KINDS)('writes a %s record as its documented lines', (kind) => {
    const { record: input, lines } = CASES[kind];
    expect(normaliseRecord(input).map((p) => p.line)).toEqual(lines);
  });
});

describe('interaction beacon', () => {
  const kiosk: ResolvedSource = { storeId: 's1', sourceId: 'kiosk-1', role: 'touchpoint', type: 'kiosk', zone: 'door' };

  it('writes the beacon id as a field, never a tag, so it joins the sightings without a series per visitor', () => {
    for (const beacon of [IBEACON, `dev:${VISITOR}`]) {
      const [line] = normaliseRecord(record('touchpoint', kiosk, { ts: MS, action: 'tap', beacon })).map((p) => p.line);
      expect(line).toBe(
        `interaction,action=tap,store=s1,touchpoint=kiosk-1,touchpoint_type=kiosk,zone=door beacon="${beacon}",count=1i,identified=F 1700000000000000007`,
      );
    }
  });

  it('leaves it out of an anonymous interaction', () => {
    const [line] = normaliseRecord(record('touchpoint', kiosk, { ts: MS, action: 'view', label: 'lookbook' })).map((p) => p.line);
    expect(line).toBe(
      'interaction,action=view,store=s1,touchpoint=kiosk-1,touchpoint_type=kiosk,zone=door count=1i,identified=F,label="lookbook" 1700000000000000007',
    );
  });
});

describe('consent choices', () => {
  const kiosk: ResolvedSource = { storeId: 's1', sourceId: 'kiosk-1', role: 'touchpoint', type: 'kiosk', zone: 'door' };

  it.each(['consent_granted', 'consent_withdrawn'])('writes %s as a consent_choice point, never an interaction, without who chose', (action) => {
    const message = { ts: MS, action, purpose: 'crm' as const, notice: 'privacy-2026-03', customerToken: 'ct_alice', visitor: VISITOR, beacon: IBEACON };
    const points = normaliseRecord(record('touchpoint', kiosk, message));
    expect(points.map((p) => p.measurement)).toEqual(['consent_choice']);
    expect(points[0]?.line).toBe(
      `consent_choice,action=${action},purpose=crm,store=s1,touchpoint=kiosk-1,touchpoint_type=kiosk,zone=door count=1i,notice="privacy-2026-03" 1700000000000000007`,
    );
  });
});
