/**
 * The message kinds of contract v1 in one table: for each kind, its payload schema, the source roles
 * that may publish it and, for a kind whose message carries items (sightings, observations), the
 * field that holds them. A new kind in `MESSAGE_KINDS` is an entry here the compiler demands; each
 * consumer (ingest, live state, the log, the sinks) keeps its own per-kind table beside itself.
 */
import type { z } from 'zod';

import {
  BleMessageSchema,
  BleSightingSchema,
  DeviceMessageSchema,
  StatusMessageSchema,
  TouchpointMessageSchema,
  WifiMessageSchema,
  WifiObservationSchema,
} from './messages.js';
import type { MessageKind } from './topics.js';

/** What a configured source is: the store config lists sensors, touchpoints, devices and agents. */
export const SOURCE_ROLES = ['sensor', 'touchpoint', 'device', 'agent'] as const;
export type SourceRole = (typeof SOURCE_ROLES)[number];

/** The shape every row has; `KindSpec` below checks each row against its own kind. */
interface KindRow {
  schema: z.ZodType;
  roles: ReadonlyArray<SourceRole>;
  items: { field: string; schema: z.ZodType } | null;
}

/** One row per message kind. Types come from here: `MessageByKind` is inferred from the schemas. */
export const MESSAGE_KIND_TABLE = {
  ble: { schema: BleMessageSchema, roles: ['sensor'], items: { field: 'sightings', schema: BleSightingSchema } },
  wifi: { schema: WifiMessageSchema, roles: ['sensor'], items: { field: 'observations', schema: WifiObservationSchema } },
  device: { schema: DeviceMessageSchema, roles: ['device'], items: null },
  touchpoint: { schema: TouchpointMessageSchema, roles: ['touchpoint'], items: null },
  // every source reports its health
  status: { schema: StatusMessageSchema, roles: ['agent', 'sensor', 'touchpoint', 'device'], items: null },
} as const satisfies Record<MessageKind, KindRow>;

/** The validated message of each kind. */
export type MessageByKind = { [K in MessageKind]: z.output<(typeof MESSAGE_KIND_TABLE)[K]['schema']> };

/**
 * A message together with its kind: `switch (m.kind)` narrows `m.message`. `KindedMessage` (all
 * kinds) is the union; `KindedMessage<K>` inside a function generic in `K` is the message of kind K.
 */
export type KindedMessage<K extends MessageKind = MessageKind> = { [P in K]: { kind: P; message: MessageByKind[P] } }[K];

/** The field of a kind's message that holds its items (`never` for kinds without items). */
export type ItemField<K extends MessageKind> = {
  [F in keyof MessageByKind[K]]-?: NonNullable<MessageByKind[K][F]> extends ReadonlyArray<unknown> ? F : never;
}[keyof MessageByKind[K]];

/** One item of a kind's message (a sighting, an observation). */
export type ItemOf<K extends MessageKind> = MessageByKind[K][ItemField<K>] extends ReadonlyArray<infer I> ? I : never;

/** A row of the table as one kind sees it: the schema yields that kind's message, the item field names an array of it. */
export interface KindSpec<K extends MessageKind> {
  schema: z.ZodType<MessageByKind[K]>;
  roles: ReadonlyArray<SourceRole>;
  items: [ItemField<K>] extends [never] ? null : { field: ItemField<K>; schema: z.ZodType<ItemOf<K>> };
}

/** The table, checked row by row against `KindSpec` (no cast: a row that does not fit fails to compile). */
const KIND_SPECS: { [K in MessageKind]: KindSpec<K> } = MESSAGE_KIND_TABLE;

/** The row of one kind. */
export function kindSpec<K extends MessageKind>(kind: K): KindSpec<K> {
  return KIND_SPECS[kind];
}
