/**
 * Meraki v3 observations → contract payloads, pseudonymised on receipt. Pure: data in, payloads out.
 *
 * What is kept of a WiFi observation: the pseudonym of `clientMac`, whether that MAC is locally
 * administered, and the RSSI at the nearest AP. Everything else is dropped here, unread: `ipv4`,
 * `ipv6`, `userId` (an email, user name or phone number), `ssid`, `os`, `manufacturer`, and the
 * `locations[]` trail (x/y/lat/lng positions).
 *
 * Event time: each observation keeps its own `latestRecord.time` (when Meraki last heard the
 * client). One POST covers about a minute, so stamping every observation with the POST's newest time
 * would move first-seen times by up to a minute; instead observations are grouped into one payload
 * per (source, time), and a source gets as many payloads per POST as distinct times. Without a
 * `latestRecord`, the newest `locations[]` entry and its strongest `rssiRecords` entry stand in.
 *
 * Bluetooth bodies follow the `bluetooth` policy: `ignore` (default: counted, nothing emitted; the
 * agent's own BLE source covers beacons), `beacons` (decoded iBeacon tags become `ibeacon:` sightings,
 * other devices are dropped and counted), or `beacons-and-devices` (other devices become
 * `dev:<pseudonym>` sightings of their address).
 */
import { BeaconIdSchema, MAX_ITEMS_PER_MESSAGE, type BleSighting, type WifiObservation } from '../../protocol/index.js';
import { isLocallyAdministered, normaliseMac } from '../pseudonymise/mac.js';
import type { Pseudonymiser } from '../pseudonymise/pseudonymiser.js';
import type { SourcePayload } from '../types.js';
import type { MerakiBluetoothData, MerakiBluetoothObservation, MerakiLatestRecord, MerakiLocation, MerakiWifiData } from './meraki-schema.js';
import { isValidSourceId } from './source-id.js';

export const BLUETOOTH_POLICIES = ['ignore', 'beacons', 'beacons-and-devices'] as const;
export type BluetoothPolicy = (typeof BLUETOOTH_POLICIES)[number];

/** Why an observation produced nothing; counted, exposed in stats and health. */
export const MERAKI_DROP_REASONS = {
  no_record: 'neither latestRecord nor a located rssiRecord: no time or RSSI to report',
  rssi_out_of_range: 'RSSI outside -127..20 dBm',
  source_invalid: 'sensorForAp returned an id that is not a valid source id',
  bluetooth_ignored: 'Bluetooth observation while the bluetooth policy is ignore',
  ble_not_beacon: 'Bluetooth device that is not a decoded iBeacon while the policy is beacons',
} as const;
export type MerakiDropReason = keyof typeof MERAKI_DROP_REASONS;

/** The AP that heard a client; `apSerial` is known for Bluetooth bodies (from `reportingAps`). */
export interface ApRef {
  radio: 'wifi' | 'bluetooth';
  /** Lowercase, colon-separated. */
  apMac: string;
  apSerial?: string;
  networkId: string;
}
export type SensorForAp = (ap: ApRef) => string | undefined;

export interface MappingContext {
  pseudonymiser: Pseudonymiser;
  sensorForAp?: SensorForAp;
  /** Source of wifi payloads when sensorForAp has no answer. */
  defaultSourceId: string;
  bluetooth: BluetoothPolicy;
  /** Source of ble payloads when sensorForAp has no answer; required unless bluetooth is ignore. */
  defaultBleSourceId?: string;
}

export interface MappingResult {
  payloads: SourcePayload[];
  /** Observations in the body. */
  received: number;
  /** Observations or sightings in the payloads. */
  emitted: number;
  dropped: Partial<Record<MerakiDropReason, number>>;
}

interface Heard {
  atMs: number;
  apMac: string;
  rssi: number;
}

interface Grouped<T> {
  sourceId: string;
  atMs: number;
  items: Map<string, T>;
}

