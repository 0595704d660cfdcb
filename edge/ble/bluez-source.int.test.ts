/**
 * BleSource against a real dbus-daemon with python3-dbusmock's BlueZ template (test/helpers/dbusmock.ts):
 * node-ble talks D-Bus to it exactly as to bluetoothd. Devices carry the frames of vectors/ble-frames.json.
 * dbusmock does not declare PropertiesChanged in its introspection, so these tests run on polling alone,
 * the path production runs.
 */
import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Writable } from 'node:stream';

import { afterAll, beforeAll, describe, expect, it, onTestFinished, vi } from 'vitest';

import { createLogger } from '../../lib/logger.js';
import { BleMessageSchema, DeviceMessageSchema, type BleSighting } from '../../protocol/index.js';
import { devicePath, pointSystemBusAt, startDbusMock, type DbusMock, type DeviceProperties } from '../../test/helpers/dbusmock.js';
import type { SourcePayload } from '../types.js';
import { BleSource, type BleSourceOptions } from './bluez-source.js';
import { BleError } from './ble-errors.js';

interface Vector {
  name: string;
  bluez: {
    Address: string;
    AddressType: 'public' | 'random';
    RSSI: number;
    ManufacturerData?: Record<string, number[]>;
    ServiceData?: Record<string, number[]>;
  };
}

const VECTORS = new Map(
  (JSON.parse(readFileSync(new URL('./vectors/ble-frames.json', import.meta.url), 'utf8')) as { vectors: Vector[] }).vectors.map((v) => [v.name, v]),
);

function vector(name: string): Vector {
  const v = VECTORS.get(name);
  if (!v) throw new Error(`no vector ${name}`);
  return v;
}

/** The vector's Device1 properties (JSON keys of ManufacturerData are decimal company ids). */
function propsOf(name: string, overrides: DeviceProperties = {}): DeviceProperties {
  const { bluez } = vector(name);
  return {
    AddressType: bluez.AddressType,
    RSSI: bluez.RSSI,
    ...(bluez.ManufacturerData ? { ManufacturerData: Object.fromEntries(Object.entries(bluez.ManufacturerData).map(([k, v]) => [Number(k), v])) } : {}),
    ...(bluez.ServiceData ? { ServiceData: bluez.ServiceData } : {}),
    ...overrides,
  };
}

const IBEACON_ENTRANCE = 'ibeacon:28e13894-a2ad-49b3-9d03-95c43b5bba7c:4660:22136';
const IBEACON_HIGH = 'ibeacon:d1a2ac15-1516-42fd-85e1-1b768703fcde:65534:32769';
const EDDYSTONE_UID = 'eddystone:0caaf24ab1a0c33440c0:0a0b0c0d0e0f';
const ALTBEACON = 'altbeacon:eda1a1c8207c43a5b5ab6fbb298985e1002a0007';
const RETAILER_ALLOWLIST = [
  '28e13894-a2ad-49b3-9d03-95c43b5bba7c',
  'd1a2ac15-1516-42fd-85e1-1b768703fcde',
  '0caaf24ab1a0c33440c0',
  'eda1a1c8207c43a5b5ab6fbb298985e1002a0007',
];
/** A phone: Apple "Nearby Info" manufacturer data (type 0x10), not a beacon. */
const PHONE = {
  address: '00:00:5E:00:53:F1',
  props: { AddressType: 'random', RSSI: -70, TxPower: 8, ManufacturerData: { 76: [0x10, 0x05, 0x01, 0x18, 0x44, 0x7a, 0x9c] } },
} as const;

/** A real keyed hash (HMAC-SHA256, base64url), as edge/pseudonymise makes them. */
const pseudonymise = (address: string): string => createHmac('sha256', 'storeloop-test-key').update(address).digest('base64url').slice(0, 22);

let mock: DbusMock;
let restoreBus: (() => void) | undefined;
const addressesUsed = new Set<string>();

beforeAll(async () => {
  mock = await startDbusMock();
  restoreBus = pointSystemBusAt(mock.address);
});

afterAll(async () => {
  restoreBus?.();
  await mock?.stop();
});

async function addDevice(adapter: string, address: string, props: DeviceProperties): Promise<void> {
  addressesUsed.add(address);
  await mock.addDevice(adapter, address, props);
}

async function addVectorDevice(adapter: string, name: string, overrides: DeviceProperties = {}): Promise<string> {
  const { Address } = vector(name).bluez;
  await addDevice(adapter, Address, propsOf(name, overrides));
  return Address;
}

