/**
 * What the queue keeps when it fills up (pure). Raw sightings (ble, wifi) arrive every second from
 * every sensor and are worth less one by one than a customer's interaction or a device event, so
 * they are shed first: above `shedRawAbovePct` of the quota. Everything else is kept until the
 * quota is reached; then everything is shed. Nothing already queued is ever dropped to make room.
 */
import type { MessageKind } from '../../protocol/index.js';

/** Why a message was not queued, or dropped at replay. Counted per kind in the agent's status. */
export type ShedReason = 'raw_above_threshold' | 'queue_full' | 'write_failed' | 'invalid_topic' | 'expired' | 'undecodable';

export const RAW_KINDS: ReadonlySet<MessageKind> = new Set(['ble', 'wifi']);

export interface AdmissionInput {
  kind: MessageKind;
  /** Bytes held by the queue: pending records plus appends still being written. */
  heldBytes: number;
  /** Bytes the new record takes on disk (header included). */
  recordBytes: number;
  quotaBytes: number;
  shedRawAbovePct: number;
}

export type Admission = { admit: true } | { admit: false; reason: 'raw_above_threshold' | 'queue_full' };

/** Decides whether a new record may be queued. */
export function decideAdmission(input: AdmissionInput): Admission {
  const after = input.heldBytes + input.recordBytes;
  if (after > input.quotaBytes) return { admit: false, reason: 'queue_full' };
  if (RAW_KINDS.has(input.kind) && after > (input.quotaBytes * input.shedRawAbovePct) / 100) return { admit: false, reason: 'raw_above_threshold' };
  return { admit: true };
}

/** True when an event is older than the queue's maximum age (the gateway would refuse it as too old). */
export function isExpired(eventTimeMs: number | undefined, nowMs: number, maxAgeSeconds: number): boolean {
  return eventTimeMs !== undefined && eventTimeMs < nowMs - maxAgeSeconds * 1000;
}