/** WiFi observations → wifi payloads, one per (source, latestRecord time). */
export function mapWifiData(data: MerakiWifiData, ctx: MappingContext): MappingResult {
  const result = emptyResult(data.observations.length);
  const groups = new Map<string, Grouped<WifiObservation>>();
  for (const obs of data.observations) {
    const heard = heardOf(obs.latestRecord, obs.locations);
    const reason = heard === undefined ? 'no_record' : rssiProblem(heard.rssi);
    if (reason !== undefined || heard === undefined) {
      count(result, reason ?? 'no_record');
      continue;
    }
    const sourceId = sourceFor(ctx, { radio: 'wifi', apMac: heard.apMac, networkId: data.networkId }, ctx.defaultSourceId);
    if (sourceId === undefined) {
      count(result, 'source_invalid');
      continue;
    }
    const item: WifiObservation = {
      id: ctx.pseudonymiser.pseudonymise('wifi-mac', obs.clientMac, heard.atMs),
      rssi: heard.rssi,
      randomized: isLocallyAdministered(obs.clientMac),
    };
    addStrongest(groups, sourceId, heard.atMs, item);
  }
  for (const group of sortedGroups(groups)) {
    for (const chunk of chunks([...group.items.values()])) {
      result.payloads.push({ kind: 'wifi', sourceId: group.sourceId, payload: { ts: group.atMs, observations: chunk } });
      result.emitted += chunk.length;
    }
  }
  return result;
}

/** Bluetooth observations → ble payloads per the policy, one per (source, latestRecord time). */
export function mapBluetoothData(data: MerakiBluetoothData, ctx: MappingContext): MappingResult {
  const result = emptyResult(data.observations.length);
  if (ctx.bluetooth === 'ignore' || ctx.defaultBleSourceId === undefined) {
    if (data.observations.length > 0) count(result, 'bluetooth_ignored', data.observations.length);
    return result;
  }
  const serialByMac = new Map(data.reportingAps.map((ap) => [normaliseMac(ap.mac), ap.serial]));
  const groups = new Map<string, Grouped<BleSighting>>();
  for (const obs of data.observations) {
    const heard = heardOf(obs.latestRecord, obs.locations);
    const reason = heard === undefined ? 'no_record' : rssiProblem(heard.rssi);
    if (reason !== undefined || heard === undefined) {
      count(result, reason ?? 'no_record');
      continue;
    }
    const sightings = sightingsOf(obs, heard, ctx);
    if (sightings.length === 0) {
      count(result, 'ble_not_beacon');
      continue;
    }
    const apSerial = serialByMac.get(normaliseMac(heard.apMac));
    const ap: ApRef = { radio: 'bluetooth', apMac: heard.apMac, networkId: data.networkId, ...(apSerial === undefined ? {} : { apSerial }) };
    const sourceId = sourceFor(ctx, ap, ctx.defaultBleSourceId);
    if (sourceId === undefined) {
      count(result, 'source_invalid');
      continue;
    }
    for (const sighting of sightings) addStrongest(groups, sourceId, heard.atMs, sighting);
  }
  for (const group of sortedGroups(groups)) {
    for (const chunk of chunks([...group.items.values()])) {
      result.payloads.push({ kind: 'ble', sourceId: group.sourceId, payload: { ts: group.atMs, sightings: chunk } });
      result.emitted += chunk.length;
    }
  }
  return result;
}

