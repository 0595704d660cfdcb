/**
 * A plain aedes broker in-process on a loopback TCP port, for the edge agent's tests that do not need
 * the gateway's ingest: it records every publish, can hold PUBACKs back (a slow gateway: the agent's
 * queue fills), and can be stopped and started again on the same port (an outage).
 */
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';

import { Aedes } from 'aedes';
import mqtt from 'mqtt';

import { freePort } from '../../devtools/free-port.js';
import type { BrokerPersistence } from '../../gateway/broker/persistence/broker-persistence.js';
import { retainedPayload, retainingPersistence } from './retained.js';

export interface BrokerMessage {
  topic: string;
  payload: string;
  retain: boolean;
  clientId: string | null;
  at: number;
}

export class EdgeTestBroker {
  readonly received: BrokerMessage[] = [];
  /** While true, PUBACKs for data topics (not status, not config) are held back. */
  holdAcks = false;
  private aedes: Aedes | null = null;
  private persistence: BrokerPersistence | null = null;
  private server: Server | null = null;
  private readonly sockets = new Set<Socket>();
  private readonly held: Array<() => void> = [];

  private constructor(readonly port: number) {}

  static async create(): Promise<EdgeTestBroker> {
    const broker = new EdgeTestBroker(await freePort());
    await broker.start();
    return broker;
  }

  get url(): string {
    return `mqtt://127.0.0.1:${this.port}`;
  }

  /** Starts a fresh broker (retained messages of a previous run are gone, as after a restart without persistence). */
  async start(): Promise<void> {
    const persistence = retainingPersistence();
    const aedes = await Aedes.createBroker({
      persistence,
      authorizePublish: (client, packet, callback) => {
        const isData = !/\/(status|config)\//.test(packet.topic);
        if (this.holdAcks && isData && client !== null) this.held.push(() => callback(null));
        else callback(null);
      },
    });
    aedes.on('publish', (packet, client) => {
      if (packet.topic.startsWith('$SYS')) return;
      this.received.push({ topic: packet.topic, payload: packet.payload.toString(), retain: packet.retain, clientId: client?.id ?? null, at: Date.now() });
    });
    const server = createServer((socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
      aedes.handle(socket);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
    this.aedes = aedes;
    this.persistence = persistence;
    this.server = server;
  }

  /** Lets every held PUBACK go and stops holding. */
  releaseAcks(): void {
    this.holdAcks = false;
    for (const release of this.held.splice(0)) release();
  }

  /** An outage: drops every connection and stops listening. */
  async stop(): Promise<void> {
    const { aedes, server, persistence } = this;
    this.aedes = null;
    this.server = null;
    this.persistence = null;
    this.held.splice(0);
    for (const socket of this.sockets) socket.destroy();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
    if (aedes) await new Promise<void>((resolve) => aedes.close(() => resolve()));
    await persistence?.destroy();
  }

  /** Messages published on a topic (not counting retained copies delivered to subscribers). */
  on(topic: string): BrokerMessage[] {
    return this.received.filter((m) => m.topic === topic && m.clientId !== null);
  }

  /**
   * The message the broker retains for a topic now, undefined when it retains none (read from its
   * store: exact, so a slow delivery never looks like none). A QoS 1 publisher gets its PUBACK just
   * before aedes stores the retained copy: wait with eventually() for the one expected.
   */
  async retained(topic: string): Promise<string | undefined> {
    if (!this.persistence) throw new Error('the test broker is stopped');
    return retainedPayload(this.persistence, topic);
  }

  /** Publishes (retained by default) as an operator would. */
  async publish(topic: string, payload: string, retain = true): Promise<void> {
    const client = await mqtt.connectAsync(this.url, { clientId: `operator-${process.hrtime.bigint()}`, reconnectPeriod: 0 });
    try {
      await client.publishAsync(topic, payload, { qos: 1, retain });
    } finally {
      await client.endAsync();
    }
  }

  address(): AddressInfo | null {
    return (this.server?.address() as AddressInfo | null) ?? null;
  }
}
