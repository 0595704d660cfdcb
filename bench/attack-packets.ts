/**
 * The MQTT 3.1.1 packets the attackers send beside CONNECT (devtools/mqtt-wire.ts): QoS 1 PUBLISH,
 * SUBSCRIBE, a PUBLISH fixed header that declares more than it will ever send, and seeded random
 * bytes. Section numbers are those of the MQTT 3.1.1 specification.
 */
import { encodeRemainingLength } from '../devtools/mqtt-wire.js';

/** Control packet types (§2.2.1) the attackers send or read beside those of mqtt-wire. */
export const AttackPacketType = { PUBLISH: 3, PUBACK: 4, SUBSCRIBE: 8, SUBACK: 9 } as const;

/** Largest Remaining Length (§2.2.3): what a PUBLISH header can declare at most (256 MiB). */
export const MAX_DECLARED_LENGTH = 268_435_455;

function lengthPrefixed(bytes: Buffer): Buffer {
  const length = Buffer.alloc(2);
  length.writeUInt16BE(bytes.length);
  return Buffer.concat([length, bytes]);
}

/**
 * A QoS 1 PUBLISH (§3.3) whose packet identifier sits at `packetIdOffset`, so one template is copied
 * and stamped per message instead of encoded again.
 */
export function publishTemplate(topic: string, payload: string): { packet: Buffer; packetIdOffset: number } {
  const topicField = lengthPrefixed(Buffer.from(topic, 'utf8'));
  const body = Buffer.concat([topicField, Buffer.alloc(2), Buffer.from(payload, 'utf8')]);
  const header = Buffer.concat([Buffer.from([(AttackPacketType.PUBLISH << 4) | 0x02]), encodeRemainingLength(body.length)]);
  return { packet: Buffer.concat([header, body]), packetIdOffset: header.length + topicField.length };
}

/** §3.8: SUBSCRIBE (flags 0b0010) to one filter at `qos`. */
export function encodeSubscribe(packetId: number, filter: string, qos: 0 | 1): Buffer {
  const id = Buffer.alloc(2);
  id.writeUInt16BE(packetId);
  const body = Buffer.concat([id, lengthPrefixed(Buffer.from(filter, 'utf8')), Buffer.from([qos])]);
  return Buffer.concat([Buffer.from([(AttackPacketType.SUBSCRIBE << 4) | 0x02]), encodeRemainingLength(body.length), body]);
}

/** The first bytes of a QoS 0 PUBLISH that declares `declaredLength` bytes: its fixed header and a topic. */
export function publishHeader(declaredLength: number, topic: string): Buffer {
  return Buffer.concat([Buffer.from([AttackPacketType.PUBLISH << 4]), encodeRemainingLength(declaredLength), lengthPrefixed(Buffer.from(topic, 'utf8'))]);
}

/** A seeded PRNG (mulberry32, as test/hostile-transport.int.test.ts): the same bytes on every run. */
export function seededBytes(seed: number, length: number): Buffer {
  let state = seed >>> 0;
  const bytes = Buffer.alloc(length);
  for (let i = 0; i < length; i++) {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    bytes[i] = ((t ^ (t >>> 14)) >>> 0) & 0xff;
  }
  return bytes;
}
