import { createHmac } from 'node:crypto';

import { describe, expect, it } from 'vitest';

import { beaconIdOf, createAllowlist, decideSighting, txAt1mOf } from './beacon-policy.js';
import type { AltbeaconFrame, EddystoneUidFrame, IbeaconFrame } from './beacon-parser.js';
import { environmentFromTlm } from './tlm-telemetry.js';

const IBEACON: IbeaconFrame = { format: 'ibeacon', companyId: 76, uuid: '28e13894-a2ad-49b3-9d03-95c43b5bba7c', major: 4660, minor: 22136, measuredPower: -59 };
const EDDYSTONE: EddystoneUidFrame = { format: 'eddystone-uid', txPower: -18, namespaceId: '0caaf24ab1a0c33440c0', instanceId: '0a0b0c0d0e0f' };
const ALTBEACON: AltbeaconFrame = {
  format: 'altbeacon',
  companyId: 280,
  beaconId: 'eda1a1c8207c43a5b5ab6fbb298985e1002a0007',
  referenceRssi: -65,
  mfgReserved: 90,
};
const ADDRESS = 'C0:00:5E:00:53:B1';
const pseudonymise = (address: string) => createHmac('sha256', 'test-key').update(address).digest('base64url').slice(0, 22);

describe('beacon ids and tx', () => {
  it('builds the contract ids', () => {
    expect(beaconIdOf(IBEACON)).toBe('ibeacon:28e13894-a2ad-49b3-9d03-95c43b5bba7c:4660:22136');
    expect(beaconIdOf(EDDYSTONE)).toBe('eddystone:0caaf24ab1a0c33440c0:0a0b0c0d0e0f');
    expect(beaconIdOf(ALTBEACON)).toBe('altbeacon:eda1a1c8207c43a5b5ab6fbb298985e1002a0007');
  });

  it('gives power at 1 m: iBeacon and AltBeacon as announced, Eddystone (0 m) minus 41 dB', () => {
    expect(txAt1mOf(IBEACON)).toBe(-59);
    expect(txAt1mOf(ALTBEACON)).toBe(-65);
    expect(txAt1mOf(EDDYSTONE)).toBe(-59);
  });
});

describe('createAllowlist', () => {
  const allow = createAllowlist(['28E13894-A2AD-49B3-9D03-95C43B5BBA7C', '0caaf24ab1a0c33440c0', 'eda1a1c8-207c-43a5-b5ab-6fbb298985e1']);

  it('matches iBeacon UUIDs, Eddystone namespaces and AltBeacon ids by their first 16 bytes, whatever the case and dashes', () => {
    expect(allow(IBEACON)).toBe(true);
    expect(allow(EDDYSTONE)).toBe(true);
    expect(allow(ALTBEACON)).toBe(true);
    expect(allow({ ...IBEACON, uuid: 'd1a2ac15-1516-42fd-85e1-1b768703fcde' })).toBe(false);
  });

  it('refuses an entry that is no UUID, namespace or AltBeacon id, naming its index', () => {
    expect(() => createAllowlist(['28e13894-a2ad-49b3-9d03-95c43b5bba7c', 'acme'])).toThrow(/policy\.allowUuids\[1\]/);
  });
});

describe('decideSighting', () => {
  const isAllowed = createAllowlist([IBEACON.uuid]);

  it('keeps an allowlisted beacon under its id with its smoothed RSSI and tx', () => {
    const out = decideSighting({ address: ADDRESS, identity: IBEACON, rssi: -63 }, { isAllowed, others: 'drop', pseudonymise });
    expect(out).toEqual({ kind: 'beacon', sighting: { id: beaconIdOf(IBEACON), rssi: -63, tx: -59 } });
  });

  it("drops other devices, including beacons that are not the retailer's, when the policy drops", () => {
    expect(decideSighting({ address: ADDRESS, rssi: -63 }, { isAllowed, others: 'drop', pseudonymise })).toEqual({ kind: 'dropped' });
    expect(decideSighting({ address: ADDRESS, identity: EDDYSTONE, rssi: -63 }, { isAllowed, others: 'drop', pseudonymise })).toEqual({ kind: 'dropped' });
  });

  it('sends other devices as dev:<pseudonym>, tx from TxPower at 1 m, never the address', () => {
    const out = decideSighting({ address: ADDRESS, rssi: -70, txPower: 4 }, { isAllowed, others: 'pseudonymise', pseudonymise });
    expect(out).toEqual({ kind: 'pseudonymised', sighting: { id: `dev:${pseudonymise(ADDRESS)}`, rssi: -70, tx: -37 } });
    expect(JSON.stringify(out)).not.toMatch(/C0:00:5E|c0005e/i);
  });

  it('refuses a pseudonymiser that hands back the address, and one that throws, keeping only the error name', () => {
    expect(decideSighting({ address: ADDRESS, rssi: -70 }, { isAllowed, others: 'pseudonymise', pseudonymise: (a) => a })).toEqual({
      kind: 'pseudonym-failed',
      reason: 'invalid',
    });
    const throwing = (a: string): string => {
      throw new TypeError(`bad ${a}`);
    };
    expect(decideSighting({ address: ADDRESS, rssi: -70 }, { isAllowed, others: 'pseudonymise', pseudonymise: throwing })).toEqual({
      kind: 'pseudonym-failed',
      reason: 'threw',
      errorName: 'TypeError',
    });
  });
});

describe('environmentFromTlm', () => {
  const tlm = {
    format: 'eddystone-tlm',
    version: 0,
    batteryMillivolts: 2950,
    temperatureRaw: 6016,
    temperatureCelsius: 23.5,
    advertisingPduCount: 1,
    uptimeDeciseconds: 1,
    uptimeSeconds: 0.1,
  } as const;

  it('gives battery and temperature', () => {
    expect(environmentFromTlm(tlm)).toEqual({ ok: true, event: { type: 'environment', battery_mv: 2950, temperature_c: 23.5 } });
  });

  it("leaves out the spec's not-supported values and gives nothing when none is left", () => {
    expect(environmentFromTlm({ ...tlm, batteryMillivolts: 0 })).toEqual({ ok: true, event: { type: 'environment', temperature_c: 23.5 } });
    expect(environmentFromTlm({ ...tlm, batteryMillivolts: 0, temperatureRaw: -32768, temperatureCelsius: -128 })).toEqual({
      ok: false,
      reason: 'no-readings',
    });
  });
});
