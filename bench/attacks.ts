/**
 * The attacks of the storeloop-under-attack scenario, each on raw sockets (bench/attack.ts has what they
 * share, bench/attacker.ts runs one per process). Kinds: see bench/attacker.ts and bench/README.md.
 */
import { randomBytes } from 'node:crypto';
import type { Socket } from 'node:net';

import { connackReturnCode, encodeConnect, PacketReader, type Packet } from '../devtools/mqtt-wire.js';
import { Attack, type AttackerLogin, type AttackerSpec } from './attack.js';
import { AttackPacketType, encodeSubscribe, MAX_DECLARED_LENGTH, publishHeader, publishTemplate, seededBytes } from './attack-packets.js';

/** Slowloris: one more byte of the unfinished packet this often (well inside any keepalive). */
const TRICKLE_MS = 2_000;
/** Random-bytes lengths, in turn (as the hostile-transport test). */
const RANDOM_LENGTHS = [1, 7, 64, 300, 1_500, 4_096, 16_384, 65_536];
/** publish-flood: reconnects at most this often after the gateway disconnected it. */
const RECONNECT_DELAY_MS = 50;
const KEEPALIVE_S = 60;

/** Logins the gateway must refuse: an existing identity's name with a wrong secret, and names nobody has. */
class ReconnectStorm extends Attack {
  private attempts = 0;

  protected override launch(): void {
    const socket = this.open();
    const reader = new PacketReader();
    const guess = this.attempts++ % 2 === 0 && this.spec.victimName !== undefined;
    const login = {
      username: guess ? (this.spec.victimName as string) : `unknown-${randomBytes(6).toString('hex')}`,
      password: randomBytes(24).toString('base64url'),
    };
    let answered = false;
    socket.once('connect', () => socket.write(encodeConnect({ clientId: this.nextId('storm'), keepaliveSeconds: KEEPALIVE_S, login })));
    socket.on('data', (chunk: Buffer) => {
      for (const packet of safePackets(reader, chunk)) {
        const code = connackReturnCode(packet);
        if (code === undefined) continue;
        answered = true;
        this.count(`${guess ? 'wrong secret' : 'unknown name'}: CONNACK ${code}`);
        if (code === 0) this.breaches++;
        socket.destroy();
      }
    });
    this.expectClose(socket, 'login', () => {
      if (!answered) this.count('closed without CONNACK');
    });
  }
}

/** A valid device identity publishing forged sightings far over its rate, on raw sockets (cheap for the attacker). */
class PublishFlood extends Attack {
  private socket: Socket | undefined;
  private flowing = false;
  private packetId = 0;
  private readonly template = publishTemplate(this.spec.forged?.topic ?? 'storeloop/x/ble/y', this.spec.forged?.payload ?? '{}');
  private reconnecting = false;

  override start(): void {
    this.connectOnce();
    super.start();
  }

  protected override tick(owed: number, took: (n: number) => void): void {
    took(owed);
    if (owed <= 0) return;
    const socket = this.socket;
    if (!this.flowing || socket === undefined || socket.destroyed) return this.count('not sent: disconnected', owed);
    if (socket.writableNeedDrain) return this.count('not sent: the gateway reads no more (TCP pushed back)', owed);
    const size = this.template.packet.length;
    const batch = Buffer.alloc(size * owed);
    for (let i = 0; i < owed; i++) {
      this.template.packet.copy(batch, i * size);
      this.packetId = (this.packetId % 0xffff) + 1;
      batch.writeUInt16BE(this.packetId, i * size + this.template.packetIdOffset);
    }
    socket.write(batch);
    this.count('sent', owed);
  }

