/**
 * An idle-device process (spawned by the runner with an IPC channel): opens `count` MQTT 3.1.1
 * connections on plain sockets at a bounded rate, then keeps each alive with a PINGREQ once per
 * keepalive period and nothing else, until the runner says stop. Reports `ready` once every
 * connection got its CONNACK or failed, progress as the number of open connections, and a result.
 *
 * Usage: node dist/bench/idle-client.js '<IdleClientSpec JSON>'
 */
import { connect, type Socket } from 'node:net';

import { z } from 'zod';

import { failChild, listenToParent, MAX_REPORTED_ERRORS, sendToParent, type IdleClientResult } from './ipc.js';
import { connackReturnCode, encodeConnect, PacketReader, PacketType, PINGREQ } from '../devtools/mqtt-wire.js';
import { LatencyHistogram } from './percentiles.js';

export const IdleClientSpecSchema = z.object({
  host: z.string(),
  port: z.number().int().min(1).max(65_535),
  /** Client ids are `<clientIdPrefix><index>` for index firstIndex … firstIndex + count - 1. */
  clientIdPrefix: z.string(),
  firstIndex: z.number().int().min(0),
  count: z.number().int().min(1).max(10_000),
  connectsPerSecond: z.number().positive(),
  keepaliveSeconds: z.number().int().min(1).max(65_535),
  connackTimeoutMs: z.number().int().min(1),
  /** The identity every idle device logs in as. */
  login: z.object({ username: z.string(), password: z.string() }),
});
export type IdleClientSpec = z.infer<typeof IdleClientSpecSchema>;

const CONNECT_TICK_MS = 10;
/** How often due PINGREQs are looked for: a ping is at most this late, far inside the broker's 1.5 × keepalive. */
const KEEPALIVE_TICK_MS = 1_000;
const PROGRESS_EVERY_MS = 500;

interface Device {
  socket: Socket;
  reader: PacketReader;
  state: 'connecting' | 'open' | 'closed';
  startedMs: number;
  lastSentMs: number;
  pingresps: number;
  connackTimer: NodeJS.Timeout | undefined;
}

class IdleFleet {
  private readonly devices: Device[] = [];
  private readonly connack = new LatencyHistogram();
  private readonly errors: string[] = [];
  private connected = 0;
  private open = 0;
  private refused = 0;
  private failed = 0;
  private closedByServer = 0;
  private pingreqs = 0;
  private pingresps = 0;
  private errorCount = 0;
  private stopping = false;
  private settled = 0;
  private onAllSettled: (() => void) | undefined;

  constructor(private readonly spec: IdleClientSpec) {}

  /** Opens every connection at the spec's rate; resolves once each has its CONNACK or failed. */
  connectAll(): Promise<void> {
    const startedMs = performance.now();
    const allSettled = new Promise<void>((resolve) => {
      this.onAllSettled = resolve;
    });
    const ticker = setInterval(() => {
      const due = Math.min(this.spec.count, Math.floor(((performance.now() - startedMs) / 1000) * this.spec.connectsPerSecond) + 1);
      while (this.devices.length < due) this.openOne(this.spec.firstIndex + this.devices.length);
      if (this.devices.length >= this.spec.count) clearInterval(ticker);
    }, CONNECT_TICK_MS);
    setInterval(() => this.pingDue(), KEEPALIVE_TICK_MS).unref();
    setInterval(() => sendToParent({ type: 'progress', count: this.open }), PROGRESS_EVERY_MS).unref();
    return allSettled;
  }

  result(): IdleClientResult {
    this.stopping = true;
    const open = this.devices.filter((d) => d.state === 'open');
    return {
      wanted: this.spec.count,
      connected: this.connected,
      open: open.length,
      refused: this.refused,
      failed: this.failed,
      closedByServer: this.closedByServer,
      pingreqs: this.pingreqs,
      pingresps: this.pingresps,
      pinged: open.filter((d) => d.pingresps > 0).length,
      errors: this.errors,
      connack: this.connack.toJSON(),
    };
  }

