/**
 * Personal data out of what the gateway shows (rejection excerpts in /api/v1/rejections, log lines):
 * a rejected payload is shown without its `customer` reference, JSON escapes undone before MAC
 * addresses are masked (`aa\u003abb…` is a MAC too), and every MAC spelling masked, including 12 bare
 * hex digits inside text. An excerpt is for diagnosis, so masking a little too much (an Eddystone
 * instance id) is the right side to err on.
 */
import { maskMacAddressesInText } from '../../protocol/index.js';

/** Keys whose values are personal references and never shown, at any depth. */
const PERSONAL_KEYS = new Set(['customer']);
export const REDACTED = '[personal data removed]';

function withoutPersonalKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutPersonalKeys);
  if (typeof value !== 'object' || value === null) return value;
  const out: Record<string, unknown> = {};
  for (const [key, inner] of Object.entries(value)) out[key] = PERSONAL_KEYS.has(key) ? REDACTED : withoutPersonalKeys(inner);
  return out;
}

const JSON_STRING_ESCAPE = /\\u([0-9a-fA-F]{4})/g;
const PERSONAL_IN_TEXT = /("customer"\s*:\s*)"(?:[^"\\]|\\.)*"?/g;

/**
 * The payload as an installer may see it: JSON re-written without personal keys (which also undoes
 * its escapes), anything else with its `\uXXXX` escapes undone and a `"customer": "…"` pair blanked;
 * then MACs masked.
 */
export function redactPayloadText(text: string): string {
  let plain: string;
  try {
    plain = JSON.stringify(withoutPersonalKeys(JSON.parse(text)));
  } catch {
    plain = text.replace(JSON_STRING_ESCAPE, (_, hex: string) => String.fromCharCode(parseInt(hex, 16))).replace(PERSONAL_IN_TEXT, `$1"${REDACTED}"`);
  }
  return maskMacAddressesInText(plain);
}

/** A client id as logs and the API show it: MAC-shaped parts masked (a device that names itself by its MAC). */
export function maskClientId(clientId: string | null): string | null {
  return clientId === null ? null : maskMacAddressesInText(clientId);
}
