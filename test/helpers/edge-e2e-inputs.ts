/**
 * The raw inputs of the edge end-to-end proofs (test/edge-e2e-privacy.int.test.ts), the raw identifiers
 * each carries, and what the agent must make of them:
 * - BLE devices for dbusmock's bluez5 template: the retailer's iBeacon, Eddystone-UID (and its TLM
 *   frame) and AltBeacon from edge/ble/vectors/ble-frames.json, a foreign iBeacon and a phone;
 * - the Meraki Scanning API v3 WiFi sample and the probe-request pcap (../shared/samples), moved to a
 *   recent minute: their 2024 times are older than the queue's max age (30 days at most) and the
 *   gateway's window, so unshifted they would be dropped as expired. Only times change: every other
 *   byte, each raw identifier included, is the sample's.
 */
import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import { isLocallyAdministered, macSpellings, type Pseudonymiser } from '../../edge/pseudonymise/index.js';
import type { DeviceProperties } from './dbusmock.js';

export const SAMPLES_DIR = '/work/shared/samples';
export const VECTORS_FILE = join(import.meta.dirname, '..', '..', 'edge', 'ble', 'vectors', 'ble-frames.json');
export const MERAKI_SAMPLE_FILE = join(SAMPLES_DIR, 'meraki-scanning-v3.json');
export const PCAP_SAMPLE_FILE = join(SAMPLES_DIR, 'probe-requests.pcap');
/** 2024-06-07T14:00:00Z: both samples start in this minute (probe-requests.md, meraki-scanning-v3.json). */
export const SAMPLE_MINUTE_S = 1717768800;

// ---------------------------------------------------------------------------------------------
// BLE

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

const VECTORS = new Map((JSON.parse(readFileSync(VECTORS_FILE, 'utf8')) as { vectors: Vector[] }).vectors.map((v) => [v.name, v]));

function vector(name: string): Vector {
  const v = VECTORS.get(name);
  if (!v) throw new Error(`no vector '${name}' in ${VECTORS_FILE}`);
  return v;
}

/** A vector's Device1 properties (JSON keys of ManufacturerData are decimal company ids). */
function propsOf(name: string): DeviceProperties {
  const { bluez } = vector(name);
  return {
    AddressType: bluez.AddressType,
    RSSI: bluez.RSSI,
    ...(bluez.ManufacturerData ? { ManufacturerData: Object.fromEntries(Object.entries(bluez.ManufacturerData).map(([k, v]) => [Number(k), v])) } : {}),
    ...(bluez.ServiceData ? { ServiceData: bluez.ServiceData } : {}),
  };
}

export interface BleDevice {
  label: string;
  address: string;
  props: DeviceProperties;
  /** The contract id of an allowlisted beacon; undefined for devices the policy pseudonymises. */
  beaconId?: string;
  idType: 'ibeacon' | 'eddystone' | 'altbeacon' | 'dev';
  rssi: number;
  /** The sighting's `tx` (dBm at 1 m) when the agent can know it. */
  tx?: number;
}

export const IBEACON_ENTRANCE = 'ibeacon:28e13894-a2ad-49b3-9d03-95c43b5bba7c:4660:22136';
export const EDDYSTONE_UID = 'eddystone:0caaf24ab1a0c33440c0:0a0b0c0d0e0f';
export const ALTBEACON = 'altbeacon:eda1a1c8207c43a5b5ab6fbb298985e1002a0007';
/** The retailer's beacons: the entrance iBeacon's UUID, the Eddystone namespace, the AltBeacon id. */
export const RETAILER_ALLOW_UUIDS = ['28e13894-a2ad-49b3-9d03-95c43b5bba7c', '0caaf24ab1a0c33440c0', 'eda1a1c8207c43a5b5ab6fbb298985e1002a0007'];
/** The Eddystone beacon is also the store's environment sensor: its TLM frames are `env-floor` telemetry. */
export const TLM_DEVICE_IDS = { [EDDYSTONE_UID]: 'env-floor' };
/** The TLM vector's readings (ble-frames.json `eddystone-tlm`). */
export const TLM_READINGS = { battery_mv: 2950, temperature_c: 23.5 };

