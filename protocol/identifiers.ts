/**
 * Identifier formats of the contract: beacon ids, pseudonyms, and the MAC-address shapes that must
 * never appear on the wire.
 */
import { z } from 'zod';

/**
 * A pseudonym is a keyed hash made at the source (edge/pseudonymise): 16-64 characters of
 * base64url or hex. It is branded, so a raw address cannot typecheck its way into a message.
 */
export const PSEUDONYM_PATTERN = /^[A-Za-z0-9_-]{16,64}$/;
export const PseudonymSchema = z
  .string()
  .regex(PSEUDONYM_PATTERN, 'expected a pseudonym: 16-64 characters of A-Z a-z 0-9 _ -')
  .refine((s) => !containsMacAddress(s), 'a MAC address is not a pseudonym: hash it at the source')
  .brand<'Pseudonym'>();
export type Pseudonym = z.infer<typeof PseudonymSchema>;

/**
 * MAC-48 written with separators between bytes (aa:bb:cc:dd:ee:ff, aa-bb-…, aa.bb.…, aa bb …), in
 * Cisco's dotted groups (aabb.ccdd.eeff), or as 12 bare hex digits (the whole value).
 */
const MAC_SHAPES = [
  /(?<![0-9a-f])[0-9a-f]{2}([:\-. ])[0-9a-f]{2}(?:\1[0-9a-f]{2}){4}(?![0-9a-f])/i,
  /(?<![0-9a-f.])[0-9a-f]{4}\.[0-9a-f]{4}\.[0-9a-f]{4}(?![0-9a-f.])/i,
];
const BARE_MAC = /^[0-9a-f]{12}$/i;
/** 12 hex digits standing as a word of free text ("seen aabbccddee05 here"). */
const BARE_MAC_IN_TEXT = /(?<![0-9a-z])[0-9a-f]{12}(?![0-9a-z])/i;
const MAC_SHAPES_GLOBAL = MAC_SHAPES.map((re) => new RegExp(re.source, 'gi'));
const BARE_MAC_IN_TEXT_GLOBAL = new RegExp(BARE_MAC_IN_TEXT.source, 'gi');
const MAC_MASK = 'xx:xx:xx:xx:xx:xx';

/**
 * True when the string is, or contains, a MAC address in a separated spelling, or is 12 bare hex
 * digits. For identifiers (pseudonyms, beacon ids): 12 hex digits inside one are part of it (an
 * Eddystone instance id is 12 hex digits).
 */
export function containsMacAddress(value: string): boolean {
  return BARE_MAC.test(value) || MAC_SHAPES.some((re) => re.test(value));
}

/** For free text (labels, sku, details, customer references): also 12 bare hex digits standing as a word. */
export function textContainsMacAddress(value: string): boolean {
  return containsMacAddress(value) || BARE_MAC_IN_TEXT.test(value);
}

/** Replaces every MAC-shaped substring with `xx:xx:xx:xx:xx:xx` (for excerpts in logs and the API). */
export function maskMacAddresses(text: string): string {
  let out = text;
  for (const re of MAC_SHAPES_GLOBAL) out = out.replace(re, MAC_MASK);
  // a bare 12-digit MAC only when it stands alone as a JSON string (an Eddystone instance is 12 hex too)
  return out.replace(/(?<=")[0-9a-f]{12}(?=")/gi, 'xxxxxxxxxxxx');
}

/**
 * For free text shown to people (rejection excerpts, logs): every spelling masked, 12 bare hex digits
 * standing as a word included (the spellings textContainsMacAddress refuses).
 */
export function maskMacAddressesInText(text: string): string {
  return maskMacAddresses(text).replace(BARE_MAC_IN_TEXT_GLOBAL, MAC_MASK);
}

const HEX = (n: number) => `[0-9a-f]{${n}}`;
const UUID = `${HEX(8)}-${HEX(4)}-${HEX(4)}-${HEX(4)}-${HEX(12)}`;
const U16 = '(?:0|[1-9][0-9]{0,4})';

/** `ibeacon:<uuid>:<major>:<minor>` (lowercase uuid with dashes, decimal major and minor). */
export const IBEACON_ID = new RegExp(`^ibeacon:${UUID}:${U16}:${U16}$`);
/** `eddystone:<namespace, 10 bytes hex>:<instance, 6 bytes hex>`. */
export const EDDYSTONE_ID = new RegExp(`^eddystone:${HEX(20)}:${HEX(12)}$`);
/** `altbeacon:<beacon id, 20 bytes hex>`. */
export const ALTBEACON_ID = new RegExp(`^altbeacon:${HEX(40)}$`);
/** `dev:<pseudonym>`: a BLE device that is not a beacon, pseudonymised at the source. */
export const DEVICE_ID = new RegExp(`^dev:${PSEUDONYM_PATTERN.source.slice(1, -1)}$`);

export const BEACON_ID_TYPES = ['ibeacon', 'eddystone', 'altbeacon', 'dev'] as const;
export type BeaconIdType = (typeof BEACON_ID_TYPES)[number];

export const BeaconIdSchema = z
  .string()
  .max(200)
  .superRefine((id, ctx) => {
    if (containsMacAddress(id)) {
      ctx.addIssue({ code: 'custom', message: 'a MAC address is not a beacon id: hash it at the source (dev:<pseudonym>)' });
      return;
    }
    if (!beaconIdType(id)) {
      ctx.addIssue({ code: 'custom', message: 'expected ibeacon:<uuid>:<major>:<minor>, eddystone:<namespace>:<instance>, altbeacon:<id> or dev:<pseudonym>' });
      return;
    }
    if (id.startsWith('ibeacon:')) {
      const [, , major, minor] = id.split(':');
      if (Number(major) > 65535 || Number(minor) > 65535) ctx.addIssue({ code: 'custom', message: 'iBeacon major and minor are 0-65535' });
    }
  });

/** The type of a beacon id, or undefined when it follows none of the formats. */
export function beaconIdType(id: string): BeaconIdType | undefined {
  if (IBEACON_ID.test(id)) return 'ibeacon';
  if (EDDYSTONE_ID.test(id)) return 'eddystone';
  if (ALTBEACON_ID.test(id)) return 'altbeacon';
  if (DEVICE_ID.test(id)) return 'dev';
  return undefined;
}
