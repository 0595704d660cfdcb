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

/**
 * Keys that reach an object's prototype when a consumer copies a payload naively (`target[key] = value`,
 * a deep merge). JSON.parse makes them plain own keys, and no message of the contract has a use for them.
 */
const PROTOTYPE_KEYS = new Set(['__proto__', 'constructor', 'prototype']);
/** Text without these words (or a \u escape that could spell them) cannot hold such a key: the common case skips the walk. */
const MAY_HOLD_PROTOTYPE_KEY = /__proto__|constructor|prototype|\\u/;

/** The first prototype key at any depth and how deep it sits; iterative, so deep nesting cannot overflow the stack. */
function findPrototypeKey(root: unknown): { key: string; depth: number } | undefined {
  const stack: Array<[unknown, number]> = [[root, 0]];
  for (let next = stack.pop(); next !== undefined; next = stack.pop()) {
    const [value, depth] = next;
    if (typeof value !== 'object' || value === null) continue;
    for (const key of Object.keys(value)) {
      if (PROTOTYPE_KEYS.has(key)) return { key, depth };
      stack.push([(value as Record<string, unknown>)[key], depth + 1]);
    }
  }
  return undefined;
}

export type JsonResult = { ok: true; value: unknown } | { ok: false; reason: 'json_invalid' | 'schema_invalid'; detail: string };

/**
 * Parses JSON text; answers `json_invalid` with the parser's message on failure, and `schema_invalid`
 * for a `__proto__`, `constructor` or `prototype` key at any depth (refused, not stripped: a sender of one
 * is broken or hostile, and the rejection makes it visible).
 */
export function decodeJson(text: string): JsonResult {
  let value: unknown;
  try {
    value = JSON.parse(text) as unknown;
  } catch (err) {
    return { ok: false, reason: 'json_invalid', detail: (err as Error).message.slice(0, 200) };
  }
  const found = MAY_HOLD_PROTOTYPE_KEY.test(text) ? findPrototypeKey(value) : undefined;
  if (found !== undefined) {
    return {
      ok: false,
      reason: 'schema_invalid',
      detail: `a '${found.key}' key (at depth ${found.depth}): __proto__, constructor and prototype are refused as keys at any depth`,
    };
  }
  return { ok: true, value };
}

/** Decodes strictly: an invalid byte sequence throws instead of becoming U+FFFD (which `Buffer#toString` does silently). */
const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * Parses a payload's bytes as JSON. JSON text is UTF-8 (RFC 8259 §8.1): a payload that is not valid
 * UTF-8 answers `json_invalid` and says so, rather than having its bad bytes replaced with U+FFFD
 * and the rest accepted.
 */
export function decodePayload(bytes: Uint8Array): JsonResult {
  let text: string;
  try {
    text = UTF8.decode(bytes);
  } catch {
    return { ok: false, reason: 'json_invalid', detail: 'the payload is not valid UTF-8 (JSON text is UTF-8, RFC 8259 §8.1)' };
  }
  return decodeJson(text);
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