/** Every device the mock BlueZ shows; the Eddystone beacon first shows its UID frame. */
export const BLE_DEVICES: readonly BleDevice[] = [
  {
    label: 'retailer iBeacon',
    address: vector('ibeacon-entrance').bluez.Address,
    props: propsOf('ibeacon-entrance'),
    beaconId: IBEACON_ENTRANCE,
    idType: 'ibeacon',
    rssi: -63,
    tx: -59,
  },
  // Eddystone announces tx at 0 m (-18 dBm): -59 at 1 m after the spec's 41 dB
  {
    label: 'retailer Eddystone-UID',
    address: vector('eddystone-uid').bluez.Address,
    props: propsOf('eddystone-uid'),
    beaconId: EDDYSTONE_UID,
    idType: 'eddystone',
    rssi: -70,
    tx: -59,
  },
  {
    label: 'retailer AltBeacon',
    address: vector('altbeacon').bluez.Address,
    props: propsOf('altbeacon'),
    beaconId: ALTBEACON,
    idType: 'altbeacon',
    rssi: -58,
    tx: -65,
  },
  {
    label: "another company's iBeacon",
    address: vector('ibeacon-high-major-minor').bluez.Address,
    props: propsOf('ibeacon-high-major-minor'),
    idType: 'dev',
    rssi: -81,
  },
  // Apple "Nearby Info" manufacturer data (type 0x10): a phone, not a beacon; TxPower 8 dBm is 8 - 41 at 1 m
  {
    label: 'phone',
    address: '00:00:5E:00:53:F1',
    props: { AddressType: 'random', RSSI: -70, TxPower: 8, ManufacturerData: { 76: [0x10, 0x05, 0x01, 0x18, 0x44, 0x7a, 0x9c] } },
    idType: 'dev',
    rssi: -70,
    tx: -33,
  },
];

/** The Device1 ServiceData the Eddystone beacon shows when it sends its TLM frame (same address as its UID frame). */
export function tlmServiceData(): DeviceProperties {
  const { ServiceData } = propsOf('eddystone-tlm');
  if (vector('eddystone-tlm').bluez.Address !== vector('eddystone-uid').bluez.Address) throw new Error('the TLM vector is no longer the UID beacon');
  return { ServiceData: ServiceData ?? {} };
}

// ---------------------------------------------------------------------------------------------
// Time shift of the wifi samples

/**
 * Where the samples' minute moves to (epoch s): about three minutes ago, and inside one UTC day so a
 * `daily` pseudonymiser with timezone UTC gives each MAC one pseudonym for the whole capture.
 */
export function recentMinuteS(nowMs: number): number {
  const start = Math.floor(nowMs / 1000) - 180;
  const dayEnd = (Math.floor(start / 86_400) + 1) * 86_400;
  return start + 60 < dayEnd ? start : dayEnd - 61;
}

// ---------------------------------------------------------------------------------------------
// Meraki

interface MerakiObservation {
  clientMac: string;
  ipv4: string | null;
  ipv6: string | null;
  ssid: string | null;
  userId: string | null;
  locations: Array<{ time: string; rssiRecords: Array<{ apMac: string; rssi: number }> }>;
  latestRecord: { time: string; nearestApMac: string; nearestApRssi: number };
}

export interface MerakiInput {
  /** The shifted body as POSTed (and written to `file`). */
  text: string;
  file: string;
  secret: string;
  observations: MerakiObservation[];
}

/** Writes the WiFi sample with every `time` moved by `shiftS` seconds to `dir`; the body is otherwise the sample's. */
export async function writeShiftedMeraki(dir: string, shiftS: number): Promise<MerakiInput> {
  const body = JSON.parse(readFileSync(MERAKI_SAMPLE_FILE, 'utf8')) as { secret: string; data: { observations: MerakiObservation[] } };
  const shift = (iso: string) => new Date(Date.parse(iso) + shiftS * 1000).toISOString().replace(/\.000Z$/, 'Z');
  for (const obs of body.data.observations) {
    obs.latestRecord.time = shift(obs.latestRecord.time);
    for (const location of obs.locations) location.time = shift(location.time);
  }
  const text = JSON.stringify(body, null, 2);
  const file = join(dir, 'meraki-scanning-v3.json');
  await writeFile(file, text);
  return { text, file, secret: body.secret, observations: body.data.observations };
}