  private connectOnce(): void {
    if (this.stopping || this.spec.login === undefined) return;
    const socket = this.open();
    this.socket = socket;
    const reader = new PacketReader();
    socket.once('connect', () =>
      socket.write(encodeConnect({ clientId: this.nextId('flood'), keepaliveSeconds: KEEPALIVE_S, login: this.spec.login as AttackerLogin })),
    );
    socket.on('data', (chunk: Buffer) => {
      for (const packet of safePackets(reader, chunk)) {
        if (packet.type === AttackPacketType.PUBACK) this.count('PUBACK');
        else if (connackReturnCode(packet) === 0) this.flowing = true;
        else if (connackReturnCode(packet) !== undefined) this.count(`CONNACK ${connackReturnCode(packet)}`);
      }
    });
    socket.once('close', () => {
      this.flowing = false;
      if (this.stopping || this.reconnecting) return;
      this.count('disconnected by the gateway');
      this.reconnecting = true;
      setTimeout(() => {
        this.reconnecting = false;
        this.connectOnce();
      }, RECONNECT_DELAY_MS);
    });
  }
}

/** PUBLISH headers declaring 256 MiB (after a valid CONNECT or as the first packet), and packets left half-sent. */
class OversizedAndSlowloris extends Attack {
  private readonly trickles = new Set<NodeJS.Timeout>();
  private slowlorisOpen = 0;
  private attempts = 0;

  protected override canOpen(): boolean {
    return this.sockets.size - this.slowlorisOpen < this.spec.maxConnections;
  }

  protected override tick(owed: number, took: (n: number) => void): void {
    super.tick(owed, took);
    while (!this.stopping && this.slowlorisOpen < this.spec.slowlorisConnections) this.slowloris();
  }

  protected override launch(): void {
    const socket = this.open();
    const afterConnect = this.attempts++ % 2 === 0 && this.spec.login !== undefined;
    socket.once('connect', () => {
      if (afterConnect) socket.write(encodeConnect({ clientId: this.nextId('huge'), keepaliveSeconds: 0, login: this.spec.login as AttackerLogin }));
      socket.write(Buffer.concat([publishHeader(MAX_DECLARED_LENGTH, 'storeloop/demo-store/ble/x'), seededBytes(this.connections, 1_024)]));
    });
    socket.resume(); // read (and drop) a CONNACK, so the close is seen
    this.expectClose(socket, 'declares 256 MiB', (ms) =>
      this.count(`declares 256 MiB: closed by the gateway ${ms < 1_000 ? 'at once (< 1 s)' : 'after ≥ 1 s'}`),
    );
  }

  /** One connection that starts a packet and never finishes it: a byte every TRICKLE_MS. */
  private slowloris(): void {
    const socket = this.open();
    this.slowlorisOpen++;
    const variant = this.slowlorisOpen % 2 === 0 && this.spec.login !== undefined ? 'unfinished PUBLISH' : 'unfinished CONNECT';
    let rest: Buffer;
    socket.once('connect', () => {
      let first: Buffer;
      if (variant === 'unfinished PUBLISH') {
        socket.write(encodeConnect({ clientId: this.nextId('slow'), keepaliveSeconds: 0, login: this.spec.login as AttackerLogin }));
        const whole = Buffer.concat([publishHeader(100_000, 'storeloop/demo-store/ble/x'), seededBytes(this.connections, 100_000)]);
        [first, rest] = [whole.subarray(0, 16), whole.subarray(16)];
      } else {
        const whole = encodeConnect({ clientId: this.nextId('slow'), keepaliveSeconds: 0 });
        [first, rest] = [whole.subarray(0, 6), whole.subarray(6)];
      }
      socket.write(first);
      const timer = setInterval(() => {
        if (rest.length > 1) socket.write(rest.subarray(0, 1));
        rest = rest.subarray(1);
      }, TRICKLE_MS);
      this.trickles.add(timer);
      socket.once('close', () => {
        clearInterval(timer);
        this.trickles.delete(timer);
      });
    });
    socket.resume();
    socket.once('close', () => this.slowlorisOpen--);
    this.expectClose(socket, `slowloris (${variant})`, (ms) => this.count(`slowloris (${variant}): closed by the gateway after ${Math.round(ms / 1000)} s`));
  }