interface Harness {
  source: BleSource;
  emitted: SourcePayload[];
  logLines: string[];
  bleBatches(): Array<{ ts: number; sightings: BleSighting[] }>;
  /** Batches emitted after the call. */
  batchesAfter(count: number): Array<{ ts: number; sightings: BleSighting[] }>;
}

async function startSource(adapter: string, options: Partial<BleSourceOptions> = {}): Promise<Harness> {
  const logLines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      logLines.push(chunk.toString());
      done();
    },
  });
  const emitted: SourcePayload[] = [];
  const source = new BleSource({
    adapter,
    sourceId: 'ble-entrance',
    intervalMs: 200,
    smoothingWindowMs: 600,
    departedAfterMs: 1500,
    tlmMinIntervalMs: 0,
    policy: { allowUuids: RETAILER_ALLOWLIST, others: 'drop' },
    pseudonymise,
    log: createLogger('debug', sink),
    ...options,
  });
  onTestFinished(async () => {
    await source.stop();
    expectNoRawAddress(emitted, logLines);
  });
  await source.start((message) => emitted.push(message));
  const bleBatches = () => emitted.flatMap((m) => (m.kind === 'ble' ? [m.payload] : []));
  return { source, emitted, logLines, bleBatches, batchesAfter: (count) => bleBatches().slice(count) };
}

/** Every address any test gave dbusmock, in every spelling, must be absent from payloads and logs. */
function expectNoRawAddress(emitted: readonly SourcePayload[], logLines: readonly string[]): void {
  // the source logs at least its start and stop: the capture works
  expect(logLines.join('')).toContain('ble source stopped');
  const haystack = `${JSON.stringify(emitted)}\n${logLines.join('')}`.toLowerCase();
  for (const address of addressesUsed) {
    const hex = address.toLowerCase().split(':');
    for (const spelling of [hex.join(':'), hex.join('-'), hex.join('_'), hex.join('')]) expect(haystack).not.toContain(spelling);
  }
}

/** Each ble payload as the agent would send it (with a mid) must pass the contract's schema. */
function expectContractBatches(batches: ReadonlyArray<{ ts: number; sightings: BleSighting[] }>): void {
  batches.forEach((payload, i) => {
    expect(BleMessageSchema.safeParse({ ...payload, mid: `edge-test-${i}` }).success).toBe(true);
    const ids = payload.sightings.map((s) => s.id);
    expect(new Set(ids).size).toBe(ids.length);
  });
  const stamps = batches.map((b) => b.ts);
  expect([...stamps].sort((a, b) => a - b)).toEqual(stamps);
  expect(new Set(stamps).size).toBe(stamps.length);
}

const wait = { timeout: 15_000, interval: 50 };