export interface ExpectedWifiRow {
  time: number;
  visitor: string;
  rssi: number;
  randomized: boolean;
}

/** What Meraki's observations become: one per client at its latestRecord time, RSSI at the nearest AP. */
export function expectedMerakiRows(input: MerakiInput, pseudonymiser: Pseudonymiser): ExpectedWifiRow[] {
  return input.observations.map((obs) => {
    const time = Date.parse(obs.latestRecord.time);
    return {
      time,
      visitor: pseudonymiser.pseudonymise('wifi-mac', obs.clientMac, time),
      rssi: obs.latestRecord.nearestApRssi,
      randomized: isLocallyAdministered(obs.clientMac),
    };
  });
}

// ---------------------------------------------------------------------------------------------
// Probe requests

/** probe-requests.md's frame table: seconds after the sample minute, source MAC, RSSI, SSID ('' = wildcard). */
export const PROBE_FRAMES: ReadonlyArray<readonly [number, string, number, string]> = [
  [0.1024, '00:00:5e:00:53:11', -48, 'StoreOps'],
  [1.25, '02:00:5e:00:53:a1', -71, ''],
  [1.270512, '02:00:5e:00:53:a1', -73, ''],
  [3.5, '00:00:5e:00:53:22', -62, ''],
  [3.52025, '00:00:5e:00:53:22', -63, 'CoffeeShop'],
  [5.000125, 'da:00:5e:00:53:b1', -57, 'StoreGuest'],
  [5.02, 'da:00:5e:00:53:b1', -58, ''],
  [9.875, '00:00:5e:00:53:33', -86, ''],
  [15.1024, '00:00:5e:00:53:11', -49, 'StoreOps'],
  [21.4, '06:00:5e:00:53:a2', -72, ''],
  [21.421875, '06:00:5e:00:53:a2', -74, ''],
  [24, '00:00:5e:00:53:22', -65, 'CoffeeShop'],
  [25.6, '00:00:5e:00:53:33', -85, ''],
  [30.1024, '00:00:5e:00:53:11', -50, 'StoreOps'],
  [34.75, '5e:00:5e:00:53:b2', -59, 'StoreGuest'],
  [34.77, '5e:00:5e:00:53:b2', -60, ''],
  [41.333333, '00:00:5e:00:53:33', -88, ''],
  [45.1024, '00:00:5e:00:53:11', -52, 'StoreOps'],
  [48, '00:00:5e:00:53:22', -67, ''],
  [52.125, '0a:00:5e:00:53:a3', -75, ''],
];

export interface PcapInput {
  file: string;
  bytes: Buffer;
  /** Transmitter addresses (802.11 address 2) read from the file's frames, in order. */
  transmitters: string[];
}

/**
 * Copies the pcap with every record's ts_sec moved by `shiftS` (pcap-savefile(5): 24-byte global
 * header, then per record ts_sec, ts_usec, incl_len, orig_len and the frame); a whole number of
 * seconds keeps every frame in its second, so the 1 s batches are the table's.
 */
export async function writeShiftedPcap(dir: string, shiftS: number): Promise<PcapInput> {
  const bytes = Buffer.from(readFileSync(PCAP_SAMPLE_FILE));
  if (bytes.readUInt32LE(0) !== 0xa1b2c3d4) throw new Error(`${PCAP_SAMPLE_FILE}: expected a little-endian microsecond pcap`);
  const transmitters: string[] = [];
  for (let offset = 24; offset < bytes.length;) {
    bytes.writeUInt32LE(bytes.readUInt32LE(offset) + shiftS, offset);
    const length = bytes.readUInt32LE(offset + 8);
    const frame = bytes.subarray(offset + 16, offset + 16 + length);
    // radiotap header (its length at bytes 2-3), then the 802.11 header: address 2 at byte 10
    const mac = frame.subarray(frame.readUInt16LE(2) + 10, frame.readUInt16LE(2) + 16);
    transmitters.push([...mac].map((b) => b.toString(16).padStart(2, '0')).join(':'));
    offset += 16 + length;
  }
  const file = join(dir, 'probe-requests.pcap');
  await writeFile(file, bytes);
  return { file, bytes, transmitters };
}

