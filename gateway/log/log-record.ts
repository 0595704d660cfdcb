/**
 * The event log's record: one accepted message as the gateway validated it, with everything a sink
 * needs so that no sink re-validates raw bytes. Versioned (`v`); encoded as JSON inside a spool
 * record, whose header carries the seq, the append time and a CRC (lib/spool/README.md).
 *
 * Personal references never enter the log: a touchpoint's CRM `customer` id is replaced by an
 * opaque `customerToken` that the identity vault resolves (gateway/identity), so erasing a customer
 * never has to rewrite the log.
 */
import type { MessageByKind, MessageKind, TouchpointMessage } from '../../protocol/index.js';
import { StoreloopError } from '../../lib/errors.js';
import type { ResolvedSource } from '../ingest/store-directory.js';
import type { EventSlot } from './event-slots.js';

export const LOG_RECORD_VERSION = 1;

/** A touchpoint message as logged: the customer id replaced by its token. */
export type LoggedTouchpoint = Omit<TouchpointMessage, 'customer'> & { customerToken?: string };

export type LoggedMessage<K extends MessageKind> = K extends 'touchpoint' ? LoggedTouchpoint : MessageByKind[K];

/** One accepted message, as appended. Kind and message travel together, so `kind` narrows `message`. */
export type LogEntry = { [K in MessageKind]: LogEntryOf<K> }[MessageKind];

export interface LogEntryOf<K extends MessageKind> {
  v: typeof LOG_RECORD_VERSION;
  kind: K;
  /** The source as the config resolved it when the message was accepted (store, id, role, type, zone). */
  source: ResolvedSource;
  /** Event time (epoch ms): the message's `ts`, or the receive time of an offline status. */
  eventTime: number;
  /** When the gateway received the message (epoch ms). */
  receivedAt: number;
  mid: string | null;
  /** Without a mid: a hash of the payload bytes, the message's identity for recognising resends. */
  payloadHash?: string;
  qos: 0 | 1;
  /** Unique sub-millisecond slot of this message's items within (store, kind, source, event ms). */
  slot: EventSlot;
  message: LoggedMessage<K>;
}

/** A record read back from the log: the entry plus its position. */
export type LogRecord = LogEntry & {
  seq: number;
  /** When it was appended to the log (epoch ms): the log position that `--since` and retention use. */
  appendedAt: number;
};

export class LogRecordError extends StoreloopError {
  constructor(message: string, context: Record<string, unknown>, cause?: unknown) {
    super('SL_ERR_LOG_RECORD', message, context, { cause });
  }
}

/** Items a message carries (sightings, observations, or 1): each becomes one point downstream. */
export function itemCount(kind: MessageKind, message: unknown): number {
  if (kind === 'ble') return (message as MessageByKind['ble']).sightings.length;
  if (kind === 'wifi') return (message as MessageByKind['wifi']).observations.length;
  return 1;
}

/**
 * The entry as JSON bytes. `messageJson`, when given, is `JSON.stringify(entry.message)` already made
 * (the pipeline reuses it for subscribers), so the message is serialised once.
 */
export function encodeLogEntry(entry: LogEntry, messageJson?: string): Buffer {
  if (messageJson === undefined) return Buffer.from(JSON.stringify(entry));
  const { message: _message, ...envelope } = entry;
  const head = JSON.stringify(envelope);
  return Buffer.from(`${head.slice(0, -1)},"message":${messageJson}}`);
}

/** The encoded bytes of records read or appended in this process (for sinks that decode elsewhere). */
const rawPayloads = new WeakMap<object, Buffer>();

/** Remembers the bytes a record was encoded as (kept only as long as the record object lives). */
export function attachRaw(record: object, payload: Buffer): void {
  rawPayloads.set(record, payload);
}

/** The record's encoded bytes (the JSON of its entry, without seq and append time), when known. */
export function rawPayload(record: object): Buffer | undefined {
  return rawPayloads.get(record);
}

export function decodeLogRecord(seq: number, appendedAt: number, payload: Buffer): LogRecord {
  let value: unknown;
  try {
    value = JSON.parse(payload.toString('utf8'));
  } catch (err) {
    throw new LogRecordError(`log record ${seq} is not JSON`, { seq, bytes: payload.length }, err);
  }
  const version = (value as { v?: unknown } | null)?.v;
  if (version !== LOG_RECORD_VERSION) {
    throw new LogRecordError(`log record ${seq} has version ${String(version)}; this gateway reads version ${LOG_RECORD_VERSION}`, { seq, version });
  }
  // the bytes passed the spool's CRC and were validated before they were appended: not validated again
  const record = value as LogRecord;
  record.seq = seq;
  record.appendedAt = appendedAt;
  attachRaw(record, payload);
  return record;
}