describe('BleSource on BlueZ (dbusmock bluez5)', () => {
  it('powers the adapter and starts LE discovery with DuplicateData on its filter', async () => {
    await mock.addAdapter('hci0');
    await mock.setAdapterPowered('hci0', false);
    expect(await mock.getProperty('/org/bluez/hci0', 'org.bluez.Adapter1', 'Powered')).toBe('<false>');

    const h = await startSource('hci0');

    expect(await mock.getProperty('/org/bluez/hci0', 'org.bluez.Adapter1', 'Powered')).toBe('<true>');
    expect(await mock.getProperty('/org/bluez/hci0', 'org.bluez.Adapter1', 'Discovering')).toBe('<true>');
    const filter = await mock.getProperty('/org/bluez/hci0', 'org.bluez.Adapter1', 'DiscoveryFilter');
    expect(filter).toContain("'Transport': <'le'>");
    expect(filter).toContain("'DuplicateData': <true>");
    expect(await mock.calls('/org/bluez/hci0')).toEqual(['SetDiscoveryFilter', 'StartDiscovery']);
    const health = h.source.health();
    expect(health).toMatchObject({ name: 'ble:ble-entrance', state: 'ok', adapter: 'hci0', adapterPowered: true, discovering: true });
  });

  it("emits the vectors' iBeacon, Eddystone-UID and AltBeacon frames as one batch per interval with smoothed rssi and tx at 1 m", async () => {
    await mock.addAdapter('hci1');
    const h = await startSource('hci1');
    for (const name of ['ibeacon-entrance', 'ibeacon-high-major-minor', 'eddystone-uid', 'eddystone-url', 'altbeacon']) await addVectorDevice('hci1', name);

    const expected = [
      { id: ALTBEACON, rssi: -58, tx: -65 },
      { id: EDDYSTONE_UID, rssi: -70, tx: -59 },
      { id: IBEACON_ENTRANCE, rssi: -63, tx: -59 },
      { id: IBEACON_HIGH, rssi: -81, tx: -77 },
    ];
    await vi.waitFor(() => expect(h.bleBatches().at(-1)?.sightings).toEqual(expected), wait);
    // the Eddystone-URL beacon names no beacon: it falls under "others", here dropped
    expect(h.source.health().counters.othersDropped).toBeGreaterThan(0);
    expect(h.source.health().counters.invalidFrames).toEqual({});
    expectContractBatches(h.bleBatches());
    expect(h.emitted.every((m) => m.kind === 'ble' && m.sourceId === 'ble-entrance')).toBe(true);
  });

  it('reflects an RSSI change in the smoothed value', async () => {
    await mock.addAdapter('hci2');
    const h = await startSource('hci2');
    const address = await addVectorDevice('hci2', 'ibeacon-entrance');
    await vi.waitFor(() => expect(h.bleBatches().at(-1)?.sightings).toEqual([{ id: IBEACON_ENTRANCE, rssi: -63, tx: -59 }]), wait);

    await mock.setDeviceProperties('hci2', address, { RSSI: -50 });
    await vi.waitFor(() => expect(h.bleBatches().at(-1)?.sightings).toEqual([{ id: IBEACON_ENTRANCE, rssi: -50, tx: -59 }]), wait);
    expectContractBatches(h.bleBatches());
  });

  it('stops reporting a device BlueZ removed, and one whose readings froze for departedAfterMs, and reports it again when it changes', async () => {
    await mock.addAdapter('hci3');
    const h = await startSource('hci3');
    const lively = await addVectorDevice('hci3', 'ibeacon-entrance');
    const frozen = await addVectorDevice('hci3', 'altbeacon');
    const removed = await addVectorDevice('hci3', 'eddystone-uid');
    // a beacon in range: BlueZ's RSSI moves by a dB now and then
    let alive = true;
    const keepAlive = (async () => {
      for (let i = 0; alive; i += 1) {
        await mock.setDeviceProperties('hci3', lively, { RSSI: i % 2 === 0 ? -63 : -64 });
        await new Promise((r) => setTimeout(r, 150));
      }
    })();
    onTestFinished(async () => {
      alive = false;
      await keepAlive;
    });
    await vi.waitFor(
      () =>
        expect(
          h
            .bleBatches()
            .at(-1)
            ?.sightings.map((s) => s.id),
        ).toEqual([ALTBEACON, EDDYSTONE_UID, IBEACON_ENTRANCE]),
      wait,
    );

    await mock.removeDevice('hci3', removed);
    const afterRemoval = h.bleBatches().length;
    await vi.waitFor(
      () =>
        expect(
          h
            .batchesAfter(afterRemoval)
            .at(-1)
            ?.sightings.map((s) => s.id),
        ).toEqual([IBEACON_ENTRANCE]),
      wait,
    );
    // the frozen AltBeacon is still on the bus, but no longer reported
    expect(h.source.health()).toMatchObject({ devicesOnBus: 2, devicesPresent: 1 });

    await mock.setDeviceProperties('hci3', frozen, { RSSI: -66 });
    await vi.waitFor(
      () =>
        expect(
          h
            .bleBatches()
            .at(-1)
            ?.sightings.map((s) => s.id),
        ).toEqual([ALTBEACON, IBEACON_ENTRANCE]),
      wait,
    );
    expect(h.bleBatches().at(-1)?.sightings[0]).toEqual({ id: ALTBEACON, rssi: -66, tx: -65 });
    expectContractBatches(h.bleBatches());
  });

  it("drops devices that are not the retailer's beacons when the policy drops them", async () => {
    await mock.addAdapter('hci4');
    const h = await startSource('hci4', { policy: { allowUuids: ['28e13894-a2ad-49b3-9d03-95c43b5bba7c'], others: 'drop' } });
    await addVectorDevice('hci4', 'ibeacon-entrance');
    await addVectorDevice('hci4', 'ibeacon-high-major-minor');
    await addDevice('hci4', PHONE.address, PHONE.props);
    const pollsBefore = h.source.health().counters.polls;
    // several full polls with every device on the bus
    await vi.waitFor(() => expect(h.source.health().counters.polls).toBeGreaterThan(pollsBefore + 5), wait);

    expect(h.source.health().counters.othersDropped).toBeGreaterThanOrEqual(10);
    expect(h.bleBatches().length).toBeGreaterThan(0);
    for (const batch of h.bleBatches()) expect(batch.sightings.map((s) => s.id)).toEqual([IBEACON_ENTRANCE]);
    expectContractBatches(h.bleBatches());
  });

  it('sends other devices only as dev:<pseudonym> when the policy pseudonymises them', async () => {
    await mock.addAdapter('hci5');
    const h = await startSource('hci5', { policy: { allowUuids: ['28e13894-a2ad-49b3-9d03-95c43b5bba7c'], others: 'pseudonymise' } });
    await addVectorDevice('hci5', 'ibeacon-entrance');
    const foreignBeacon = await addVectorDevice('hci5', 'ibeacon-high-major-minor', { TxPower: -4 });
    await addDevice('hci5', PHONE.address, PHONE.props);

    const expected = [
      { id: `dev:${pseudonymise(PHONE.address)}`, rssi: -70, tx: 8 - 41 },
      { id: `dev:${pseudonymise(foreignBeacon)}`, rssi: -81, tx: -4 - 41 },
      { id: IBEACON_ENTRANCE, rssi: -63, tx: -59 },
    ].sort((a, b) => a.id.localeCompare(b.id));
    await vi.waitFor(() => expect(h.bleBatches().at(-1)?.sightings).toEqual(expected), wait);
    for (const batch of h.bleBatches()) {
      for (const s of batch.sightings) expect(s.id === IBEACON_ENTRANCE || /^dev:[A-Za-z0-9_-]{22}$/.test(s.id)).toBe(true);
    }
    expect(h.source.health().counters.pseudonymised).toBeGreaterThan(0);
    expectContractBatches(h.bleBatches());
  });

  it('counts invalid frames by error code and emits nothing for them', async () => {
    await mock.addAdapter('hci6');
    const h = await startSource('hci6');
    await addVectorDevice('hci6', 'ibeacon-entrance');
    for (const name of ['ibeacon-truncated', 'ibeacon-wrong-length-byte', 'eddystone-unknown-frame-type']) await addVectorDevice('hci6', name);

    await vi.waitFor(
      () => expect(h.source.health().counters.invalidFrames).toEqual({ 'ibeacon-truncated': 1, 'ibeacon-bad-length': 1, 'eddystone-unknown-frame-type': 1 }),
      wait,
    );
    const pollsBefore = h.source.health().counters.polls;
    await vi.waitFor(() => expect(h.source.health().counters.polls).toBeGreaterThan(pollsBefore + 3), wait);
    // each bad payload is counted once, not once per poll
    expect(h.source.health().counters.invalidFrames).toEqual({ 'ibeacon-truncated': 1, 'ibeacon-bad-length': 1, 'eddystone-unknown-frame-type': 1 });
    for (const batch of h.bleBatches()) expect(batch.sightings.map((s) => s.id)).toEqual([IBEACON_ENTRANCE]);
    expectContractBatches(h.bleBatches());
  });

  it("turns a configured Eddystone beacon's TLM frames into environment telemetry and counts the rest", async () => {
    await mock.addAdapter('hci7');
    const h = await startSource('hci7', { tlmDeviceIds: { [EDDYSTONE_UID]: 'beacon-env-1', 'eddystone:0caaf24ab1a0c33440c0:0000000000c4': 'beacon-env-2' } });
    const uid = vector('eddystone-uid').bluez.ServiceData as Record<string, number[]>;
    const [uuid, uidFrame] = Object.entries(uid)[0] as [string, number[]];
    const withInstance = (instance: number[]) => ({ [uuid]: [...uidFrame.slice(0, 12), ...instance, 0, 0] });
    // the TLM vector's beacon is the UID vector's beacon (same address): it interleaves the two frames
    const beacon = await addVectorDevice('hci7', 'eddystone-uid');
    const unconfigured = await addVectorDevice('hci7', 'eddystone-tlm-negative-temperature', { ServiceData: withInstance([0, 0, 0, 0, 0, 0xc3]) });
    const mains = await addVectorDevice('hci7', 'eddystone-tlm-sensors-not-supported', { ServiceData: withInstance([0, 0, 0, 0, 0, 0xc4]) });
    await vi.waitFor(() => expect(h.bleBatches().at(-1)?.sightings).toHaveLength(3), wait);

    await mock.setDeviceProperties('hci7', beacon, { ServiceData: propsOf('eddystone-tlm').ServiceData });
    await mock.setDeviceProperties('hci7', unconfigured, { ServiceData: propsOf('eddystone-tlm-negative-temperature').ServiceData });
    await mock.setDeviceProperties('hci7', mains, { ServiceData: propsOf('eddystone-tlm-sensors-not-supported').ServiceData });

    await vi.waitFor(() => expect(h.emitted.filter((m) => m.kind === 'device')).toHaveLength(1), wait);
    await vi.waitFor(() => expect(h.source.health().counters.tlmSkipped).toEqual({ unconfigured: 1, 'no-readings': 1 }), wait);
    const telemetry = h.emitted.find((m) => m.kind === 'device');
    expect(telemetry).toMatchObject({
      kind: 'device',
      sourceId: 'beacon-env-1',
      payload: { event: { type: 'environment', battery_mv: 2950, temperature_c: 23.5 } },
    });
    expect(DeviceMessageSchema.safeParse({ ...telemetry?.payload, mid: 'edge-test-tlm' }).success).toBe(true);
    // while BlueZ shows the TLM frame, the beacon is still reported under its UID
    const ids = h
      .bleBatches()
      .at(-1)
      ?.sightings.map((s) => s.id);
    expect(ids).toContain(EDDYSTONE_UID);
    expect(ids).toHaveLength(3);
    expectContractBatches(h.bleBatches());
  });

  it('powers the adapter again and restarts discovery when it was switched off under it', async () => {
    await mock.addAdapter('hci8');
    const h = await startSource('hci8');
    await mock.setAdapterPowered('hci8', false);
    await vi.waitFor(() => expect(h.source.health().counters.adapterRecoveries).toBeGreaterThanOrEqual(1), wait);
    expect(await mock.getProperty('/org/bluez/hci8', 'org.bluez.Adapter1', 'Powered')).toBe('<true>');
    expect(h.source.health()).toMatchObject({ state: 'ok', adapterPowered: true, discovering: true });
  });

  it('goes down while bluetoothd is gone, then reconnects, powers the adapter and reports again', async () => {
    await mock.addAdapter('hci10');
    const h = await startSource('hci10', { reconnectAfterMs: 200, callTimeoutMs: 2000 });
    const address = await addVectorDevice('hci10', 'ibeacon-entrance');
    await vi.waitFor(() => expect(h.bleBatches().at(-1)?.sightings).toEqual([{ id: IBEACON_ENTRANCE, rssi: -63, tx: -59 }]), wait);

    await mock.stopBluez();
    await vi.waitFor(() => expect(h.source.health()).toMatchObject({ state: 'down', adapterPowered: false, discovering: false }), wait);
    const whileDown = h.bleBatches().length;

    await mock.startBluez();
    await mock.addAdapter('hci10');
    await mock.setAdapterPowered('hci10', false);
    await addDevice('hci10', address, propsOf('ibeacon-entrance', { RSSI: -55 }));
    await vi.waitFor(() => expect(h.batchesAfter(whileDown).at(-1)?.sightings).toEqual([{ id: IBEACON_ENTRANCE, rssi: -55, tx: -59 }]), wait);
    expect(h.source.health()).toMatchObject({ state: 'ok', adapterPowered: true, discovering: true });
    expect(h.source.health().counters.sessionsOpened).toBe(2);
    expect(h.source.health().counters.pollFailures).toBeGreaterThan(0);
    expect(await mock.getProperty('/org/bluez/hci10', 'org.bluez.Adapter1', 'Powered')).toBe('<true>');
    expectContractBatches(h.bleBatches());
  });

  it('refuses to start on an adapter BlueZ does not have, saying which', async () => {
    const source = new BleSource({
      adapter: 'hci9',
      sourceId: 'ble-entrance',
      policy: { allowUuids: [], others: 'drop' },
      pseudonymise,
      log: createLogger('silent'),
    });
    const error = await source.start(() => undefined).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(BleError);
    expect(error).toMatchObject({ code: 'SL_ERR_BLE_ADAPTER_NOT_FOUND', context: { adapter: 'hci9' } });
    expect(source.health()).toMatchObject({ state: 'down' });
  });

  it('names the device object path the way BlueZ does (helper sanity)', () => {
    expect(devicePath('hci0', 'c0:00:5e:00:53:b1')).toBe('/org/bluez/hci0/dev_C0_00_5E_00_53_B1');
  });
});