/** What the probe capture must send: per second of capture, each MAC once with its strongest RSSI, stamped at the second's end. */
export function expectedProbeRows(minuteS: number, pseudonymiser: Pseudonymiser): ExpectedWifiRow[] {
  const bySecond = new Map<number, Map<string, ExpectedWifiRow>>();
  for (const [offsetS, mac, rssi] of PROBE_FRAMES) {
    const second = Math.floor(offsetS);
    const frameMs = Math.floor((minuteS + offsetS) * 1000);
    const devices = bySecond.get(second) ?? new Map<string, ExpectedWifiRow>();
    const held = devices.get(mac);
    if (held === undefined || rssi > held.rssi) {
      devices.set(mac, {
        time: (minuteS + second + 1) * 1000,
        visitor: pseudonymiser.pseudonymise('wifi-mac', mac, frameMs),
        rssi,
        randomized: isLocallyAdministered(mac),
      });
    }
    bySecond.set(second, devices);
  }
  return [...bySecond.values()].flatMap((devices) => [...devices.values()]);
}

// ---------------------------------------------------------------------------------------------
// What must never leave

export interface RawIdentifier {
  /** Where the test fed it: `ble address`, `meraki clientMac`, `probe ssid`, … */
  what: string;
  value: string;
  /** Every spelling to search for, case-insensitively. */
  spellings: string[];
}

/** A MAC in all spellings (colon, dash, underscore, dotted, bare, unpadded; BlueZ's object path for BLE). */
export function macIdentifier(what: string, mac: string): RawIdentifier {
  const spellings = macSpellings(mac);
  if (what.startsWith('ble')) spellings.push(`dev_${mac.replace(/:/g, '_').toUpperCase()}`);
  return { what, value: mac, spellings };
}

/** Text as itself and as the hex tshark prints for `wlan.ssid`. */
export function textIdentifier(what: string, value: string): RawIdentifier {
  return { what, value, spellings: [value, Buffer.from(value, 'utf8').toString('hex')] };
}

/** Every raw identifier in the Meraki body: client MACs, the APs' MACs, ipv4, ipv6, userId, ssid. */
export function merakiIdentifiers(input: MerakiInput): RawIdentifier[] {
  const ids = new Map<string, RawIdentifier>();
  const add = (id: RawIdentifier) => ids.set(`${id.what}\n${id.value}`, id);
  for (const obs of input.observations) {
    add(macIdentifier('meraki clientMac', obs.clientMac));
    add(macIdentifier('meraki apMac', obs.latestRecord.nearestApMac));
    for (const location of obs.locations) for (const record of location.rssiRecords) add(macIdentifier('meraki apMac', record.apMac));
    if (obs.ipv4 !== null) add(textIdentifier('meraki ipv4', obs.ipv4));
    if (obs.ipv6 !== null) add(textIdentifier('meraki ipv6', obs.ipv6));
    if (obs.userId !== null) add(textIdentifier('meraki userId', obs.userId));
    if (obs.ssid !== null) add(textIdentifier('meraki ssid', obs.ssid));
  }
  return [...ids.values()];
}

/** Every transmitter MAC and directed SSID of the probe capture. */
export function probeIdentifiers(): RawIdentifier[] {
  const macs = [...new Set(PROBE_FRAMES.map((f) => f[1]))].map((mac) => macIdentifier('probe transmitter', mac));
  const ssids = [...new Set(PROBE_FRAMES.map((f) => f[3]).filter((s) => s !== ''))].map((ssid) => textIdentifier('probe ssid', ssid));
  return [...macs, ...ssids];
}

/** The address of every device on the mock bus. */
export function bleIdentifiers(): RawIdentifier[] {
  return BLE_DEVICES.map((d) => macIdentifier('ble address', d.address));
}
