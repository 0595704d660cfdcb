import { describe, expect, it } from 'vitest';

import { ConfigSchema, DEMO_STORE, DEMO_STORE_ID } from '../../config/index.js';
import { MESSAGE_KINDS, type MessageKind } from '../../protocol/index.js';
import { isRejection, StoreDirectory } from './store-directory.js';

const directory = StoreDirectory.fromConfig(ConfigSchema.parse({ stores: [DEMO_STORE] }));

/** What each demo source may publish: a sensor the kind of its type, everyone its status. */
const MAY_PUBLISH: Record<string, ReadonlyArray<MessageKind>> = {
  'ble-entrance': ['ble', 'status'],
  'wifi-front': ['wifi', 'status'],
  'kiosk-1': ['touchpoint', 'status'],
  'counter-door': ['device', 'status'],
  'edge-1': ['status'],
};

describe('StoreDirectory', () => {
  it.each(Object.entries(MAY_PUBLISH))('lets %s publish %j and refuses every other kind', (sourceId, allowed) => {
    for (const kind of MESSAGE_KINDS) {
      const resolved = directory.resolve(DEMO_STORE_ID, kind, sourceId);
      if (allowed.includes(kind)) expect(isRejection(resolved), `${sourceId} ${kind}`).toBe(false);
      else expect(resolved, `${sourceId} ${kind}`).toMatchObject({ reason: 'source_kind_mismatch' });
    }
  });

  it('resolves a source with its zone and says why a sensor may not publish another kind', () => {
    expect(directory.resolve(DEMO_STORE_ID, 'ble', 'ble-women')).toEqual({
      storeId: DEMO_STORE_ID,
      sourceId: 'ble-women',
      role: 'sensor',
      type: 'ble',
      zone: 'aisle-women',
    });
    expect(directory.resolve(DEMO_STORE_ID, 'ble', 'wifi-front')).toEqual({
      reason: 'source_kind_mismatch',
      detail: "sensor 'wifi-front' (wifi) may not publish 'ble'",
    });
  });

  it('says why a MAC address is not a source or store id, without repeating it', () => {
    for (const mac of ['00-00-5e-00-53-01', '00005e005301', '0000.5e00.5301']) {
      const source = directory.resolve(DEMO_STORE_ID, 'wifi', mac);
      expect(source, mac).toEqual({
        reason: 'source_unknown',
        detail: 'the source id is a MAC address: device ids are personal data; pseudonymise at the source and publish under a source id of the gateway config',
      });
      expect(directory.resolve(mac, 'wifi', 'wifi-front'), mac).toMatchObject({
        reason: 'store_unknown',
        detail: expect.stringMatching(/^the store id is a MAC address/),
      });
    }
  });

  it('names the unknown store or source', () => {
    expect(directory.resolve('nowhere', 'ble', 'ble-women')).toEqual({ reason: 'store_unknown', detail: "unknown store 'nowhere' (not under stores[].id)" });
    expect(directory.resolve(DEMO_STORE_ID, 'ble', 'ble-07')).toMatchObject({
      reason: 'source_unknown',
      detail: expect.stringMatching(/^unknown source 'ble-07' in store 'demo-store'/),
    });
  });
});