function sightingsOf(obs: MerakiBluetoothObservation, heard: Heard, ctx: MappingContext): BleSighting[] {
  const sightings: BleSighting[] = [];
  for (const beacon of obs.bleBeacons) {
    if (beacon.bleType.toLowerCase() !== 'ibeacon' || beacon.uuid === undefined) continue;
    const id = `ibeacon:${beacon.uuid.toLowerCase()}:${String(beacon.major)}:${String(beacon.minor)}`;
    if (!BeaconIdSchema.safeParse(id).success) continue;
    const tx = beacon.txPower === undefined ? undefined : Math.round(beacon.txPower);
    sightings.push({ id, rssi: heard.rssi, ...(tx !== undefined && rssiProblem(tx) === undefined ? { tx } : {}) });
  }
  if (sightings.length === 0 && ctx.bluetooth === 'beacons-and-devices') {
    sightings.push({ id: `dev:${ctx.pseudonymiser.pseudonymise('ble-address', obs.clientMac, heard.atMs)}`, rssi: heard.rssi });
  }
  return sightings;
}

/** When and how strongly the client was last heard: latestRecord, else the newest location. */
function heardOf(latest: MerakiLatestRecord | null | undefined, locations: MerakiLocation[]): Heard | undefined {
  if (latest) return { atMs: Date.parse(latest.time), apMac: colonMac(latest.nearestApMac), rssi: Math.round(latest.nearestApRssi) };
  let newest: Heard | undefined;
  for (const location of locations) {
    const strongest = location.rssiRecords.reduce<(typeof location.rssiRecords)[number] | undefined>(
      (best, r) => (best === undefined || r.rssi > best.rssi ? r : best),
      undefined,
    );
    const atMs = Date.parse(location.time);
    if (strongest !== undefined && (newest === undefined || atMs > newest.atMs))
      newest = { atMs, apMac: colonMac(strongest.apMac), rssi: Math.round(strongest.rssi) };
  }
  return newest;
}

function rssiProblem(rssi: number): MerakiDropReason | undefined {
  return Number.isInteger(rssi) && rssi >= -127 && rssi <= 20 ? undefined : 'rssi_out_of_range';
}

function sourceFor(ctx: MappingContext, ap: ApRef, fallback: string): string | undefined {
  const sourceId = ctx.sensorForAp?.(ap) ?? fallback;
  return isValidSourceId(sourceId) ? sourceId : undefined;
}

function addStrongest<T extends { id: string; rssi: number }>(groups: Map<string, Grouped<T>>, sourceId: string, atMs: number, item: T): void {
  const key = `${sourceId}\n${atMs}`;
  let group = groups.get(key);
  if (group === undefined) {
    group = { sourceId, atMs, items: new Map() };
    groups.set(key, group);
  }
  const held = group.items.get(item.id);
  if (held === undefined || item.rssi > held.rssi) group.items.set(item.id, item);
}

function sortedGroups<T>(groups: Map<string, Grouped<T>>): Grouped<T>[] {
  return [...groups.values()].sort((a, b) => a.atMs - b.atMs || a.sourceId.localeCompare(b.sourceId));
}

function chunks<T>(items: T[]): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += MAX_ITEMS_PER_MESSAGE) out.push(items.slice(i, i + MAX_ITEMS_PER_MESSAGE));
  return out;
}

function colonMac(mac: string): string {
  return (normaliseMac(mac) ?? '').replace(/(..)(?!$)/g, '$1:');
}

function emptyResult(received: number): MappingResult {
  return { payloads: [], received, emitted: 0, dropped: {} };
}

function count(result: MappingResult, reason: MerakiDropReason, n = 1): void {
  result.dropped[reason] = (result.dropped[reason] ?? 0) + n;
}

/**
 * A sensorForAp from a config map whose keys are AP MACs (any spelling), AP serials or network ids;
 * the AP's MAC wins over its serial, its serial over the network.
 */
export function apSensorMap(map: Readonly<Record<string, string>>): SensorForAp {
  const byKey = new Map<string, string>();
  for (const [key, sourceId] of Object.entries(map)) byKey.set(normaliseMac(key) ?? key, sourceId);
  return (ap) => byKey.get(normaliseMac(ap.apMac) ?? ap.apMac) ?? (ap.apSerial === undefined ? undefined : byKey.get(ap.apSerial)) ?? byKey.get(ap.networkId);
}
