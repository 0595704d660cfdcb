import { describe, expect, it } from 'vitest';

import { decodeMessage } from './decode.js';
import { buildTopic, parseTopic } from './topics.js';
import { containsMacAddress, maskMacAddresses } from './identifiers.js';
import { epochSecondsHint } from './messages.js';

const TS = 1_790_000_000_000;
const IBEACON = 'ibeacon:f7826da6-4fa2-4e98-8024-bc5b71e0893e:100:7';
const PSEUDONYM = 'a1b2c3d4e5f60718293a4b5c';

describe('decodeMessage', () => {
  it('accepts every beacon id format in a ble message', () => {
    const result = decodeMessage('ble', {
      ts: TS,
      mid: 'edge-1-1',
      sightings: [
        { id: IBEACON, rssi: -67, tx: -59 },
        { id: 'eddystone:edd1ebeac04e5defa017:0123456789ab', rssi: -80 },
        { id: 'altbeacon:eda1a1c8207c43a5b5ab6fbb298985e1002a0007', rssi: -71 },
        { id: 'dev:3f9a1c0b7e2d4a6f8c1b', rssi: -90 },
      ],
    });
    expect(result.ok).toBe(true);
    if (result.ok) {
      expect(result.message.sightings).toHaveLength(4);
      expect(result.itemRejections).toEqual([]);
    }
  });

  it('rejects a sighting with rssi above the range and keeps the others, naming the bad one', () => {
    const result = decodeMessage('ble', {
      ts: TS,
      sightings: [
        { id: IBEACON, rssi: -60 },
        { id: IBEACON, rssi: 40 },
        { id: IBEACON, rssi: -70 },
      ],
    });
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.message.sightings.map((s) => s.rssi)).toEqual([-60, -70]);
    expect(result.itemRejections).toHaveLength(1);
    expect(result.itemRejections[0]?.index).toBe(1);
    expect(result.itemRejections[0]?.detail).toMatch(/^sightings\.1\.rssi: /);
  });

  it('drops each bad observation with its own rejection and keeps the good ones in order, as the wifi schema makes them', () => {
    const result = decodeMessage('wifi', {
      ts: TS,
      mid: 'w-7',
      observations: [
        { id: PSEUDONYM, rssi: -50, randomized: true, extra: 'dropped' },
        { id: PSEUDONYM, rssi: -50 },
        { id: '00:00:5e:00:53:01', rssi: -50, randomized: false },
        { id: PSEUDONYM, rssi: -60, randomized: false },
      ],
    });
    expect(result).toEqual({
      ok: true,
      kind: 'wifi',
      message: {
        ts: TS,
        mid: 'w-7',
        observations: [
          { id: PSEUDONYM, rssi: -50, randomized: true },
          { id: PSEUDONYM, rssi: -60, randomized: false },
        ],
      },
      itemRejections: [
        { index: 1, detail: 'observations.1.randomized: Invalid input: expected boolean, received undefined' },
        {
          index: 2,
          detail:
            'observations.2.id: expected a pseudonym: 16-64 characters of A-Z a-z 0-9 _ -; observations.2.id: a MAC address is not a pseudonym: hash it at the source',
        },
      ],
    });
  });

  it('rejects the whole message for a bad envelope, whatever its items', () => {
    expect(decodeMessage('ble', { ts: 'x', sightings: [{ id: IBEACON, rssi: -60 }, { id: 'x' }] })).toEqual({
      ok: false,
      reason: 'schema_invalid',
      detail: 'ts: Invalid input: expected number, received string',
    });
    expect(decodeMessage('ble', { ts: TS, sightings: Array.from({ length: 1001 }, () => ({ id: 'x' })) })).toEqual({
      ok: false,
      reason: 'schema_invalid',
      detail: 'sightings: Too big: expected array to have <=1000 items',
    });
    expect(decodeMessage('wifi', { ts: TS })).toMatchObject({ ok: false, reason: 'schema_invalid', detail: expect.stringMatching(/^observations: /) });
  });

  it('accepts a scan that saw nothing', () => {
    expect(decodeMessage('ble', { ts: TS, sightings: [] })).toEqual({ ok: true, kind: 'ble', message: { ts: TS, sightings: [] }, itemRejections: [] });
  });

  it('rejects the whole message when every item is bad', () => {
    expect(decodeMessage('wifi', { ts: TS, observations: [{ id: '00-00-5e-00-53-aa', rssi: -50, randomized: false }, { rssi: 1 }] })).toEqual({
      ok: false,
      reason: 'schema_invalid',
      detail: 'every item is invalid; first: observations.0.id: a MAC address is not a pseudonym: hash it at the source',
    });
    const result = decodeMessage('wifi', { ts: TS, observations: [{ id: 'aa:bb:cc:dd:ee:ff', rssi: -50, randomized: false }] });
    expect(result).toMatchObject({ ok: false, reason: 'schema_invalid' });
  });

  it('refuses a raw MAC address as a wifi id and as a customer id', () => {
    expect(decodeMessage('wifi', { ts: TS, observations: [{ id: '00005e0053aa', rssi: -50, randomized: false }] }).ok).toBe(false);
    // dash-written MACs fit the pseudonym alphabet: they are refused all the same
    expect(decodeMessage('wifi', { ts: TS, observations: [{ id: '00-00-5e-00-53-aa', rssi: -50, randomized: false }] }).ok).toBe(false);
    expect(decodeMessage('ble', { ts: TS, sightings: [{ id: 'dev:00-00-5e-00-53-aa', rssi: -50 }] }).ok).toBe(false);
    expect(decodeMessage('status', { state: 'degraded', detail: 'scanner 00:00:5e:00:53:01 lost' }).ok).toBe(false);
    expect(decodeMessage('touchpoint', { ts: TS, action: 'tap', customer: 'phone 00:00:5e:00:53:01' })).toMatchObject({ ok: false, reason: 'schema_invalid' });
  });

  it('answers version_unsupported for another contract version', () => {
    expect(decodeMessage('status', { v: 2, state: 'online' })).toMatchObject({ ok: false, reason: 'version_unsupported' });
  });

  it('names the path of a schema error', () => {
    const result = decodeMessage('device', { ts: TS, event: { type: 'people_count', in: -1, out: 0 } });
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.detail).toMatch(/^event\.in: /);
  });

  it('lets a status omit ts (a last will) but not other kinds', () => {
    expect(decodeMessage('status', { state: 'offline' }).ok).toBe(true);
    expect(decodeMessage('touchpoint', { action: 'tap' }).ok).toBe(false);
  });
});

