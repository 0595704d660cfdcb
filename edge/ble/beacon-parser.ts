/**
 * Pure parsers for the beacon payloads BlueZ exposes on org.bluez.Device1: iBeacon and AltBeacon in
 * `ManufacturerData` (company id → bytes after it), Eddystone in `ServiceData` (UUID → bytes after the
 * 16-bit UUID). Strict: a payload that claims a format but breaks its layout is an error with a code
 * (the codes of vectors/ble-frames.json, the shared reference samples), never a guess.
 */

/** Apple's company id; iBeacon lives under it (Proximity Beacon Specification R1, Table 2-1). */
export const COMPANY_APPLE = 0x004c;
/** Eddystone's 16-bit service UUID on the Bluetooth base UUID, as BlueZ's bt_uuid2string() prints it. */
export const EDDYSTONE_SERVICE_UUID = '0000feaa-0000-1000-8000-00805f9b34fb';

const IBEACON_TYPE = 0x02;
const IBEACON_LENGTH = 0x15; // 21 bytes follow: UUID 16, major 2, minor 2, measured power 1
const IBEACON_VALUE_BYTES = 2 + IBEACON_LENGTH;
const ALTBEACON_CODE = [0xbe, 0xac] as const;
const ALTBEACON_VALUE_BYTES = 24; // code 2, id 20, reference RSSI 1, mfg reserved 1
const EDDYSTONE_UID = 0x00;
const EDDYSTONE_URL = 0x10;
const EDDYSTONE_TLM = 0x20;
const EDDYSTONE_EID = 0x30;
const TLM_BYTES = 14;
/** eddystone-url/README.md: scheme prefixes 0x00-0x03 and text expansions 0x00-0x0d. */
const URL_SCHEMES = ['http://www.', 'https://www.', 'http://', 'https://'] as const;
const URL_EXPANSIONS = ['.com/', '.org/', '.edu/', '.net/', '.info/', '.biz/', '.gov/', '.com', '.org', '.edu', '.net', '.info', '.biz', '.gov'] as const;

export interface IbeaconFrame {
  format: 'ibeacon';
  companyId: number;
  /** Proximity UUID, lowercase with dashes. */
  uuid: string;
  major: number;
  minor: number;
  /** RSSI at 1 m, dBm. */
  measuredPower: number;
}

export interface AltbeaconFrame {
  format: 'altbeacon';
  companyId: number;
  /** 20-byte beacon id, lowercase hex. */
  beaconId: string;
  /** RSSI at 1 m, dBm. */
  referenceRssi: number;
  mfgReserved: number;
}

export interface EddystoneUidFrame {
  format: 'eddystone-uid';
  /** Received power at 0 m, dBm. */
  txPower: number;
  namespaceId: string;
  instanceId: string;
}

export interface EddystoneUrlFrame {
  format: 'eddystone-url';
  txPower: number;
  url: string;
}

export interface EddystoneTlmFrame {
  format: 'eddystone-tlm';
  version: number;
  /** 1 mV per bit; 0 means the beacon does not measure it. */
  batteryMillivolts: number;
  /** Signed 8.8 fixed point; -32768 (0x8000, -128 °C) means not supported. */
  temperatureRaw: number;
  temperatureCelsius: number;
  advertisingPduCount: number;
  uptimeDeciseconds: number;
  uptimeSeconds: number;
}

export type BeaconFrame = IbeaconFrame | AltbeaconFrame | EddystoneUidFrame | EddystoneUrlFrame | EddystoneTlmFrame;
/** Frames that name a beacon (the others carry a URL or telemetry only). */
export type IdentityFrame = IbeaconFrame | AltbeaconFrame | EddystoneUidFrame;

export const FRAME_ERROR_CODES = [
  'ibeacon-truncated',
  'ibeacon-bad-length',
  'altbeacon-bad-length',
  'eddystone-truncated',
  'eddystone-uid-bad-length',
  'eddystone-url-bad-length',
  'eddystone-url-bad-scheme',
  'eddystone-url-bad-byte',
  'eddystone-tlm-truncated',
  'eddystone-tlm-unsupported-version',
  'eddystone-tlm-bad-length',
  'eddystone-eid-not-decoded',
  'eddystone-unknown-frame-type',
] as const;
export type FrameErrorCode = (typeof FRAME_ERROR_CODES)[number];

