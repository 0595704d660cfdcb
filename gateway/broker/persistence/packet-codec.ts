/**
 * Packets and subscription options to bytes and back, with node:v8's structured serializer: it keeps
 * Buffer payloads as Buffers, string payloads as strings, `undefined` fields as present-but-undefined
 * and MQTT 5 `properties` (nested objects, Buffers) intact, which JSON does not. Node documents the
 * format as backward compatible, "safe to store to disk" (v8.Serializer), so a newer Node reads it.
 */
import { deserialize, serialize } from 'node:v8';

/** Bytes for `value` (a packet or a subscription record); class instances come back as plain objects. */
export function encodeRecord(value: object): Buffer {
  return serialize(value);
}

/** The value `encodeRecord` was given (own enumerable fields). */
export function decodeRecord<T extends object>(bytes: Buffer): T {
  return deserialize(bytes) as T;
}
