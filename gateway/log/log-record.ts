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
import type { DerivedKind, DerivedSource, ExperienceEvent } from './derived-record.js';

export const LOG_RECORD_VERSION = 1;

/** A touchpoint message as logged: the customer id replaced by its token. */
export type LoggedTouchpoint = Omit<TouchpointMessage, 'customer'> & { customerToken?: string };

/** Who a record is from: a configured source as resolved at acceptance, or the gateway's engine (a derived record). */
export type LogSource = ResolvedSource | DerivedSource;

/** Every kind a log record may have: the contract's message kinds and the gateway's derived kinds (derived-record.ts). */
export type LogKind = MessageKind | DerivedKind;

export type LoggedMessage<K extends LogKind> = K extends 'touchpoint' ? LoggedTouchpoint : K extends MessageKind ? MessageByKind[K] : ExperienceEvent;

/**
 * One accepted message, as appended. Kind and message travel together, so `kind` narrows `message`.
 * `LogEntry` is the union of every kind; `LogEntry<K>` in a function generic in K is the entry of kind K.
 */
export type LogEntry<K extends LogKind = LogKind> = { [P in K]: LogEntryOf<P> }[K];

/** A message as logged, with its kind (the part of a `LogEntry` that depends on the kind). */
export type LoggedKindedMessage<K extends LogKind = LogKind> = { [P in K]: { kind: P; message: LoggedMessage<P> } }[K];

export interface LogEntryOf<K extends LogKind> {
  v: typeof LOG_RECORD_VERSION;
  kind: K;
  /** The source as the config resolved it when the message was accepted (store, id, role, type, zone); for a derived record, the gateway's engine. */
  source: LogSource;
  /** Event time (epoch ms): the message's `ts`, or the receive time of an offline status. */
  eventTime: number;
  /** When the gateway received the message (epoch ms). */
  receivedAt: number;
  mid: string | null;
  /** Without a mid: a hash of the payload bytes, the message's identity for recognising resends. */
  payloadHash?: string;
  qos: 0 | 1;
  /** The MQTT identity that published it (absent: anonymous, or a gateway older than identities). */
  publisher?: string;
  /** Unique sub-millisecond slot of this message's items within (store, kind, source, event ms). */
  slot: EventSlot;
  message: LoggedMessage<K>;
}

/** A record read back from the log: the entry plus its position. */
export type LogRecord<K extends LogKind = LogKind> = { [P in K]: LogRecordOf<P> }[K];

/** A record of kind K read back from the log. */
export type LogRecordOf<K extends LogKind> = LogEntryOf<K> & {
  seq: number;
  /** When it was appended to the log (epoch ms): the log position that `--since` and retention use. */
  appendedAt: number;
};

export class LogRecordError extends StoreloopError {
  constructor(message: string, context: Record<string, unknown>, cause?: unknown) {
    super('SL_ERR_LOG_RECORD', message, context, { cause });
  }
}

/** Items each kind's message carries: each becomes one point downstream. */
const ITEM_COUNTS: { [K in LogKind]: (message: LoggedMessage<K>) => number } = {
  ble: (message) => message.sightings.length,
  wifi: (message) => message.observations.length,
  device: () => 1,
  touchpoint: () => 1,
  status: () => 1,
  experience: () => 1,
};

/** Items a logged message carries (sightings, observations, or 1): each becomes one point downstream. */
export function itemCount<K extends LogKind>(entry: LoggedKindedMessage<K>): number {
  return ITEM_COUNTS[entry.kind](entry.message);
}

/**
 * The entry as JSON bytes, the message always last (a reader can then take the envelope without
 * parsing the message: decodeLogRecord). `messageJson`, when given, is `JSON.stringify(entry.message)`
 * already made (the pipeline reuses it for subscribers), so the message is serialised once.
 */
export function encodeLogEntry(entry: LogEntry, messageJson?: string): Buffer {
  const { message, ...envelope } = entry;
  const head = JSON.stringify(envelope);
  return Buffer.from(`${head.slice(0, -1)},"message":${messageJson ?? JSON.stringify(message)}}`);
}

/** The encoded bytes of a record read or appended in this process (a symbol key: JSON.stringify skips it). */
const RAW = Symbol('storeloop.logRecord.raw');

/** Remembers the bytes a record was encoded as (for sinks that decode elsewhere, e.g. in a worker thread). */
export function attachRaw(record: object, payload: Buffer): void {
  (record as { [RAW]?: Buffer })[RAW] = payload;
}

/** The record's encoded bytes (the JSON of its entry, without seq and append time), when known. */
export function rawPayload(record: object): Buffer | undefined {
  return (record as { [RAW]?: Buffer })[RAW];
}

/**
 * `,"message":` can only be the message key of the envelope: inside a JSON string every `"` is escaped,
 * so a comma directly followed by a quote is never string content, and no envelope field nests a
 * `message` key.
 */
const MESSAGE_KEY = Buffer.from(',"message":');
const ENVELOPE_KEYS = ['v', 'kind', 'source', 'eventTime', 'receivedAt', 'mid', 'qos', 'slot'] as const;

/**
 * A record from its bytes. The envelope (kind, source, times, mid, slot) is parsed at once; the
 * message, the bulk of the bytes, on first access, so a sink that hands the bytes to another thread
 * (the InfluxDB sink's encoder) or only counts records never parses it on the event loop. Records
 * whose message is not last (none are written so) are parsed whole.
 */
export function decodeLogRecord(seq: number, appendedAt: number, payload: Buffer): LogRecord {
  const at = payload.indexOf(MESSAGE_KEY);
  let split = at > 0 && payload[payload.length - 1] === 0x7d;
  let value: unknown;
  try {
    value = JSON.parse(split ? `${payload.toString('utf8', 0, at)}}` : payload.toString('utf8'));
    if (split && !ENVELOPE_KEYS.every((key) => key in (value as object))) {
      split = false; // the message was not last: parse the whole record
      value = JSON.parse(payload.toString('utf8'));
    }
  } catch (err) {
    throw new LogRecordError(`log record ${seq} is not JSON`, { seq, bytes: payload.length }, err);
  }
  const version = (value as { v?: unknown } | null)?.v;
  if (version !== LOG_RECORD_VERSION) {
    throw new LogRecordError(`log record ${seq} has version ${String(version)}; this gateway reads version ${LOG_RECORD_VERSION}`, { seq, version });
  }
  // the bytes passed the spool's CRC and were validated before they were appended: not validated again
  const record = value as LogRecord;
  if (split) defineLazyMessage(record, seq, payload, at + MESSAGE_KEY.length);
  record.seq = seq;
  record.appendedAt = appendedAt;
  attachRaw(record, payload);
  return record;
}

function defineLazyMessage(record: LogRecord, seq: number, payload: Buffer, from: number): void {
  let message: unknown;
  let parsed = false;
  Object.defineProperty(record, 'message', {
    enumerable: true,
    configurable: true,
    get() {
      if (!parsed) {
        try {
          message = JSON.parse(payload.toString('utf8', from, payload.length - 1));
        } catch (err) {
          throw new LogRecordError(`log record ${seq}: its message is not JSON`, { seq, bytes: payload.length }, err);
        }
        parsed = true;
      }
      return message;
    },
    set(value: unknown) {
      message = value;
      parsed = true;
    },
  });
}
