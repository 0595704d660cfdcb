import { describe, expect, it } from 'vitest';

import { DEMO_STORE, StoreSchema } from '../config/index.js';
import type { SimMessage } from '../simulators/index.js';
import { acceptedBeaconInteractions, acceptedBleSightings } from './presence-sightings.js';

const STORE = StoreSchema.parse(DEMO_STORE);
const T0 = 1_750_000_000_000;
const BEACON = 'ibeacon:f7826da6-4fa2-4e98-8024-bc5b71e0893e:100:7';

function ble(sourceId: string, mid: string, ts: number, sightings: Array<{ id: string; rssi: number }>, extra: Partial<SimMessage> = {}): SimMessage {
  return {
    topic: `storeloop/v1/${STORE.id}/ble/${sourceId}`,
    kind: 'ble',
    storeId: STORE.id,
    sourceId,
    payload: { v: 1, mid, ts, sightings },
    ts,
    trueTs: ts - 30_000,
    sendAt: ts,
    qos: 1,
    retain: false,
    ...extra,
  } as SimMessage;
}

describe('acceptedBleSightings', () => {
  it('keeps what the gateway stores: first copies, good items, iBeacon ids, at the stamp, inside the window', () => {
    const rows = acceptedBleSightings(
      [
        ble('ble-men', 'm1', T0, [
          { id: BEACON, rssi: -70 },
          { id: 'eddystone:edd1ebeac04e5defa017:0bdb87539b67', rssi: -60 },
        ]),
        ble('ble-men', 'm1', T0, [{ id: BEACON, rssi: -70 }], { duplicate: true }), // a resend: same mid
        ble('ble-women', 'm2', T0 + 5000, [
          { id: BEACON, rssi: -80 },
          { id: BEACON, rssi: 40 }, // an invalid item: dropped alone
        ]),
        ble('ble-women', 'm3', T0 + 86_400_000, [{ id: BEACON, rssi: -80 }], { expectedRejection: 'ts_in_future' }),
        ble('ble-shoes', 'm4', T0, [{ id: BEACON, rssi: -75 }], { injected: { reason: 'json_invalid', scope: 'message', badItems: 0 }, text: '{"v":1,' }),
        ble('ble-ghost', 'm5', T0, [{ id: BEACON, rssi: -75 }]), // not a sensor of the store
        ble('ble-men', 'm6', T0 + 10 * 60_000, [{ id: BEACON, rssi: -75 }]), // after the window
      ],
      STORE,
      T0,
      T0 + 60_000,
    );
    expect(rows).toEqual([
      { ts: T0, visitor: BEACON, sensor: 'ble-men', zone: 'aisle-men', rssi: -70 },
      { ts: T0 + 5000, visitor: BEACON, sensor: 'ble-women', zone: 'aisle-women', rssi: -80 },
    ]);
  });
});

describe('acceptedBeaconInteractions', () => {
  const tp = (sourceId: string, mid: string, ts: number, beacon?: string, extra: Partial<SimMessage> = {}): SimMessage =>
    ({
      topic: `storeloop/v1/${STORE.id}/touchpoint/${sourceId}`,
      kind: 'touchpoint',
      storeId: STORE.id,
      sourceId,
      payload: { v: 1, mid, ts, action: 'tap', ...(beacon === undefined ? {} : { beacon }) },
      ts,
      trueTs: ts,
      sendAt: ts,
      qos: 1,
      retain: false,
      ...extra,
    }) as SimMessage;

  it('keeps first copies of accepted interactions that name a beacon id, at the stamp, inside the window', () => {
    const rows = acceptedBeaconInteractions(
      [
        tp('kiosk-1', 'k1', T0, BEACON),
        tp('kiosk-1', 'k1', T0, BEACON, { duplicate: true }),
        tp('kiosk-1', 'k2', T0 + 1000), // anonymous
        tp('feedback-1', 'f1', T0 + 86_400_000, BEACON, { expectedRejection: 'ts_in_future' }),
        tp('mirror-9', 'x1', T0, BEACON), // not a touchpoint of the store
        tp('mirror-1', 'm1', T0 + 10 * 60_000, BEACON), // after the window
      ],
      STORE,
      T0,
      T0 + 60_000,
    );
    expect(rows).toEqual([{ ts: T0, touchpoint: 'kiosk-1', beacon: BEACON }]);
  });
});