describe('touchpoint beacon', () => {
  const tap = (beacon?: unknown) => decodeMessage('touchpoint', { ts: TS, action: 'tap', ...(beacon === undefined ? {} : { beacon }) });

  it("takes the visitor's beacon id in every format the scanners report, and keeps it", () => {
    for (const beacon of [IBEACON, 'eddystone:edd1ebeac04e5defa017:0123456789ab', 'altbeacon:eda1a1c8207c43a5b5ab6fbb298985e1002a0007', `dev:${PSEUDONYM}`]) {
      const result = tap(beacon);
      expect(result.ok, beacon).toBe(true);
      if (result.ok) expect(result.message).toEqual({ ts: TS, action: 'tap', beacon });
    }
  });

  it('stays optional: a touchpoint without it (an older device, an anonymous interaction) is valid', () => {
    expect(tap()).toMatchObject({ ok: true, message: { ts: TS, action: 'tap' } });
    const result = tap();
    if (result.ok) expect(result.message).not.toHaveProperty('beacon');
  });

  it('refuses a value that follows none of the beacon id formats', () => {
    for (const beacon of [
      '',
      PSEUDONYM, // a bare pseudonym is a visitor, not a beacon id
      'ibeacon:F7826DA6-4FA2-4E98-8024-BC5B71E0893E:100:7',
      'ibeacon:f7826da6-4fa2-4e98-8024-bc5b71e0893e:100:65536',
      'ibeacon:f7826da6-4fa2-4e98-8024-bc5b71e0893e:07:1',
      'eddystone:edd1ebeac04e5defa017',
      'dev:short',
      'wifi:9f2c4e1a7b3d5f60a8c2e4b6d8f0a1c3',
      42,
    ]) {
      expect(tap(beacon), String(beacon)).toMatchObject({ ok: false, reason: 'schema_invalid' });
    }
    expect(tap('ibeacon:nope')).toMatchObject({ detail: expect.stringMatching(/^beacon: expected ibeacon:<uuid>:<major>:<minor>/) });
  });

  it('refuses a MAC address, bare or as a dev: id, saying to hash it at the source', () => {
    for (const beacon of ['aa:bb:cc:dd:ee:ff', '00005e0053aa', 'dev:00-00-5e-00-53-aa', 'dev:AA:BB:CC:DD:EE:FF']) {
      expect(tap(beacon), beacon).toMatchObject({ ok: false, reason: 'schema_invalid', detail: expect.stringMatching(/^beacon: /) });
    }
    expect(tap('dev:00-00-5e-00-53-aa')).toMatchObject({ detail: 'beacon: a MAC address is not a beacon id: hash it at the source (dev:<pseudonym>)' });
  });
});

