/**
 * Cisco Meraki Scanning API v3 POST bodies (WiFi and Bluetooth), as documented and as delivered:
 * ../shared/samples/meraki-scanning.md lists where the two differ. Parsed leniently where the docs
 * and real deliveries disagree (numbers or numeric strings, nullable strings, empty `locations`),
 * strictly on what the receiver uses (clientMac, times, RSSI).
 */
import { z } from 'zod';

import { normaliseMac } from '../pseudonymise/mac.js';

/** Routed on the major version ("A receiver should route messages on the major version number"). */
export const MERAKI_MAJOR_VERSION = 3;

const MacSchema = z.string().refine((s) => normaliseMac(s) !== undefined, 'expected a MAC address');
const TimeSchema = z.iso.datetime({ offset: true });
/** The doc example sends `"-47"` and `"7.97…"`, deliveries send numbers; `"NaN"` is seen in x/y. */
const NumberLikeSchema = z.union([
  z.number(),
  z
    .string()
    .trim()
    .regex(/^-?\d+(\.\d+)?$/, 'expected a number')
    .transform(Number),
]);
/** Fields the receiver drops unread: validated as documented (string or null), never kept. */
const DroppedStringSchema = z.string().nullable().optional();

export const MerakiVersionSchema = z
  .union([z.string(), z.number()])
  .refine((v) => Number.parseInt(String(v), 10) === MERAKI_MAJOR_VERSION, `expected Scanning API version ${MERAKI_MAJOR_VERSION}.x`);

/** WiFi is "WiFi"; the docs say "BLE" for Bluetooth but real v3 deliveries say "Bluetooth": accept both. */
export const MerakiTypeSchema = z.enum(['WiFi', 'Bluetooth', 'BLE']);

/** The envelope, checked before the data so routing errors name the root field. */
export const MerakiEnvelopeSchema = z.object({
  version: MerakiVersionSchema,
  secret: z.string(),
  type: MerakiTypeSchema,
  data: z.unknown(),
});

export const MerakiRssiRecordSchema = z.object({ apMac: MacSchema, rssi: NumberLikeSchema });

const MerakiLocationSchema = z.object({
  time: TimeSchema,
  rssiRecords: z
    .array(MerakiRssiRecordSchema)
    .nullish()
    .transform((r) => r ?? []),
});

/** "IF no recent locations" says the schema; every real delivery has it. */
export const MerakiLatestRecordSchema = z.object({
  time: TimeSchema,
  nearestApMac: MacSchema,
  nearestApRssi: NumberLikeSchema,
});

export const MerakiWifiObservationSchema = z.object({
  clientMac: MacSchema,
  ipv4: DroppedStringSchema,
  ipv6: DroppedStringSchema,
  ssid: DroppedStringSchema,
  os: DroppedStringSchema,
  manufacturer: DroppedStringSchema,
  userId: DroppedStringSchema,
  locations: z
    .array(MerakiLocationSchema)
    .nullish()
    .transform((l) => l ?? []),
  latestRecord: MerakiLatestRecordSchema.nullish(),
});

export const MerakiWifiDataSchema = z.object({
  networkId: z.string().min(1),
  observations: z.array(MerakiWifiObservationSchema),
});

export const MerakiBleBeaconSchema = z.object({
  bleType: z.string(),
  uuid: z.string().optional(),
  major: z.number().int().optional(),
  minor: z.number().int().optional(),
  txPower: NumberLikeSchema.optional(),
});

export const MerakiBluetoothObservationSchema = z.object({
  clientMac: MacSchema,
  bleBeacons: z
    .array(MerakiBleBeaconSchema)
    .nullish()
    .transform((b) => b ?? []),
  locations: z
    .array(MerakiLocationSchema)
    .nullish()
    .transform((l) => l ?? []),
  latestRecord: MerakiLatestRecordSchema.nullish(),
});

export const MerakiReportingApSchema = z.object({ mac: MacSchema, serial: z.string().optional() });

export const MerakiBluetoothDataSchema = z.object({
  networkId: z.string().min(1),
  reportingAps: z
    .array(MerakiReportingApSchema)
    .nullish()
    .transform((a) => a ?? []),
  observations: z.array(MerakiBluetoothObservationSchema),
});

export type MerakiEnvelope = z.infer<typeof MerakiEnvelopeSchema>;
export type MerakiWifiData = z.infer<typeof MerakiWifiDataSchema>;
export type MerakiWifiObservation = z.infer<typeof MerakiWifiObservationSchema>;
export type MerakiBluetoothData = z.infer<typeof MerakiBluetoothDataSchema>;
export type MerakiBluetoothObservation = z.infer<typeof MerakiBluetoothObservationSchema>;
export type MerakiLatestRecord = z.infer<typeof MerakiLatestRecordSchema>;
export type MerakiLocation = z.infer<typeof MerakiLocationSchema>;
