/**
 * fast-check generators of valid contract messages, one per kind, for the property tests of protocol/
 * (test support: not in the build). Each value is exactly what its kind's schema gives back (no defaults to fill in).
 */
import fc from 'fast-check';

import { containsMacAddress, PSEUDONYM_PATTERN, PseudonymSchema, textContainsMacAddress } from './identifiers.js';
import type { MessageByKind } from './kinds.js';
import type { MessageKind } from './topics.js';

const hex = (n: number) => fc.stringMatching(new RegExp(`^[0-9a-f]{${n}}$`));
const u16 = fc.integer({ min: 0, max: 65_535 });

/** A pseudonym, branded by its schema (the only way to make one). */
export const pseudonym = fc
  .stringMatching(PSEUDONYM_PATTERN)
  .filter((s) => !containsMacAddress(s))
  .map((s) => PseudonymSchema.parse(s));

/** A beacon id of each format (iBeacon, Eddystone, AltBeacon, pseudonymised device) with its type. */
export const beaconId = fc.oneof(
  fc.tuple(fc.uuid(), u16, u16).map(([uuid, major, minor]) => ({ type: 'ibeacon' as const, id: `ibeacon:${uuid}:${major}:${minor}` })),
  fc.tuple(hex(20), hex(12)).map(([ns, instance]) => ({ type: 'eddystone' as const, id: `eddystone:${ns}:${instance}` })),
  hex(40).map((id) => ({ type: 'altbeacon' as const, id: `altbeacon:${id}` })),
  pseudonym.map((p) => ({ type: 'dev' as const, id: `dev:${p}` })),
);

/** Free text of any characters (no lone surrogates: they are not UTF-8) that holds no MAC address. */
export const safeText = (maxLength: number) =>
  fc.string({ unit: 'grapheme', minLength: 1, maxLength }).filter((s) => s.length <= maxLength && !textContainsMacAddress(s));

const ts = fc.integer({ min: 1_600_000_000_000, max: 2_000_000_000_000 });
const rssi = fc.integer({ min: -127, max: 20 });
/** A double that JSON writes and reads back as itself (-0 becomes 0, so it is left out). */
const finite = (min: number, max: number) => fc.double({ min, max, noNaN: true, noDefaultInfinity: true }).map((d) => (Object.is(d, -0) ? 0 : d));
const envelope = { v: fc.constant(1 as const), ts, mid: fc.string({ minLength: 1, maxLength: 128 }) };

const ble = fc.record({
  ...envelope,
  sightings: fc.array(fc.record({ id: beaconId.map((b) => b.id), rssi, tx: rssi }, { requiredKeys: ['id', 'rssi'] }), { maxLength: 8 }),
});
const wifi = fc.record({ ...envelope, observations: fc.array(fc.record({ id: pseudonym, rssi, randomized: fc.boolean() }), { maxLength: 8 }) });
const device = fc.record({
  ...envelope,
  event: fc.oneof(
    fc.record({ type: fc.constant('people_count' as const), in: fc.integer({ min: 0, max: 100_000 }), out: fc.integer({ min: 0, max: 100_000 }) }),
    fc.record({
      type: fc.constant('shelf' as const),
      action: fc.constantFrom('pick_up' as const, 'put_back' as const),
      sku: safeText(64),
      qty: fc.integer({ min: 1, max: 1000 }),
    }),
    fc
      .record(
        {
          type: fc.constant('environment' as const),
          temperature_c: finite(-60, 100),
          humidity_pct: finite(0, 100),
          co2_ppm: finite(0, 100_000),
          battery_mv: fc.integer({ min: 0, max: 100_000 }),
          battery_pct: finite(0, 100),
        },
        { requiredKeys: ['type'] },
      )
      .filter((e) => Object.keys(e).length > 1),
  ),
});
const touchpoint = fc.record(
  {
    ...envelope,
    // a consent action needs customer and purpose: the kind's other actions here (consent ones: decode.test.ts)
    action: fc.stringMatching(/^[a-z][a-z0-9_]{0,31}$/).filter((a) => !a.startsWith('consent_')),
    visitor: pseudonym,
    beacon: beaconId.map((b) => b.id),
    customer: safeText(128),
    value: finite(-1e12, 1e12),
    label: safeText(64),
  },
  { requiredKeys: ['ts', 'action'] },
);
const status = fc.record(
  {
    v: envelope.v,
    mid: envelope.mid,
    ts,
    state: fc.constantFrom('online' as const, 'offline' as const, 'degraded' as const),
    version: safeText(64),
    uptime_s: finite(0, 1e9),
    queue_depth: fc.nat(),
    queue_bytes: fc.nat(),
    clock_synced: fc.boolean(),
    detail: safeText(256),
  },
  { requiredKeys: ['state'] },
);

/** A valid message of each kind, as its schema returns it. */
export const VALID_MESSAGE: { [K in MessageKind]: fc.Arbitrary<MessageByKind[K]> } = {
  ble,
  wifi,
  device,
  touchpoint,
  status,
};
