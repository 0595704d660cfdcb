/**
 * Proof helpers: search what a part emitted, logged or answered for the raw identifiers it was fed,
 * in every spelling a MAC can take, so a leak in another format is not missed.
 */
import { normaliseMac } from './mac.js';

/** The spellings of a MAC worth searching for: colon, dash, underscore, dotted, bare and unpadded. */
export function macSpellings(mac: string): string[] {
  const hex = normaliseMac(mac);
  if (hex === undefined) return [mac];
  const octets = hex.match(/../g) ?? [];
  return [
    octets.join(':'),
    octets.join('-'),
    octets.join('_'),
    `${hex.slice(0, 4)}.${hex.slice(4, 8)}.${hex.slice(8)}`,
    hex,
    octets.map((o) => o.replace(/^0(?=.)/, '')).join(':'),
  ];
}

/** The needles (case-insensitive) that occur in the text. */
export function findLeaks(text: string, needles: readonly string[]): string[] {
  const haystack = text.toLowerCase();
  return needles.filter((needle) => needle.length > 0 && haystack.includes(needle.toLowerCase()));
}