export interface FrameError {
  code: FrameErrorCode;
  detail: string;
}

export type FrameResult = { ok: true; frame: BeaconFrame } | { ok: false; error: FrameError };

/** Advertising data as BlueZ presents it, normalised (see bluez-values.ts). */
export interface Advertisement {
  manufacturerData: ReadonlyMap<number, Uint8Array>;
  serviceData: ReadonlyMap<string, Uint8Array>;
}

const fail = (code: FrameErrorCode, detail: string): FrameResult => ({ ok: false, error: { code, detail } });
const hex = (bytes: Uint8Array): string => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
const hexByte = (value: number): string => `0x${value.toString(16).padStart(2, '0')}`;
const view = (bytes: Uint8Array): DataView => new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);

/** True when this manufacturer data claims to be an iBeacon (Apple company id, beacon type 0x02). */
export function isIbeaconCandidate(companyId: number, data: Uint8Array): boolean {
  return companyId === COMPANY_APPLE && data[0] === IBEACON_TYPE;
}

/** True when this manufacturer data starts with the AltBeacon beacon code 0xBEAC (any company id). */
export function isAltbeaconCandidate(data: Uint8Array): boolean {
  return data[0] === ALTBEACON_CODE[0] && data[1] === ALTBEACON_CODE[1];
}

/** iBeacon from the bytes after the company id; the layout is fixed, so the length byte must be 0x15 and 23 bytes must follow. */
export function parseIbeacon(companyId: number, data: Uint8Array): FrameResult {
  if (data.length < 2) return fail('ibeacon-truncated', `${data.length} bytes after the company id, need ${IBEACON_VALUE_BYTES}`);
  const lengthByte = data[1] as number; // length checked above
  if (lengthByte !== IBEACON_LENGTH) return fail('ibeacon-bad-length', `length byte is ${hexByte(lengthByte)}, iBeacon requires 0x15`);
  if (data.length < IBEACON_VALUE_BYTES) return fail('ibeacon-truncated', `${data.length} bytes after the company id, need ${IBEACON_VALUE_BYTES}`);
  if (data.length > IBEACON_VALUE_BYTES) return fail('ibeacon-bad-length', `${data.length} bytes after the company id, expected ${IBEACON_VALUE_BYTES}`);
  const v = view(data);
  return {
    ok: true,
    frame: {
      format: 'ibeacon',
      companyId,
      uuid: formatUuid(data.subarray(2, 18)),
      major: v.getUint16(18), // big-endian, unsigned
      minor: v.getUint16(20),
      measuredPower: v.getInt8(22),
    },
  };
}

/** AltBeacon (Protocol Specification v1.0) from the bytes after the company id: 0xBEAC, 20-byte id, reference RSSI, reserved. */
export function parseAltbeacon(companyId: number, data: Uint8Array): FrameResult {
  if (data.length !== ALTBEACON_VALUE_BYTES) {
    return fail('altbeacon-bad-length', `${data.length} bytes after the company id, expected ${ALTBEACON_VALUE_BYTES}`);
  }
  const v = view(data);
  return {
    ok: true,
    frame: { format: 'altbeacon', companyId, beaconId: hex(data.subarray(2, 22)), referenceRssi: v.getInt8(22), mfgReserved: v.getUint8(23) },
  };
}

/** An Eddystone frame from the service data of UUID 0xFEAA; multi-byte fields are big-endian (protocol-specification.md). */
export function parseEddystone(data: Uint8Array): FrameResult {
  if (data.length === 0) return fail('eddystone-truncated', 'empty service data');
  const frameType = data[0] as number; // length checked above
  switch (frameType) {
    case EDDYSTONE_UID:
      return parseEddystoneUid(data);
    case EDDYSTONE_URL:
      return parseEddystoneUrl(data);
    case EDDYSTONE_TLM:
      return parseEddystoneTlm(data);
    case EDDYSTONE_EID:
      return fail('eddystone-eid-not-decoded', 'EID frames carry an encrypted id');
    default:
      return fail('eddystone-unknown-frame-type', `frame type ${hexByte(frameType)}`);
  }
}

