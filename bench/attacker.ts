/**
 * One attacker process (spawned by the runner with an IPC channel) of the storeloop-under-attack
 * scenario: one attack, on raw sockets from its own loopback address(es), at a bounded rate and with
 * a bounded number of connections, from the window's start to its end. It reports what the gateway
 * answered, by outcome. Kinds (bench/README.md):
 * - `reconnect-storm`: CONNECTs with wrong secrets for an existing identity's name and with unknown names;
 * - `publish-flood`: a valid device identity publishing forged sightings on other sources' topics, far
 *   over its per-client rate; reconnects whenever it is disconnected;
 * - `oversized-and-slowloris`: PUBLISH headers declaring 256 MiB, and packets left half-sent;
 * - `random-bytes`: seeded random bytes as the first bytes of a connection;
 * - `slow-subscriber`: an operator subscribed to `storeloop/#` at QoS 1 that never reads its socket;
 * - `connection-flood`: connections that never send CONNECT, up to past the per-address cap.
 *
 * Usage: node dist/bench/attacker.js '<AttackerSpec JSON>'
 */
import { randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';

import { z } from 'zod';

import { connackReturnCode, encodeConnect, PacketReader, type Packet } from '../devtools/mqtt-wire.js';
import { AttackPacketType, encodeSubscribe, MAX_DECLARED_LENGTH, publishHeader, publishTemplate, seededBytes } from './attack-packets.js';
import { failChild, listenToParent, MAX_REPORTED_ERRORS, sendToParent, type AttackerResult, type RunWindow } from './ipc.js';

export const ATTACKS = ['reconnect-storm', 'publish-flood', 'oversized-and-slowloris', 'random-bytes', 'slow-subscriber', 'connection-flood'] as const;
export type AttackKind = (typeof ATTACKS)[number];

const LoginSchema = z.object({ username: z.string(), password: z.string() });

export const AttackerSpecSchema = z.object({
  attack: z.enum(ATTACKS),
  host: z.string(),
  port: z.number().int().min(1).max(65_535),
  /** Loopback addresses the attacker's connections come from (each its own "device on the store network"). */
  localAddresses: z.array(z.string()).min(1),
  /** New connections (or, publish-flood, messages) a second. */
  ratePerSecond: z.number().positive(),
  /** Connections open at once, at most (connection-flood: per address). */
  maxConnections: z.number().int().min(1),
  /** The attacker's own valid identity (publish-flood, oversized-and-slowloris, slow-subscriber). */
  login: LoginSchema.optional(),
  /** reconnect-storm: an existing identity whose secret it guesses. */
  victimName: z.string().optional(),
  /** publish-flood: the topic it forges and the payload it sends there. */
  forged: z.object({ topic: z.string(), payload: z.string() }).optional(),
  /** slow-subscriber: the filter it subscribes to. */
  filter: z.string().optional(),
  /** oversized-and-slowloris: connections left with a half-sent packet, held at once. */
  slowlorisConnections: z.number().int().min(0).default(0),
  seed: z.number().int().default(1),
});
export type AttackerSpec = z.infer<typeof AttackerSpecSchema>;

const TICK_MS = 10;
const PROGRESS_EVERY_MS = 500;
/** A connection the gateway should close that is still open after this is counted as such and dropped. */
const ANSWER_TIMEOUT_MS = 15_000;
/** Slowloris: one more byte of the unfinished packet this often (well inside any keepalive). */
const TRICKLE_MS = 2_000;
/** Random-bytes lengths, in turn (as the hostile-transport test). */
const RANDOM_LENGTHS = [1, 7, 64, 300, 1_500, 4_096, 16_384, 65_536];
/** publish-flood: reconnects at most this often after the gateway disconnected it. */
const RECONNECT_DELAY_MS = 50;
const KEEPALIVE_S = 60;

/** What every attack shares: counters by outcome, errors, and a rate limiter for new connections. */
abstract class Attack {
  protected connections = 0;
  protected breaches = 0;
  protected readonly outcomes = new Map<string, number>();
  protected readonly sockets = new Set<Socket>();
  protected stopping = false;
  private errorCount = 0;
  private readonly errors: string[] = [];
  private launched = 0;
  private ticker: NodeJS.Timeout | undefined;
  private serial = 0;

  constructor(protected readonly spec: AttackerSpec) {}

  /** Starts the attack; it runs until stop(). */
  start(): void {
    const startedMs = performance.now();
    this.ticker = setInterval(() => {
      const due = Math.floor(((performance.now() - startedMs) / 1000) * this.spec.ratePerSecond);
      this.tick(due - this.launched, (n) => (this.launched += n));
    }, TICK_MS);
  }

  /** Every TICK_MS: `owed` new connections (or messages) are due; `took(n)` says how many were started. */
  protected tick(owed: number, took: (n: number) => void): void {
    let n = 0;
    while (n < owed && this.canOpen()) {
      this.launch();
      n++;
    }
    // what a full connection budget held back is dropped, not saved up: the rate is a ceiling
    took(owed);
  }

  protected canOpen(): boolean {
    return this.sockets.size < this.spec.maxConnections;
  }

  /** Opens one more connection (rate and count permitting). */
  protected launch(): void {}

  stop(): AttackerResult {
    this.stopping = true;
    clearInterval(this.ticker);
    this.onStop();
    for (const socket of this.sockets) socket.destroy();
    return {
      attack: this.spec.attack,
      connections: this.connections,
      outcomes: Object.fromEntries(this.outcomes),
      breaches: this.breaches,
      errorCount: this.errorCount,
      errors: this.errors,
    };
  }

  protected onStop(): void {}

  /** Events worth reporting live (the progress bar shows nothing of attackers; this is for `ready`/debugging). */
  get total(): number {
    return this.connections;
  }

  protected count(outcome: string, n = 1): void {
    this.outcomes.set(outcome, (this.outcomes.get(outcome) ?? 0) + n);
  }

  protected noteError(message: string): void {
    this.errorCount++;
    if (this.errors.length < MAX_REPORTED_ERRORS && !this.errors.includes(message)) this.errors.push(message);
  }

  protected nextId(prefix: string): string {
    this.serial++;
    return `${prefix}-${process.pid}-${this.serial}`;
  }

  /** A socket from `localAddress` (default: the attacker's addresses in turn), tracked until it closes. */
  protected open(localAddress = this.spec.localAddresses[this.serial % this.spec.localAddresses.length] as string): Socket {
    const socket = connect({ host: this.spec.host, port: this.spec.port, localAddress, noDelay: true });
    this.sockets.add(socket);
    socket.once('connect', () => this.connections++);
    socket.on('error', (err: NodeJS.ErrnoException) => {
      // a reset or refusal by the gateway is one of the answers under test, not an attacker failure
      if (err.code !== 'ECONNRESET' && err.code !== 'EPIPE') this.noteError(err.message);
    });
    socket.once('close', () => this.sockets.delete(socket));
    return socket;
  }

  /** Resolves `onClosed(ms)` when the gateway closes the socket, or counts it as left open after ANSWER_TIMEOUT_MS. */
  protected expectClose(socket: Socket, label: string, onClosed?: (ms: number) => void): void {
    const openedMs = performance.now();
    const timer = setTimeout(() => {
      this.count(`${label}: still open after ${ANSWER_TIMEOUT_MS / 1000} s`);
      socket.destroy();
    }, ANSWER_TIMEOUT_MS);
    socket.once('close', () => {
      clearTimeout(timer);
      if (this.stopping) return;
      const ms = performance.now() - openedMs;
      if (ms < ANSWER_TIMEOUT_MS) onClosed?.(ms);
    });
  }
}

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
      socket.write(encodeConnect({ clientId: this.nextId('flood'), keepaliveSeconds: KEEPALIVE_S, login: this.spec.login as z.infer<typeof LoginSchema> })),
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
      if (afterConnect)
        socket.write(encodeConnect({ clientId: this.nextId('huge'), keepaliveSeconds: 0, login: this.spec.login as z.infer<typeof LoginSchema> }));
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
        socket.write(encodeConnect({ clientId: this.nextId('slow'), keepaliveSeconds: 0, login: this.spec.login as z.infer<typeof LoginSchema> }));
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
      socket.write(encodeConnect({ clientId: this.nextId('slow-sub'), keepaliveSeconds: 0, login: this.spec.login as z.infer<typeof LoginSchema> })),
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

function createAttack(spec: AttackerSpec): Attack {
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

function run(attack: Attack, window: RunWindow): void {
  const progress = setInterval(() => sendToParent({ type: 'progress', count: attack.total }), PROGRESS_EVERY_MS);
  const finish = () => {
    clearInterval(progress);
    sendToParent({ type: 'attacker-result', result: attack.stop() }, () => process.exit(0));
  };
  setTimeout(() => attack.start(), Math.max(0, window.startAtMs - Date.now()));
  setTimeout(finish, Math.max(0, window.endAtMs - Date.now()));
}

async function main(): Promise<void> {
  const spec = AttackerSpecSchema.parse(JSON.parse(process.argv[2] ?? '') as unknown);
  const attack = createAttack(spec);
  listenToParent((message) => {
    if (message.type === 'start') run(attack, message.window);
    else sendToParent({ type: 'attacker-result', result: attack.stop() }, () => process.exit(0));
  });
  sendToParent({ type: 'ready' });
  return Promise.resolve();
}

main().catch(failChild);
