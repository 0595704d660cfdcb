/**
 * Limits at the MQTT transport, applied before aedes buffers anything:
 * - every packet's declared length (the fixed header's remaining length) is read as its first bytes
 *   arrive; a packet that declares more than the limit is refused and the connection closed, so a
 *   100 MB PUBLISH costs one socket read, not 100 MB of memory;
 * - a malformed length (a fifth length byte) closes the connection;
 * - a packet must arrive whole within `packetTimeoutMs` of its first byte: a client that starts a
 *   packet and stalls (slowloris) is disconnected, whatever its keepalive; time the broker leaves
 *   bytes unread (aedes delivering a publish to a subscriber that does not drain) is not the client's;
 * - connections are capped in total and per remote address.
 *
 * aedes reads a connection with `conn.read()` on 'readable' and feeds every chunk to its parser, so
 * the guard wraps the connection's `read` and looks at each chunk aedes takes: one chunk (at most the
 * stream's high-water mark) is the most a refused packet ever holds.
 */
import type { Duplex } from 'node:stream';

/** A refused connection or packet: the reason is a metric label and is logged for the installer. */
export type TransportRefusal = 'packet_too_large' | 'malformed_length' | 'packet_timeout' | 'too_many_connections' | 'too_many_connections_from_address';

export const TRANSPORT_REFUSALS: readonly TransportRefusal[] = [
  'packet_too_large',
  'malformed_length',
  'packet_timeout',
  'too_many_connections',
  'too_many_connections_from_address',
];

/** Bytes a PUBLISH carries beside its payload at most: topic length (2) + topic (65,535) + packet id (2). */
export const PUBLISH_OVERHEAD_BYTES = 2 + 65_535 + 2;

export interface TransportLimits {
  /** Largest remaining length a packet may declare. */
  maxPacketBytes: number;
  /** Time from a packet's first byte to its last. */
  packetTimeoutMs: number;
  maxConnections: number;
  maxConnectionsPerAddress: number;
}

/**
 * Reads the MQTT fixed headers out of a byte stream chunk by chunk (a header may be split across
 * chunks) and tracks where each packet ends. Pure: `inspect` answers a refusal or null.
 */
export class PacketLengthReader {
  private state: 'type' | 'length' | 'body' = 'type';
  private length = 0;
  private multiplier = 1;
  private lengthBytes = 0;
  private remaining = 0;
  /** When the packet being read began (ms), or null between packets. */
  startedAt: number | null = null;

  constructor(
    private readonly maxPacketBytes: number,
    private readonly now: () => number = Date.now,
  ) {}

  inspect(chunk: Uint8Array): TransportRefusal | null {
    let at = 0;
    while (at < chunk.length) {
      if (this.state === 'type') {
        at += 1;
        this.state = 'length';
        this.length = 0;
        this.multiplier = 1;
        this.lengthBytes = 0;
        this.startedAt ??= this.now();
      } else if (this.state === 'length') {
        const byte = chunk[at] as number;
        at += 1;
        this.length += (byte & 0x7f) * this.multiplier;
        this.multiplier *= 128;
        this.lengthBytes += 1;
        if ((byte & 0x80) !== 0) {
          if (this.lengthBytes === 4) return 'malformed_length';
          continue;
        }
        if (this.length > this.maxPacketBytes) return 'packet_too_large';
        this.remaining = this.length;
        this.state = this.remaining === 0 ? 'type' : 'body';
        if (this.state === 'type') this.startedAt = null;
      } else {
        const take = Math.min(this.remaining, chunk.length - at);
        at += take;
        this.remaining -= take;
        if (this.remaining === 0) {
          this.state = 'type';
          this.startedAt = null;
        }
      }
    }
    return null;
  }

  /** The declared length of the packet being read (for the log line of a refusal). */
  get declaredLength(): number {
    return this.length;
  }
}

interface Guarded {
  conn: Duplex;
  reader: PacketLengthReader;
  address: string;
  /** Publishes of this connection the broker is still answering: aedes reads no further meanwhile. */
  busy: number;
}

/**
 * Guards the broker's connections: `admit` counts a new connection against the caps and wraps its
 * `read`; `sweep` (on a timer) closes connections whose packet stalled.
 */
