/**
 * MAC-48 / EUI-48 addresses as sources spell them, reduced to one canonical form before hashing, so
 * the same device gives the same pseudonym whatever tool printed its address.
 */

/** `aa:bb:cc:dd:ee:ff`, `AA-BB-…`, BlueZ's `AA_BB_…`, and Linux `ether_ntoa`'s unpadded `0:0:5e:0:53:41`. */
const SEPARATED = /^([0-9a-f]{1,2})([:_-])([0-9a-f]{1,2})\2([0-9a-f]{1,2})\2([0-9a-f]{1,2})\2([0-9a-f]{1,2})\2([0-9a-f]{1,2})$/i;
/** Cisco's `aabb.ccdd.eeff`. */
const DOTTED = /^([0-9a-f]{4})\.([0-9a-f]{4})\.([0-9a-f]{4})$/i;
const BARE = /^[0-9a-f]{12}$/i;

/** The address as 12 lowercase hex digits, or undefined when the string is not a MAC-48 address. */
export function normaliseMac(raw: string): string | undefined {
  const text = raw.trim();
  if (BARE.test(text)) return text.toLowerCase();
  const dotted = DOTTED.exec(text);
  if (dotted) return `${dotted[1]}${dotted[2]}${dotted[3]}`.toLowerCase();
  const separated = SEPARATED.exec(text);
  if (!separated) return undefined;
  const octets = [separated[1], separated[3], separated[4], separated[5], separated[6], separated[7]];
  return octets
    .map((octet) => (octet ?? '').padStart(2, '0'))
    .join('')
    .toLowerCase();
}

function firstOctet(mac: string): number | undefined {
  const normalised = normaliseMac(mac);
  return normalised === undefined ? undefined : Number.parseInt(normalised.slice(0, 2), 16);
}

/**
 * True when the U/L bit (0x02 of the first octet) is set: a locally administered address, which is
 * what phones use for MAC randomisation (Linux `is_local_ether_addr()`). False for anything that is
 * not a MAC-48 address, so validate first. For BLE, use BlueZ's AddressType instead: a BLE random
 * address is a different notion.
 */
export function isLocallyAdministered(mac: string): boolean {
  const octet = firstOctet(mac);
  return octet !== undefined && (octet & 0x02) !== 0;
}

/** True when the I/G bit (0x01 of the first octet) is set: a group address, never a frame's transmitter. */
export function isMulticastMac(mac: string): boolean {
  const octet = firstOctet(mac);
  return octet !== undefined && (octet & 0x01) !== 0;
}
