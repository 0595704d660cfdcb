/** Options of the BLE source: defaults in one object, checked once when the source is built. */
import { z } from 'zod';

import type { Logger } from '../../lib/logger.js';
import { EDDYSTONE_ID, IBEACON_ID, ALTBEACON_ID, ID_PATTERN } from '../../protocol/index.js';
import { BleError, maskAddresses } from './ble-errors.js';
import type { BlePolicy, Pseudonymise } from './beacon-policy.js';

export interface BleSourceOptions {
  /** BlueZ adapter, e.g. `hci0`; BlueZ's first adapter when absent. */
  adapter?: string;
  /** The BLE sensor's id in the store config: the `{sourceId}` of its `ble` topic. */
  sourceId: string;
  /** One poll and at most one `ble` payload per interval. */
  intervalMs?: number;
  /** RSSI is the median of the samples polled within this window. */
  smoothingWindowMs?: number;
  /** A device whose RSSI and advertising data did not change for this long is gone. */
  departedAfterMs?: number;
  policy: BlePolicy;
  pseudonymise: Pseudonymise;
  log: Logger;
  /** Clock for event times and device ages (epoch ms). */
  now?: () => number;
  /**
   * Eddystone-TLM telemetry goes out as `device` payloads only for beacons listed here, under the
   * device source id configured for them (beacon id → device sourceId). Other TLM frames are counted.
   */
  tlmDeviceIds?: Readonly<Record<string, string>>;
  /** At most one telemetry payload per beacon per this interval. */
  tlmMinIntervalMs?: number;
  /** Longest wait for one D-Bus call. */
  callTimeoutMs?: number;
  /** Wait before reconnecting to BlueZ after the connection or the adapter failed. */
  reconnectAfterMs?: number;
}

export const BLE_SOURCE_DEFAULTS = {
  intervalMs: 1000,
  smoothingWindowMs: 3000,
  departedAfterMs: 10_000,
  tlmMinIntervalMs: 60_000,
  callTimeoutMs: 5000,
  reconnectAfterMs: 5000,
} as const;

const BeaconIdKeySchema = z
  .string()
  .refine((id) => IBEACON_ID.test(id) || EDDYSTONE_ID.test(id) || ALTBEACON_ID.test(id), 'expected a beacon id (ibeacon:…, eddystone:…, altbeacon:…)');
const EntityIdSchema = z.string().regex(ID_PATTERN, 'expected 1-64 characters of A-Z a-z 0-9 _ . - starting with a letter or digit');
const MsSchema = z.number().int().min(0);

/** Strict, like every section of the agent's config: a misspelt key is refused, not left at its default. */
const SettingsSchema = z.strictObject({
  adapter: z
    .string()
    .regex(/^[A-Za-z0-9_]{1,32}$/, 'expected an adapter name such as hci0')
    .optional(),
  sourceId: EntityIdSchema,
  intervalMs: z.number().int().min(10),
  smoothingWindowMs: MsSchema,
  departedAfterMs: z.number().int().min(1),
  policy: z.strictObject({ allowUuids: z.array(z.string()), others: z.enum(['drop', 'pseudonymise']) }),
  tlmDeviceIds: z.record(BeaconIdKeySchema, EntityIdSchema),
  tlmMinIntervalMs: MsSchema,
  callTimeoutMs: z.number().int().min(1),
  reconnectAfterMs: MsSchema,
});

export type ResolvedBleOptions = z.infer<typeof SettingsSchema> & { pseudonymise: Pseudonymise; log: Logger; now: () => number };

/** Applies the defaults and checks the options; throws `SL_ERR_BLE_CONFIG` naming the key path. */
export function resolveBleOptions(options: BleSourceOptions): ResolvedBleOptions {
  const { pseudonymise, log, now, ...settings } = options;
  const parsed = SettingsSchema.safeParse({
    ...BLE_SOURCE_DEFAULTS,
    ...withoutUndefined(settings),
    tlmDeviceIds: settings.tlmDeviceIds ?? {},
  });
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    // a key path or an unknown key's name may quote what an operator typed, a MAC address included
    const path = maskAddresses(issue?.path.join('.') ?? '');
    const message =
      issue?.code === 'invalid_key' ? 'expected a beacon id (ibeacon:…, eddystone:…, altbeacon:…) as key' : maskAddresses(issue?.message ?? 'invalid');
    throw new BleError('SL_ERR_BLE_CONFIG', `ble source options: ${path || '(root)'}: ${message}`, { context: { path } });
  }
  if (typeof pseudonymise !== 'function') throw new BleError('SL_ERR_BLE_CONFIG', 'ble source options: pseudonymise must be a function');
  return { ...parsed.data, pseudonymise, log, now: now ?? Date.now };
}

function withoutUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