export class TransportGuard {
  private readonly connections = new Set<Guarded>();
  private readonly byConn = new WeakMap<Duplex, Guarded>();
  private readonly perAddress = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly limits: TransportLimits,
    private readonly onRefused: (reason: TransportRefusal, context: { address: string; declaredBytes?: number }) => void,
    private readonly now: () => number = Date.now,
  ) {}

  get size(): number {
    return this.connections.size;
  }

  /** Starts the stalled-packet sweep (every quarter of the packet timeout, at least every second). */
  start(): void {
    const every = Math.max(50, Math.min(1_000, Math.floor(this.limits.packetTimeoutMs / 4)));
    this.timer = setInterval(() => this.sweep(), every);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** True when the connection may go on to aedes; false when it was refused and destroyed. */
  admit(conn: Duplex, address: string): boolean {
    const fromAddress = this.perAddress.get(address) ?? 0;
    const refusal: TransportRefusal | null =
      this.connections.size >= this.limits.maxConnections
        ? 'too_many_connections'
        : fromAddress >= this.limits.maxConnectionsPerAddress
          ? 'too_many_connections_from_address'
          : null;
    if (refusal !== null) {
      this.onRefused(refusal, { address });
      conn.destroy();
      return false;
    }
    const guarded: Guarded = { conn, reader: new PacketLengthReader(this.limits.maxPacketBytes, this.now), address, busy: 0 };
    this.connections.add(guarded);
    this.byConn.set(conn, guarded);
    this.perAddress.set(address, fromAddress + 1);
    const read = conn.read.bind(conn);
    conn.read = (size?: number) => {
      const chunk: unknown = read(size);
      if (chunk instanceof Uint8Array && !conn.destroyed) {
        const refused = guarded.reader.inspect(chunk);
        if (refused !== null) {
          this.refuse(guarded, refused);
          return null; // aedes never sees the chunk: nothing of the packet is buffered
        }
      }
      return chunk;
    };
    conn.once('close', () => this.forget(guarded));
    return true;
  }

  /**
   * The broker is answering a publish of this connection (the log append, a throttle delay): aedes
   * reads nothing more from it meanwhile, so a packet it has begun cannot stall by the client's fault.
   */
  busy(conn: Duplex): void {
    const guarded = this.byConn.get(conn);
    if (guarded) guarded.busy += 1;
  }

  /** The broker answered one publish; when none is left, a begun packet's time starts again. */
  idle(conn: Duplex): void {
    const guarded = this.byConn.get(conn);
    if (!guarded || guarded.busy === 0) return;
    guarded.busy -= 1;
    if (guarded.busy === 0 && guarded.reader.startedAt !== null) guarded.reader.startedAt = this.now();
  }

  /** Closes every connection whose current packet began more than packetTimeoutMs ago while aedes was reading it. */
  sweep(): number {
    const now = this.now();
    const cutoff = now - this.limits.packetTimeoutMs;
    let closed = 0;
    for (const guarded of this.connections) {
      // bytes the client sent and aedes has not read yet: aedes is behind, not the client. It reads no further
      // until it has delivered the publishes it read (a subscriber that stops draining holds it up to
      // subscriberDrainTimeoutMs), so the rest of a begun packet waits here; once aedes reads on, the client has
      // the full timeout again
      if (guarded.conn.readableLength > 0) {
        if (guarded.reader.startedAt !== null) guarded.reader.startedAt = now;
        continue;
      }
      const startedAt = guarded.reader.startedAt;
      if (guarded.busy === 0 && startedAt !== null && startedAt <= cutoff && !guarded.conn.destroyed) {
        this.refuse(guarded, 'packet_timeout');
        closed += 1;
      }
    }
    return closed;
  }

  private refuse(guarded: Guarded, reason: TransportRefusal): void {
    this.onRefused(reason, { address: guarded.address, ...(reason === 'packet_too_large' ? { declaredBytes: guarded.reader.declaredLength } : {}) });
    guarded.conn.destroy();
    this.forget(guarded);
  }

  private forget(guarded: Guarded): void {
    if (!this.connections.delete(guarded)) return;
    const left = (this.perAddress.get(guarded.address) ?? 1) - 1;
    if (left <= 0) this.perAddress.delete(guarded.address);
    else this.perAddress.set(guarded.address, left);
  }
}

/**
 * Counts a client's subscriptions against a cap. aedes authorises the topics of one SUBSCRIBE in
 * parallel before it stores any of them, so the topics granted in the current tick count as held.
 */
export class SubscriptionCap {
  private readonly granting = new WeakMap<object, Set<string>>();

  constructor(private readonly max: number) {}

  /** True when `topic` may be added to what the client holds (`held`: its stored subscriptions by topic). */
  allow(client: object, held: Record<string, unknown>, topic: string): boolean {
    let granting = this.granting.get(client);
    if (granting === undefined) {
      const fresh = new Set<string>();
      granting = fresh;
      this.granting.set(client, fresh);
      setImmediate(() => this.granting.delete(client));
    }
    if (topic in held || granting.has(topic)) return true;
    let count = Object.keys(held).length;
    for (const pending of granting) if (!(pending in held)) count += 1;
    if (count >= this.max) return false;
    granting.add(topic);
    return true;
  }
}
