/**
 * The few MQTT 3.1.1 packets an idle device exchanges, encoded and read by hand so one process can
 * hold thousands of connections on plain sockets: CONNECT and PINGREQ out, CONNACK and PINGRESP in.
 * Section numbers are those of the MQTT 3.1.1 specification.
 */

/** Control packet types (§2.2.1), the high nibble of the first byte. */
export const PacketType = { CONNECT: 1, CONNACK: 2, PINGREQ: 12, PINGRESP: 13, DISCONNECT: 14 } as const;

/** §3.12: PINGREQ has no variable header and no payload. */
export const PINGREQ = Buffer.from([PacketType.PINGREQ << 4, 0]);
/** §3.14: DISCONNECT, likewise empty. */
export const DISCONNECT = Buffer.from([PacketType.DISCONNECT << 4, 0]);

/** Largest value the Remaining Length field can carry (§2.2.3: four bytes of seven bits). */
const MAX_REMAINING_LENGTH = 268_435_455;
/** §3.1.2.3: bit 1 of the Connect Flags. */
const CLEAN_SESSION_FLAG = 0x02;
/** §3.1.2.2: protocol level 4 is MQTT 3.1.1. */
const PROTOCOL_LEVEL_3_1_1 = 4;

/** §2.2.3: the Remaining Length as a variable byte integer. */
export function encodeRemainingLength(length: number): Buffer {
  if (!Number.isInteger(length) || length < 0 || length > MAX_REMAINING_LENGTH)
    throw new RangeError(`remaining length ${length} outside 0–${MAX_REMAINING_LENGTH}`);
  const bytes: number[] = [];
  let rest = length;
  do {
    let byte = rest % 128;
    rest = Math.floor(rest / 128);
    if (rest > 0) byte |= 0x80;
    bytes.push(byte);
  } while (rest > 0);
  return Buffer.from(bytes);
}

/** A UTF-8 string with its two-byte length prefix (§1.5.3). */
function utf8Field(text: string): Buffer {
  const bytes = Buffer.from(text, 'utf8');
  if (bytes.length > 0xffff) throw new RangeError(`string of ${bytes.length} bytes is over 65535`);
  const length = Buffer.alloc(2);
  length.writeUInt16BE(bytes.length);
  return Buffer.concat([length, bytes]);
}

export interface ConnectOptions {
  clientId: string;
  keepaliveSeconds: number;
  /** The identity's user name and secret (§3.1.3.4, §3.1.3.5); none: an anonymous CONNECT. */
  login?: { username: string; password: string };
}

const USERNAME_FLAG = 0x80;
const PASSWORD_FLAG = 0x40;

/** §3.1: CONNECT for MQTT 3.1.1 with a clean session, no will, and a user name and password when given. */
export function encodeConnect(opts: ConnectOptions): Buffer {
  if (!Number.isInteger(opts.keepaliveSeconds) || opts.keepaliveSeconds < 0 || opts.keepaliveSeconds > 0xffff) {
    throw new RangeError(`keepalive ${opts.keepaliveSeconds} s outside 0–65535`);
  }
  const keepalive = Buffer.alloc(2);
  keepalive.writeUInt16BE(opts.keepaliveSeconds);
  const flags = CLEAN_SESSION_FLAG | (opts.login ? USERNAME_FLAG | PASSWORD_FLAG : 0);
  const variableHeader = Buffer.concat([utf8Field('MQTT'), Buffer.from([PROTOCOL_LEVEL_3_1_1, flags]), keepalive]);
  const fields = [utf8Field(opts.clientId)];
  if (opts.login) fields.push(utf8Field(opts.login.username), utf8Field(opts.login.password));
  const payload = Buffer.concat(fields);
  const remaining = variableHeader.length + payload.length;
  return Buffer.concat([Buffer.from([PacketType.CONNECT << 4]), encodeRemainingLength(remaining), variableHeader, payload]);
}

export interface Packet {
  type: number;
  flags: number;
  body: Buffer;
}

/** Splits a byte stream into packets (fixed header §2.2, then Remaining Length bytes of body). */
export class PacketReader {
  private pending: Buffer = Buffer.alloc(0);

  /** Adds received bytes and returns every packet that is now complete. */
  push(chunk: Buffer): Packet[] {
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    const packets: Packet[] = [];
    for (;;) {
      const header = readFixedHeader(this.pending);
      if (header === undefined || this.pending.length < header.headerBytes + header.remaining) break;
      const first = this.pending[0] ?? 0; // readFixedHeader saw at least two bytes
      packets.push({ type: first >> 4, flags: first & 0x0f, body: this.pending.subarray(header.headerBytes, header.headerBytes + header.remaining) });
      this.pending = this.pending.subarray(header.headerBytes + header.remaining);
    }
    return packets;
  }
}

/** The fixed header's size and the Remaining Length, or undefined while bytes are missing. */
function readFixedHeader(buffer: Buffer): { headerBytes: number; remaining: number } | undefined {
  let remaining = 0;
  let multiplier = 1;
  for (let i = 1; i <= 4; i++) {
    const byte = buffer[i];
    if (byte === undefined) return undefined;
    remaining += (byte & 0x7f) * multiplier;
    if ((byte & 0x80) === 0) return { headerBytes: i + 1, remaining };
    multiplier *= 128;
  }
  throw new Error('malformed Remaining Length: more than four bytes (MQTT 3.1.1 §2.2.3)');
}

/** §3.2.2.3: the CONNACK return code (0 = accepted), or undefined for a body that is not a CONNACK's. */
export function connackReturnCode(packet: Packet): number | undefined {
  return packet.type === PacketType.CONNACK && packet.body.length === 2 ? packet.body[1] : undefined;
}