  protected override onStop(): void {
    for (const timer of this.trickles) clearInterval(timer);
  }
}

/** Seeded random bytes as the first bytes of a connection. */
class RandomBytes extends Attack {
  protected override launch(): void {
    const n = this.connections + this.sockets.size;
    const socket = this.open();
    socket.once('connect', () => socket.write(seededBytes(this.spec.seed + n, RANDOM_LENGTHS[n % RANDOM_LENGTHS.length] as number)));
    socket.resume();
    this.expectClose(socket, 'random bytes', (ms) => this.count(`random bytes: closed by the gateway ${ms < 1_000 ? 'at once (< 1 s)' : 'after ≥ 1 s'}`));
  }
}

/** An operator subscribed to everything at QoS 1 that stops reading once subscribed; back when closed. */
class SlowSubscriber extends Attack {
  override start(): void {
    this.subscribe();
  }

  private subscribe(): void {
    if (this.stopping || this.spec.login === undefined) return;
    const socket = this.open();
    const reader = new PacketReader();
    socket.once('connect', () =>
      socket.write(encodeConnect({ clientId: this.nextId('slow-sub'), keepaliveSeconds: 0, login: this.spec.login as AttackerLogin })),
    );
    socket.on('data', (chunk: Buffer) => {
      for (const packet of safePackets(reader, chunk)) {
        const code = connackReturnCode(packet);
        if (code === 0) socket.write(encodeSubscribe(1, this.spec.filter ?? '#', 1));
        else if (code !== undefined) this.count(`CONNACK ${code}`);
        else if (packet.type === AttackPacketType.SUBACK) {
          this.count(`subscribed (SUBACK ${packet.body[2] ?? '?'})`);
          socket.pause(); // from here on it never reads: what the gateway sends it piles up
          socket.removeAllListeners('data');
          return;
        }
      }
    });
    socket.once('close', () => {
      if (this.stopping) return;
      this.count('closed by the gateway');
      setTimeout(() => this.subscribe(), 1_000);
    });
  }
}

/** Connections that never send CONNECT, opened until past the per-address cap and reopened as the gateway closes them. */
class ConnectionFlood extends Attack {
  private readonly perAddress = new Map<string, number>();

  protected override canOpen(): boolean {
    return this.spec.localAddresses.some((a) => (this.perAddress.get(a) ?? 0) < this.spec.maxConnections);
  }

  protected override launch(): void {
    const address = this.spec.localAddresses.reduce((best, a) => ((this.perAddress.get(a) ?? 0) < (this.perAddress.get(best) ?? 0) ? a : best));
    this.perAddress.set(address, (this.perAddress.get(address) ?? 0) + 1);
    const socket = this.open(address);
    const openedMs = performance.now();
    socket.resume();
    socket.once('close', () => {
      this.perAddress.set(address, (this.perAddress.get(address) ?? 1) - 1);
      if (this.stopping) return;
      const ms = performance.now() - openedMs;
      this.count(ms < 1_000 ? 'refused (closed < 1 s)' : `closed by the gateway after ${Math.round(ms / 1000)} s (no CONNECT)`);
    });
  }
}

function safePackets(reader: PacketReader, chunk: Buffer): Packet[] {
  try {
    return reader.push(chunk);
  } catch {
    return []; // the gateway sends well-formed packets; a torn read is not the attacker's concern
  }
}

export function createAttack(spec: AttackerSpec): Attack {
  switch (spec.attack) {
    case 'reconnect-storm':
      return new ReconnectStorm(spec);
    case 'publish-flood':
      return new PublishFlood(spec);
    case 'oversized-and-slowloris':
      return new OversizedAndSlowloris(spec);
    case 'random-bytes':
      return new RandomBytes(spec);
    case 'slow-subscriber':
      return new SlowSubscriber(spec);
    case 'connection-flood':
      return new ConnectionFlood(spec);
  }
}