  private openOne(index: number): void {
    const socket = connect({ host: this.spec.host, port: this.spec.port, noDelay: true });
    const device: Device = {
      socket,
      reader: new PacketReader(),
      state: 'connecting',
      startedMs: performance.now(),
      lastSentMs: Date.now(),
      pingresps: 0,
      connackTimer: undefined,
    };
    this.devices.push(device);
    device.connackTimer = setTimeout(() => this.fail(device, `no CONNACK within ${this.spec.connackTimeoutMs} ms`), this.spec.connackTimeoutMs);
    socket.once('connect', () => {
      socket.write(encodeConnect({ clientId: `${this.spec.clientIdPrefix}${index}`, keepaliveSeconds: this.spec.keepaliveSeconds, login: this.spec.login }));
      device.lastSentMs = Date.now();
    });
    socket.on('data', (chunk: Buffer) => this.onData(device, chunk));
    socket.on('error', (err) => this.noteError(err.message));
    socket.on('close', () => this.onClose(device));
  }

  private onData(device: Device, chunk: Buffer): void {
    let packets;
    try {
      packets = device.reader.push(chunk);
    } catch (err) {
      this.fail(device, err instanceof Error ? err.message : String(err));
      return;
    }
    for (const packet of packets) {
      if (packet.type === PacketType.PINGRESP) {
        device.pingresps++;
        this.pingresps++;
        continue;
      }
      const code = connackReturnCode(packet);
      if (code === undefined || device.state !== 'connecting') {
        this.fail(device, `unexpected packet type ${packet.type} in state ${device.state}`);
        continue;
      }
      clearTimeout(device.connackTimer);
      if (code !== 0) {
        this.refused++;
        device.state = 'closed'; // counted as refused, not failed
        this.settleOne();
        this.fail(device, `CONNACK return code ${code}`);
        continue;
      }
      device.state = 'open';
      this.connected++;
      this.open++;
      this.connack.record((performance.now() - device.startedMs) * 1000);
      this.settleOne();
    }
  }

  /** [MQTT-3.1.2-23]: a client sends a control packet at least once per keepalive period; idle, that is PINGREQ. */
  private pingDue(): void {
    const dueBefore = Date.now() - this.spec.keepaliveSeconds * 1000;
    for (const device of this.devices) {
      if (device.state !== 'open' || device.lastSentMs > dueBefore) continue;
      device.socket.write(PINGREQ);
      device.lastSentMs = Date.now();
      this.pingreqs++;
    }
  }

  private onClose(device: Device): void {
    clearTimeout(device.connackTimer);
    if (device.state === 'open') {
      this.open--;
      if (!this.stopping) {
        this.closedByServer++;
        this.noteError('connection closed by the server');
      }
    } else if (device.state === 'connecting') {
      this.failed++;
      this.settleOne();
    }
    device.state = 'closed';
  }

  /** Ends a connection that will not become (or stay) a healthy idle device; counted once in onClose. */
  private fail(device: Device, message: string): void {
    this.noteError(message);
    device.socket.destroy();
  }

  private settleOne(): void {
    this.settled++;
    if (this.settled >= this.spec.count) this.onAllSettled?.();
  }

  private noteError(message: string): void {
    this.errorCount++;
    if (this.errors.length < MAX_REPORTED_ERRORS && !this.errors.includes(message)) this.errors.push(message);
  }
}

async function main(): Promise<void> {
  const spec = IdleClientSpecSchema.parse(JSON.parse(process.argv[2] ?? '') as unknown);
  const fleet = new IdleFleet(spec);
  listenToParent((message) => {
    if (message.type !== 'stop') return;
    // exiting closes every socket; the server sees them go after the runner has read its figures
    sendToParent({ type: 'idle-result', result: fleet.result() }, () => process.exit(0));
  });
  await fleet.connectAll();
  sendToParent({ type: 'ready' });
}

main().catch(failChild);