function parseEddystoneUid(data: Uint8Array): FrameResult {
  // 20 bytes with the two RFU bytes (service data length 0x17); older beacons omit them (0x15)
  if (data.length !== 18 && data.length !== 20) return fail('eddystone-uid-bad-length', `${data.length} bytes`);
  return {
    ok: true,
    frame: { format: 'eddystone-uid', txPower: view(data).getInt8(1), namespaceId: hex(data.subarray(2, 12)), instanceId: hex(data.subarray(12, 18)) },
  };
}

function parseEddystoneUrl(data: Uint8Array): FrameResult {
  if (data.length < 4 || data.length > 20) return fail('eddystone-url-bad-length', `${data.length} bytes`);
  const scheme = data[2] as number; // length checked above
  const prefix = URL_SCHEMES[scheme];
  if (prefix === undefined) return fail('eddystone-url-bad-scheme', `scheme byte ${hexByte(scheme)}`);
  let url = prefix;
  for (const byte of data.subarray(3)) {
    const expansion = URL_EXPANSIONS[byte];
    if (expansion !== undefined) url += expansion;
    else if (byte >= 0x21 && byte <= 0x7e) url += String.fromCharCode(byte);
    else return fail('eddystone-url-bad-byte', `byte ${hexByte(byte)} is reserved`);
  }
  return { ok: true, frame: { format: 'eddystone-url', txPower: view(data).getInt8(1), url } };
}

function parseEddystoneTlm(data: Uint8Array): FrameResult {
  if (data.length < 2) return fail('eddystone-tlm-truncated', `${data.length} bytes`);
  const version = data[1] as number; // length checked above
  // eddystone-tlm/README.md: version 0x00 is plain TLM; 0x01 is encrypted (eTLM), which needs the EID key
  if (version !== 0x00) return fail('eddystone-tlm-unsupported-version', `version ${hexByte(version)}`);
  if (data.length !== TLM_BYTES) return fail('eddystone-tlm-bad-length', `${data.length} bytes, expected ${TLM_BYTES}`);
  const v = view(data);
  const temperatureRaw = v.getInt16(4); // signed 8.8 fixed point (tlm-plain.md)
  const uptimeDeciseconds = v.getUint32(10);
  return {
    ok: true,
    frame: {
      format: 'eddystone-tlm',
      version,
      batteryMillivolts: v.getUint16(2),
      temperatureRaw,
      temperatureCelsius: temperatureRaw / 256,
      advertisingPduCount: v.getUint32(6),
      uptimeDeciseconds,
      uptimeSeconds: uptimeDeciseconds / 10,
    },
  };
}

/**
 * Every beacon payload in a device's advertising data: iBeacon and AltBeacon candidates of
 * `ManufacturerData`, Eddystone in `ServiceData`. Data that claims no beacon format gives no result.
 */
export function parseAdvertisement(ad: Advertisement): FrameResult[] {
  const results: FrameResult[] = [];
  for (const [companyId, data] of ad.manufacturerData) {
    if (isIbeaconCandidate(companyId, data)) results.push(parseIbeacon(companyId, data));
    else if (isAltbeaconCandidate(data)) results.push(parseAltbeacon(companyId, data));
  }
  for (const [uuid, data] of ad.serviceData) {
    if (uuid.toLowerCase() === EDDYSTONE_SERVICE_UUID) results.push(parseEddystone(data));
  }
  return results;
}

/** True for frames that name a beacon (iBeacon, AltBeacon, Eddystone-UID). */
export function isIdentityFrame(frame: BeaconFrame): frame is IdentityFrame {
  return frame.format === 'ibeacon' || frame.format === 'altbeacon' || frame.format === 'eddystone-uid';
}

function formatUuid(bytes: Uint8Array): string {
  const h = hex(bytes);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}
