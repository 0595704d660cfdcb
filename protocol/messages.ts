/**
 * Payload schemas of wire contract v1, one per message kind. Types are inferred from them.
 * Every payload is a JSON object with `ts` (event time, epoch ms), optionally `v` (contract version,
 * 1 when absent) and `mid` (message id, unique per source, used to recognise redeliveries).
 */
import { z } from 'zod';

import { BeaconIdSchema, PseudonymSchema, textContainsMacAddress } from './identifiers.js';

export const CONTRACT_VERSION = 1;
/** Items (sightings, observations) in one message at most. */
export const MAX_ITEMS_PER_MESSAGE = 1000;

/**
 * `ts` values from 1e9 to 1e11 are 1970-01-12 to 1973-03-03 as epoch milliseconds, and 2001 to the
 * year 5138 as epoch seconds: a device that sends one counts in seconds.
 */
const EPOCH_SECONDS_RANGE = [1e9, 1e11] as const;

/** What to tell the sender of a `ts` that looks like epoch seconds; undefined for any other value. */
export function epochSecondsHint(ts: number): string | undefined {
  if (!(ts >= EPOCH_SECONDS_RANGE[0] && ts < EPOCH_SECONDS_RANGE[1])) return undefined;
  return `ts is epoch milliseconds: ${ts} looks like epoch seconds (send ${Math.round(ts * 1000)})`;
}

/** An event time, epoch milliseconds. Fractional epoch seconds (a clock read as 1700000000.25) are refused with the hint. */
export const EpochMsSchema = z
  .number()
  .int({ error: (issue) => (typeof issue.input === 'number' ? epochSecondsHint(issue.input) : undefined) })
  .min(0)
  .max(8.64e15);
export const MessageIdSchema = z.string().min(1).max(128);
const RssiSchema = z.number().int().min(-127).max(20);
const TxPowerSchema = z.number().int().min(-127).max(20);
/** Free text that must not carry a MAC address (labels, sku, customer ids). */
const SafeTextSchema = (max: number) =>
  z
    .string()
    .min(1)
    .max(max)
    .refine((s) => !textContainsMacAddress(s), 'must not contain a MAC address (in any spelling, 12 bare hex digits included)');
const SlugSchema = z.string().regex(/^[a-z][a-z0-9_]{0,31}$/, 'expected a lowercase slug: a-z 0-9 _');

const envelope = {
  v: z.literal(CONTRACT_VERSION).optional(),
  ts: EpochMsSchema,
  mid: MessageIdSchema.optional(),
};

// ---- ble ---------------------------------------------------------------------------------------
export const BleSightingSchema = z.object({
  id: BeaconIdSchema,
  rssi: RssiSchema,
  tx: TxPowerSchema.optional(),
});
export const BleMessageSchema = z.object({ ...envelope, sightings: z.array(BleSightingSchema).max(MAX_ITEMS_PER_MESSAGE) });
export type BleSighting = z.infer<typeof BleSightingSchema>;
export type BleMessage = z.infer<typeof BleMessageSchema>;

// ---- wifi --------------------------------------------------------------------------------------
export const WifiObservationSchema = z.object({
  id: PseudonymSchema,
  rssi: RssiSchema,
  /** Locally administered (randomised) MAC at the source. */
  randomized: z.boolean(),
});
export const WifiMessageSchema = z.object({ ...envelope, observations: z.array(WifiObservationSchema).max(MAX_ITEMS_PER_MESSAGE) });
export type WifiObservation = z.infer<typeof WifiObservationSchema>;
export type WifiMessage = z.infer<typeof WifiMessageSchema>;

// ---- device ------------------------------------------------------------------------------------
/** People counter: people who passed in and out since the counter's previous message. */
export const PeopleCountEventSchema = z.object({
  type: z.literal('people_count'),
  in: z.number().int().min(0).max(100000),
  out: z.number().int().min(0).max(100000),
});
/** Smart shelf: a product picked up or put back. */
export const ShelfEventSchema = z.object({
  type: z.literal('shelf'),
  action: z.enum(['pick_up', 'put_back']),
  sku: SafeTextSchema(64),
  qty: z.number().int().min(1).max(1000).default(1),
});
/** Environment and device telemetry; at least one reading. */
export const EnvironmentEventSchema = z
  .object({
    type: z.literal('environment'),
    temperature_c: z.number().min(-60).max(100).optional(),
    humidity_pct: z.number().min(0).max(100).optional(),
    co2_ppm: z.number().min(0).max(100000).optional(),
    battery_mv: z.number().int().min(0).max(100000).optional(),
    battery_pct: z.number().min(0).max(100).optional(),
  })
  .refine((e) => Object.keys(e).length > 1, 'an environment event needs at least one reading');