describe('touchpoint consent actions', () => {
  const grant = { ts: TS, mid: 'k-1', action: 'consent_granted', customer: 'C-004711', purpose: 'crm', notice: 'privacy-2026-03' };

  it('accepts a grant and a withdrawal with customer and purpose', () => {
    expect(decodeMessage('touchpoint', grant)).toMatchObject({ ok: true, message: grant });
    const withdrawal = { ts: TS, action: 'consent_withdrawn', customer: 'C-004711', purpose: 'analytics' };
    expect(decodeMessage('touchpoint', withdrawal)).toMatchObject({ ok: true, message: withdrawal });
  });

  it('refuses a consent action without its customer or purpose, or with an unknown purpose, and says which', () => {
    const { customer: _c, ...noCustomer } = grant;
    expect(decodeMessage('touchpoint', noCustomer)).toEqual({
      ok: false,
      reason: 'schema_invalid',
      detail: 'customer: consent_granted needs the customer it is for',
    });
    const { purpose: _p, ...noPurpose } = grant;
    expect(decodeMessage('touchpoint', { ...noPurpose, action: 'consent_withdrawn' })).toEqual({
      ok: false,
      reason: 'schema_invalid',
      detail: 'purpose: consent_withdrawn needs a purpose (analytics, personalisation, crm)',
    });
    expect(decodeMessage('touchpoint', { ...grant, purpose: 'marketing' })).toMatchObject({ ok: false, reason: 'schema_invalid' });
  });

  it('refuses purpose and notice on any other action', () => {
    expect(decodeMessage('touchpoint', { ts: TS, action: 'tap', purpose: 'crm' })).toEqual({
      ok: false,
      reason: 'schema_invalid',
      detail: 'purpose: purpose goes only with consent_granted and consent_withdrawn',
    });
    expect(decodeMessage('touchpoint', { ts: TS, action: 'tap', notice: 'v1' })).toMatchObject({ ok: false, reason: 'schema_invalid' });
  });
});

describe('ts', () => {
  it('tells a sender of epoch seconds that ts is epoch milliseconds', () => {
    expect(epochSecondsHint(1_700_000_000)).toBe('ts is epoch milliseconds: 1700000000 looks like epoch seconds (send 1700000000000)');
    expect(epochSecondsHint(1_700_000_000.25)).toBe('ts is epoch milliseconds: 1700000000.25 looks like epoch seconds (send 1700000000250)');
    for (const ms of [TS, 0, 3_600_000, 1e11, -1_700_000_000]) expect(epochSecondsHint(ms), String(ms)).toBeUndefined();
  });

  it('refuses fractional epoch seconds with the hint, in every kind', () => {
    const ts = 1_700_000_000.25;
    const hint = 'ts: ts is epoch milliseconds: 1700000000.25 looks like epoch seconds (send 1700000000250)';
    expect(decodeMessage('touchpoint', { ts, action: 'tap' })).toEqual({ ok: false, reason: 'schema_invalid', detail: hint });
    expect(decodeMessage('ble', { ts, sightings: [{ id: IBEACON, rssi: -60 }] })).toEqual({ ok: false, reason: 'schema_invalid', detail: hint });
    expect(decodeMessage('status', { ts, state: 'online' })).toEqual({ ok: false, reason: 'schema_invalid', detail: hint });
    // other fractions keep zod's own message
    expect(decodeMessage('touchpoint', { ts: TS + 0.5, action: 'tap' })).toMatchObject({ detail: 'ts: Invalid input: expected int, received number' });
  });
});

describe('topics', () => {
  it('round-trips a topic and rejects wrong shapes and kinds', () => {
    const topic = buildTopic('storeloop', { storeId: 's1', kind: 'ble', sourceId: 'ble-1' });
    expect(parseTopic('storeloop', topic)).toEqual({ ok: true, storeId: 's1', kind: 'ble', sourceId: 'ble-1' });
    expect(parseTopic('storeloop', 'storeloop/s1/ble')).toMatchObject({ ok: false, reason: 'topic_invalid' });
    expect(parseTopic('storeloop', 'storeloop/s1/bluetooth/x')).toMatchObject({ ok: false, reason: 'topic_unknown_kind' });
    expect(() => buildTopic('storeloop', { storeId: 'a/b', kind: 'ble', sourceId: 'x' })).toThrow(/invalid storeId/);
  });

  it('says why a MAC address is not a store or source id, without repeating it', () => {
    expect(parseTopic('storeloop', 'storeloop/s1/wifi/00:00:5e:00:53:01')).toEqual({
      ok: false,
      reason: 'topic_invalid',
      detail: 'the source id is a MAC address: device ids are personal data; pseudonymise at the source and publish under a source id of the gateway config',
    });
    const store = parseTopic('storeloop', 'storeloop/00:00:5e:00:53:01/ble/ble-1');
    expect(store).toMatchObject({
      ok: false,
      reason: 'topic_invalid',
      detail: expect.stringMatching(/^the store id is a MAC address: device ids are personal data/),
    });
    expect(JSON.stringify(store)).not.toMatch(/00:00:5e/);
    expect(parseTopic('storeloop', 'storeloop/s1/ble/a b')).toEqual({ ok: false, reason: 'topic_invalid', detail: "invalid source id 'a b'" });
  });
});

describe('MAC addresses', () => {
  it('detects and masks MAC-shaped strings', () => {
    expect(containsMacAddress('00:00:5E:00:53:01')).toBe(true);
    expect(containsMacAddress('00-00-5e-00-53-01')).toBe(true);
    expect(containsMacAddress('0000.5e00.5301')).toBe(true);
    expect(containsMacAddress('C-000123')).toBe(false);
    expect(maskMacAddresses('{"id":"00:00:5e:00:53:01","x":"00005e005301"}')).toBe('{"id":"xx:xx:xx:xx:xx:xx","x":"xxxxxxxxxxxx"}');
  });
});
