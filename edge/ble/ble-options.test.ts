import { describe, expect, it } from 'vitest';

import { createLogger } from '../../lib/logger.js';
import { BLE_SOURCE_DEFAULTS, resolveBleOptions, type BleSourceOptions } from './ble-options.js';
import { readDeviceProperties } from './bluez-values.js';

const base: BleSourceOptions = {
  sourceId: 'ble-entrance',
  policy: { allowUuids: [], others: 'drop' },
  pseudonymise: () => 'aaaaaaaaaaaaaaaaaaaaaa',
  log: createLogger('silent'),
};

describe('resolveBleOptions', () => {
  it('fills in the defaults', () => {
    expect(resolveBleOptions(base)).toMatchObject({ ...BLE_SOURCE_DEFAULTS, sourceId: 'ble-entrance', tlmDeviceIds: {} });
  });

  it('says what a record key must be', () => {
    expect(() => resolveBleOptions({ ...base, tlmDeviceIds: { 'beacon-1': 'env-1' } })).toThrow(/tlmDeviceIds\.beacon-1: expected a beacon id/);
  });

  it.each([
    [{ sourceId: 'ble/entrance' }, 'sourceId'],
    [{ intervalMs: 0 }, 'intervalMs'],
    [{ adapter: '/org/bluez/hci0' }, 'adapter'],
    [{ policy: { allowUuids: [], others: 'keep' } }, 'policy.others'],
    [{ tlmDeviceIds: { 'aa:bb:cc:dd:ee:ff': 'env-1' } }, 'tlmDeviceIds.xx:xx:xx:xx:xx:xx'],
    [{ tlmDeviceIds: { 'eddystone:0caaf24ab1a0c33440c0:0a0b0c0d0e0f': 'env 1' } }, 'tlmDeviceIds.eddystone:0caaf24ab1a0c33440c0:0a0b0c0d0e0f'],
  ])('refuses %j, naming %s', (override, path) => {
    expect(() => resolveBleOptions({ ...base, ...(override as Partial<BleSourceOptions>) })).toThrow(
      expect.objectContaining({ code: 'SL_ERR_BLE_CONFIG', context: { path } }),
    );
  });
});

describe('readDeviceProperties', () => {
  it('reads RSSI, TxPower, address and advertising data, unwrapping variants', () => {
    const reading = readDeviceProperties({
      Address: 'C0:00:5E:00:53:B1',
      AddressType: { signature: 's', value: 'random' },
      RSSI: -63,
      TxPower: { signature: 'n', value: 4 },
      ManufacturerData: { 76: { signature: 'ay', value: Buffer.from([2, 21]) } },
      ServiceData: {},
    });
    expect(reading).toEqual({
      address: 'C0:00:5E:00:53:B1',
      addressType: 'random',
      rssi: -63,
      txPower: 4,
      advertisement: { manufacturerData: new Map([[76, Buffer.from([2, 21])]]), serviceData: new Map() },
    });
  });

  it('leaves out an RSSI outside the contract range and malformed entries', () => {
    const reading = readDeviceProperties({ RSSI: 127, ManufacturerData: { abc: [1], 70000: [1], 76: 'x' }, ServiceData: [] });
    expect(reading).toEqual({ advertisement: { manufacturerData: new Map(), serviceData: new Map() } });
  });
});