export const DeviceEventSchema = z.discriminatedUnion('type', [PeopleCountEventSchema, ShelfEventSchema, EnvironmentEventSchema]);
export const DeviceMessageSchema = z.object({ ...envelope, event: DeviceEventSchema });
export type DeviceEvent = z.infer<typeof DeviceEventSchema>;
export type DeviceMessage = z.infer<typeof DeviceMessageSchema>;

// ---- touchpoint --------------------------------------------------------------------------------
/** What a customer may consent to, each purpose on its own (docs/privacy.md). */
export const CONSENT_PURPOSES = ['analytics', 'personalisation', 'crm'] as const;
export type ConsentPurpose = (typeof CONSENT_PURPOSES)[number];
/** The touchpoint actions that grant or withdraw a consent: they need `customer` and `purpose`. */
export const CONSENT_ACTIONS = ['consent_granted', 'consent_withdrawn'] as const;
export type ConsentAction = (typeof CONSENT_ACTIONS)[number];

export function isConsentAction(action: string): action is ConsentAction {
  return (CONSENT_ACTIONS as readonly string[]).includes(action);
}

/** A customer-chosen interaction with a kiosk, smart mirror, QR code or feedback terminal. */
const TouchpointFieldsSchema = z.object({
  ...envelope,
  /** What the customer did, e.g. `view`, `tap`, `scan`, `try_on`, `feedback`, `checkin`. */
  action: SlugSchema,
  /** Pseudonym of the visitor when the touchpoint knows it (e.g. the retailer's app). */
  visitor: PseudonymSchema.optional(),
  /**
   * The visitor's beacon id as the store's BLE scanners report it (`ble` sightings' `id`), when the
   * touchpoint knows it: the id the retailer's app advertises (`ibeacon:…`), or the edge agent's
   * `dev:<pseudonym>` of the phone. Any beacon id format is allowed, as the scanners report any; a MAC
   * address is refused. It links the interaction to the sightings of the same id (exposure).
   */
  beacon: BeaconIdSchema.optional(),
  /** CRM customer id, only when the customer identified themselves at the touchpoint. */
  customer: SafeTextSchema(128).optional(),
  /** A number that goes with the action, e.g. a feedback score. */
  value: z.number().finite().optional(),
  /** A short label, e.g. the product or page chosen. */
  label: SafeTextSchema(64).optional(),
  /** `consent_granted` / `consent_withdrawn` only: the purpose the customer chose on. */
  purpose: z.enum(CONSENT_PURPOSES).optional(),
  /** `consent_granted` / `consent_withdrawn` only: the version of the privacy notice the customer was shown. */
  notice: SafeTextSchema(64).optional(),
});
export const TouchpointMessageSchema = TouchpointFieldsSchema.superRefine((m, ctx) => {
  if (isConsentAction(m.action)) {
    if (m.customer === undefined) ctx.addIssue({ code: 'custom', path: ['customer'], message: `${m.action} needs the customer it is for` });
    if (m.purpose === undefined) ctx.addIssue({ code: 'custom', path: ['purpose'], message: `${m.action} needs a purpose (${CONSENT_PURPOSES.join(', ')})` });
    return;
  }
  for (const field of ['purpose', 'notice'] as const)
    if (m[field] !== undefined) ctx.addIssue({ code: 'custom', path: [field], message: `${field} goes only with ${CONSENT_ACTIONS.join(' and ')}` });
});
export type TouchpointMessage = z.infer<typeof TouchpointMessageSchema>;

// ---- status ------------------------------------------------------------------------------------
/**
 * Health of an agent or device. Published retained; `state: "offline"` is also the MQTT last will.
 * An offline status is stamped by the gateway with the time it arrives (a will's payload was written
 * when the device connected), so its `ts` is optional.
 */
export const StatusMessageSchema = z.object({
  v: envelope.v,
  mid: envelope.mid,
  ts: EpochMsSchema.optional(),
  state: z.enum(['online', 'offline', 'degraded']),
  version: SafeTextSchema(64).optional(),
  uptime_s: z.number().min(0).optional(),
  queue_depth: z.number().int().min(0).optional(),
  queue_bytes: z.number().int().min(0).optional(),
  clock_synced: z.boolean().optional(),
  detail: SafeTextSchema(256).optional(),
});
export type StatusMessage = z.infer<typeof StatusMessageSchema>;

// ---- config (control) --------------------------------------------------------------------------
/**
 * An edge agent's remote config: a JSON object the agent validates against its own schema (it
 * refuses an invalid one and says so in its status). The gateway only checks that it is an object.
 */
export const AgentConfigMessageSchema = z.record(z.string(), z.unknown());
export type AgentConfigMessage = z.infer<typeof AgentConfigMessageSchema>;
