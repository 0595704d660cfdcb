/**
 * Decodes a payload of a given kind. One bad item (sighting, observation) is reported on its own
 * and the rest of the message goes on; anything else that is wrong rejects the whole message. The
 * message returned is always the output of its kind's schema (protocol/kinds.ts).
 */
import { z } from 'zod';

import { MESSAGE_KIND_TABLE, kindSpec, type KindedMessage, type MessageByKind } from './kinds.js';
import { CONTRACT_VERSION, EpochMsSchema, MAX_ITEMS_PER_MESSAGE, MessageIdSchema } from './messages.js';
import { MESSAGE_KINDS, type MessageKind } from './topics.js';

export type DecodeRejectionReason = 'json_invalid' | 'schema_invalid' | 'version_unsupported';

export interface ItemRejection {
  /** Index of the item in its array. */
  index: number;
  /** Dotted zod path inside the item plus the message, e.g. `rssi: Too big: expected number to be <=20`. */
  detail: string;
}

export type DecodeRejection = { ok: false; reason: DecodeRejectionReason; detail: string };

/** A decoded message travels with its kind (a `KindedMessage`): `switch (decoded.kind)` narrows `decoded.message`. */
export type Decoded<K extends MessageKind = MessageKind> = { [P in K]: KindedMessage<P> & { ok: true; itemRejections: ItemRejection[] } }[K];

export type DecodeResult<K extends MessageKind = MessageKind> = Decoded<K> | DecodeRejection;

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

/** How the items of a kind are checked one by one: the item field, its schema, and the envelope with its items left unchecked. */
interface ItemCheck {
  field: string;
  item: z.ZodType;
  envelope: z.ZodType<Record<string, unknown>>;
}

/** The kinds whose messages carry items, from the kind table (built once: zod schemas are costly to create). */
const ITEM_CHECKS = new Map<MessageKind, ItemCheck>(
  MESSAGE_KINDS.flatMap((kind) => {
    const items = MESSAGE_KIND_TABLE[kind].items;
    if (items === null) return [];
    const envelope = LooseEnvelopeSchema.extend({ [items.field]: z.array(z.unknown()).max(MAX_ITEMS_PER_MESSAGE) });
    return [[kind, { field: items.field, item: items.schema, envelope }] as const];
  }),
);

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
  if (typeof value === 'object' && value !== null && 'v' in value && value.v !== CONTRACT_VERSION) {
    return { ok: false, reason: 'version_unsupported', detail: `v: this gateway speaks contract version ${CONTRACT_VERSION}` };
  }
  const schema = kindSpec(kind).schema;
  // the usual case, every item good: one pass of the kind's schema
  const whole = schema.safeParse(value);
  if (whole.success) return decoded(kind, whole.data, []);
  const items = ITEM_CHECKS.get(kind);
  if (items === undefined) return { ok: false, reason: 'schema_invalid', detail: formatZodError(whole.error) };
  // one bad item must not cost the others: the envelope first, then each item on its own
  const envelope = items.envelope.safeParse(value);
  if (!envelope.success) return { ok: false, reason: 'schema_invalid', detail: formatZodError(envelope.error) };
  const checked = checkItems(items, envelope.data[items.field]);
  if (checked.rejection) return checked.rejection;
  // the kept items go through the kind's own schema: it makes the message, as on the usual path
  const kept = schema.safeParse({ ...envelope.data, [items.field]: checked.good });
  if (!kept.success) return { ok: false, reason: 'schema_invalid', detail: formatZodError(kept.error) };
  return decoded(kind, kept.data, checked.itemRejections);
}

// a helper, not a literal in decodeMessage: TypeScript cannot pick the member of DecodeResult<K> by `ok` while K is open
function decoded<K extends MessageKind>(kind: K, message: MessageByKind[K], itemRejections: ItemRejection[]): Decoded<K> {
  return { ok: true, kind, message, itemRejections };
}

/** Checks items one by one: the good ones and a rejection per bad one, or a rejection of the message when none is good. */
function checkItems(
  items: ItemCheck,
  values: unknown,
): { good: unknown[]; itemRejections: ItemRejection[]; rejection?: undefined } | { rejection: DecodeRejection } {
  const all: unknown[] = Array.isArray(values) ? values : [];
  const good: unknown[] = [];
  const itemRejections: ItemRejection[] = [];
  all.forEach((item, index) => {
    const parsed = items.item.safeParse(item);
    if (parsed.success) good.push(parsed.data);
    else itemRejections.push({ index, detail: formatZodError(parsed.error, `${items.field}.${index}`) });
  });
  if (all.length > 0 && good.length === 0) {
    return { rejection: { ok: false, reason: 'schema_invalid', detail: `every item is invalid; first: ${itemRejections[0]?.detail ?? ''}` } };
  }
  return { good, itemRejections };
}
