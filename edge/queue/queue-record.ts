/**
 * The bytes of one queued message (pure): JSON `{ a, k, t, p, r? }` = agent id, kind, topic, payload
 * without `mid`, retain flag. The `mid` is not on disk: it is made from the queue's epoch and the
 * record's spool seq when the record is published, so every replay of a record carries the same mid.
 */
import { z } from 'zod';

import { MessageKindSchema, type MessageKind } from '../../protocol/index.js';

export interface QueueRecord {
  /** Agent id at enqueue time: a replay keeps the mid it would have had, even if the config changed since. */
  agentId: string;
  kind: MessageKind;
  topic: string;
  /** The contract payload without `mid`; `ts` is the original event time. */
  payload: Record<string, unknown>;
  retain: boolean;
}

const RecordJsonSchema = z.object({
  a: z.string().min(1),
  k: MessageKindSchema,
  t: z.string().min(1),
  p: z.record(z.string(), z.unknown()),
  r: z.literal(1).optional(),
});

export function encodeQueueRecord(record: QueueRecord): Buffer {
  const json = { a: record.agentId, k: record.kind, t: record.topic, p: record.payload, ...(record.retain ? { r: 1 } : {}) };
  return Buffer.from(JSON.stringify(json), 'utf8');
}

/** Decodes a record; undefined when the bytes are not a queue record (counted as undecodable by the caller). */
export function decodeQueueRecord(bytes: Buffer): QueueRecord | undefined {
  let value: unknown;
  try {
    value = JSON.parse(bytes.toString('utf8'));
  } catch {
    return undefined; // the caller counts and logs it
  }
  const parsed = RecordJsonSchema.safeParse(value);
  if (!parsed.success) return undefined;
  const { a, k, t, p, r } = parsed.data;
  return { agentId: a, kind: k, topic: t, payload: p, retain: r === 1 };
}

/** The message id of a queued record: `<agentId>-<queue epoch>-<seq>`, unique across restarts and queue re-creations. */
export function messageId(agentId: string, epoch: string, seq: number): string {
  return `${agentId}-${epoch}-${seq}`;
}

/** The payload as published: the stored payload with its `mid`. */
export function publishedPayload(record: QueueRecord, mid: string): Buffer {
  return Buffer.from(JSON.stringify({ ...record.payload, mid }), 'utf8');
}
