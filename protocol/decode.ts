/**
 * Decodes a payload of a given kind. One bad item (sighting, observation) is reported on its own
 * and the rest of the message goes on; anything else that is wrong rejects the whole message.
 */
import { z } from 'zod';

import {
  BleSightingSchema,
  CONTRACT_VERSION,
  EpochMsSchema,
  MAX_ITEMS_PER_MESSAGE,
  MESSAGE_SCHEMAS,
  MessageIdSchema,
  WifiObservationSchema,
  type MessageByKind,
} from './messages.js';
import type { MessageKind } from './topics.js';

export type DecodeRejectionReason = 'json_invalid' | 'schema_invalid' | 'version_unsupported';

export interface ItemRejection {
  /** Index of the item in its array. */
  index: number;
  /** Dotted zod path inside the item plus the message, e.g. `rssi: Too big: expected number to be <=20`. */
  detail: string;
}

export type DecodeResult<K extends MessageKind> =
  { ok: true; message: MessageByKind[K]; itemRejections: ItemRejection[] } | { ok: false; reason: DecodeRejectionReason; detail: string };

/** Formats the first zod issues as `path: message; …`. */
export function formatZodError(error: z.ZodError, basePath = ''): string {
  return error.issues
    .slice(0, 3)
    .map((issue) => {
      const path = [basePath, ...issue.path.map(String)].filter(Boolean).join('.');
      return path ? `${path}: ${issue.message}` : issue.message;
    })
    .join('; ');
}

const LooseEnvelopeSchema = z.object({
  v: z.unknown().optional(),
  ts: EpochMsSchema,
  mid: MessageIdSchema.optional(),
});

/** Envelopes whose items are checked one by one (built once: zod schemas are costly to create). */
const ITEM_SCHEMAS = {
  ble: ['sightings', BleSightingSchema, LooseEnvelopeSchema.extend({ sightings: z.array(z.unknown()).max(MAX_ITEMS_PER_MESSAGE) })],
  wifi: ['observations', WifiObservationSchema, LooseEnvelopeSchema.extend({ observations: z.array(z.unknown()).max(MAX_ITEMS_PER_MESSAGE) })],
} as const;

/** Parses JSON text; answers `json_invalid` with the parser's message on failure. */
export function decodeJson(text: string): { ok: true; value: unknown } | { ok: false; reason: 'json_invalid'; detail: string } {
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch (err) {
    return { ok: false, reason: 'json_invalid', detail: (err as Error).message.slice(0, 200) };
  }
}

/** Validates a parsed JSON value as a message of `kind`. */
export function decodeMessage<K extends MessageKind>(kind: K, value: unknown): DecodeResult<K> {
  if (typeof value === 'object' && value !== null && 'v' in value && (value as { v: unknown }).v !== CONTRACT_VERSION) {
    return { ok: false, reason: 'version_unsupported', detail: `v: this gateway speaks contract version ${CONTRACT_VERSION}` };
  }
  if (kind === 'ble' || kind === 'wifi') {
    const [field, itemSchema, envelopeSchema] = ITEM_SCHEMAS[kind as 'ble' | 'wifi'];
    const envelope = (envelopeSchema as z.ZodType).safeParse(value);
    if (!envelope.success) return { ok: false, reason: 'schema_invalid', detail: formatZodError(envelope.error) };
    const items = (envelope.data as unknown as Record<string, unknown[]>)[field] ?? [];
    const good: unknown[] = [];
    const itemRejections: ItemRejection[] = [];
    items.forEach((item, index) => {
      const parsed = itemSchema.safeParse(item);
      if (parsed.success) good.push(parsed.data);
      else itemRejections.push({ index, detail: formatZodError(parsed.error, `${field}.${index}`) });
    });
    if (items.length > 0 && good.length === 0) {
      return { ok: false, reason: 'schema_invalid', detail: `every item is invalid; first: ${itemRejections[0]?.detail ?? ''}` };
    }
    const message = { ...(envelope.data as object), [field]: good } as unknown as MessageByKind[K];
    return { ok: true, message, itemRejections };
  }
  const parsed = (MESSAGE_SCHEMAS[kind] as z.ZodType).safeParse(value);
  if (!parsed.success) return { ok: false, reason: 'schema_invalid', detail: formatZodError(parsed.error) };
  return { ok: true, message: parsed.data as MessageByKind[K], itemRejections: [] };
}
