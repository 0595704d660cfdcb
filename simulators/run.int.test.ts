/**
 * runSimulation against a real, in-process aedes broker over TCP and over WebSocket: every message of
 * the plan (resent copies included, lost ones never planned) arrives in its sendAt order, and the
 * ground truth's counts match what the broker saw.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer as createTcpServer, type AddressInfo, type Server as TcpServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { Aedes, type Client } from 'aedes';
import { afterEach, describe, expect, it, onTestFinished } from 'vitest';
import { createWebSocketStream, WebSocketServer } from 'ws';

import { DEMO_STORE, StoreSchema } from '../config/index.js';
import { retainedPayload, retainingPersistence } from '../test/helpers/retained.js';
import { buildSimulation } from './build.js';
import { SimulationConnectError } from './errors.js';
import { messageBody } from './messages.js';
import { DEFAULT_SIMULATION_OPTIONS, type SimulationOptions } from './options.js';
import { runSimulation } from './run.js';

interface Received {
  topic: string;
  body: string;
  clientId: string;
  at: number;
}

interface TestBroker {
  tcpUrl: string;
  wsUrl: string;
  received: Received[];
  clients: Client[];
  /** The message the broker retains for a topic now (undefined: none), read from its store. */
  retained(topic: string): Promise<string | undefined>;
  stop(): Promise<void>;
}

async function listen(server: TcpServer | HttpServer): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

async function startBroker(): Promise<TestBroker> {
  const persistence = retainingPersistence();
  const aedes = await Aedes.createBroker({ persistence });
  const received: Received[] = [];
  const clients: Client[] = [];
  aedes.on('client', (client) => clients.push(client));
  aedes.on('publish', (packet, client) => {
    if (!packet.topic.startsWith('$SYS')) received.push({ topic: packet.topic, body: packet.payload.toString(), clientId: client?.id ?? '', at: Date.now() });
  });
  const tcp = createTcpServer((socket) => aedes.handle(socket));
  const http = createHttpServer();
  const wss = new WebSocketServer({ server: http, path: '/mqtt' });
  wss.on('connection', (ws, req) => {
    const stream = createWebSocketStream(ws);
    stream.on('error', () => undefined); // a test closing the socket under the stream is expected
    aedes.handle(stream, req);
  });
  const tcpPort = await listen(tcp);
  const wsPort = await listen(http);
  const tcpUrl = `mqtt://127.0.0.1:${tcpPort}`;
  return {
    tcpUrl,
    wsUrl: `ws://127.0.0.1:${wsPort}/mqtt`,
    received,
    clients,
    retained: (topic) => retainedPayload(persistence, topic),
    async stop() {
      for (const ws of wss.clients) ws.terminate();
      wss.close();
      await new Promise<void>((resolve) => aedes.close(() => resolve()));
      await Promise.all([tcp, http].map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
    },
  };
}

let broker: TestBroker;
afterEach(async () => {
  await broker?.stop();
});

const store = StoreSchema.parse(DEMO_STORE);
const base = (overrides: Partial<SimulationOptions> = {}): SimulationOptions => ({
  ...DEFAULT_SIMULATION_OPTIONS,
  store,
  durationMs: 15 * 60_000,
  ...overrides,
});
const simulatorMessages = (b: TestBroker) => b.received.filter((r) => r.clientId.startsWith('storeloop-sim-'));

describe.each([
  { transport: 'TCP', url: (b: TestBroker) => b.tcpUrl },
  { transport: 'WebSocket', url: (b: TestBroker) => b.wsUrl },
])('runSimulation over $transport', ({ url }) => {
  it('delivers every planned message once, in order, and writes the truth it returns', async () => {
    broker = await startBroker();
    const dir = await mkdtemp(join(tmpdir(), 'storeloop-sim-'));
    onTestFinished(() => rm(dir, { recursive: true, force: true }));
    const now = Date.now();
    const lines: string[] = [];
    const truthFile = join(dir, 'nested', 'truth.json');
    const truth = await runSimulation({ ...base({ seed: 5, now }), url: url(broker), truthFile, log: (l) => lines.push(l) });
    const plan = buildSimulation(base({ seed: 5, now }));

    expect(truth).toEqual(plan.truth);
    await expect.poll(() => simulatorMessages(broker).length).toBe(truth.publishedMessages);
    expect(simulatorMessages(broker).map((r) => [r.topic, r.body])).toEqual(plan.messages.map((m) => [m.topic, messageBody(m)]));
    expect(JSON.parse(await readFile(truthFile, 'utf8'))).toEqual(truth);
    expect(lines.some((l) => l.includes(`${truth.publishedMessages} messages published`))).toBe(true);
    // aedes stores a retained copy just after it sends the PUBACK: poll the broker's store for it
    await expect
      .poll(async () => JSON.parse((await broker.retained('storeloop/demo-store/status/edge-1')) ?? '{}') as unknown)
      .toMatchObject({ state: 'offline', detail: 'simulation finished' });
  });
});

describe('runSimulation', () => {
  it('publishes at QoS 0 too, and everything arrives', async () => {
    broker = await startBroker();
    const truth = await runSimulation({ ...base({ seed: 6, durationMs: 5 * 60_000 }), url: broker.tcpUrl, qos: 0 });
    expect(truth.options.qos).toBe(0);
    await expect.poll(() => simulatorMessages(broker).length).toBe(truth.publishedMessages);
  });

  it('never publishes an event before its time when it runs against the clock', async () => {
    broker = await startBroker();
    const now = Date.now();
    const truth = await runSimulation({ ...base({ seed: 7, durationMs: 60_000, speed: 600, now }), url: broker.tcpUrl });
    await expect.poll(() => simulatorMessages(broker).length).toBe(truth.publishedMessages);
    // the true time of each message (its stamp is its source's clock, which may run ahead)
    const trueTs = new Map(buildSimulation(base({ seed: 7, durationMs: 60_000, speed: 600, now })).messages.map((m) => [m.payload.mid, m.trueTs]));
    const early = simulatorMessages(broker).filter((r) => {
      const mid = (JSON.parse(r.body) as { mid?: string }).mid;
      const ts = trueTs.get(mid);
      return ts === undefined || ts > r.at;
    });
    expect(early).toEqual([]);
    expect(truth.windowEnd).toBeLessThanOrEqual(Date.now());
  });

  it('stops on abort, reports the agents offline, and counts what went out', async () => {
    broker = await startBroker();
    const controller = new AbortController();
    broker.clients.length = 0;
    const run = runSimulation({ ...base({ seed: 8, durationMs: 2 * 3_600_000 }), url: broker.tcpUrl, signal: controller.signal, maxInFlight: 20 });
    await expect.poll(() => simulatorMessages(broker).length >= 300).toBe(true);
    controller.abort();
    const truth = await run;
    expect(truth.completed).toBe(false);
    expect(truth.stoppedAt).toBeGreaterThanOrEqual(truth.windowStart);
    await expect.poll(() => simulatorMessages(broker).length).toBe(truth.publishedMessages);
    const plan = buildSimulation(base({ seed: 8, durationMs: 2 * 3_600_000, now: truth.options.now }));
    expect(truth.publishedMessages).toBeLessThan(plan.messages.length);
    const counted = Object.values(truth.published.messages).reduce((a, b) => a + b, 0);
    expect(counted + truth.published.duplicates).toBe(truth.publishedMessages);
    const last = JSON.parse(simulatorMessages(broker).at(-1)?.body ?? '{}') as { state?: string; detail?: string; ts?: number };
    expect(last).toMatchObject({ state: 'offline', detail: 'simulation stopped', ts: truth.stoppedAt });
  });

  it('keeps the agents online for the run that takes over (keepAgentsOnline) and counts only what went out', async () => {
    broker = await startBroker();
    const now = Date.now();
    const truth = await runSimulation({ ...base({ seed: 10, durationMs: 5 * 60_000, now }), url: broker.tcpUrl, keepAgentsOnline: true });
    const plan = buildSimulation(base({ seed: 10, durationMs: 5 * 60_000, now }));
    await expect.poll(() => simulatorMessages(broker).length).toBe(truth.publishedMessages);
    expect(simulatorMessages(broker).map((r) => r.body)).toEqual(
      // the closing offline statuses stay out; an uplink outage's will (m.outage) does not
      plan.messages.filter((m) => m.kind !== 'status' || m.payload.state !== 'offline' || m.outage).map(messageBody),
    );
    expect(truth.publishedMessages).toBe(plan.truth.publishedMessages - 1);
    expect(truth.published.points.agent).toBe(plan.truth.published.points.agent - 1);
    const status = JSON.parse((await broker.retained('storeloop/demo-store/status/edge-1')) ?? '{}') as { state?: string };
    expect(status.state).toBe('online');
  });

  it("leaves a retained offline will per agent when the simulator's connections die", async () => {
    broker = await startBroker();
    const twoAgents = StoreSchema.parse({ ...DEMO_STORE, agents: [{ id: 'edge-1' }, { id: 'edge-2' }] });
    const run = runSimulation({ ...base({ seed: 9, store: twoAgents, durationMs: 30 * 60_000 }), url: broker.tcpUrl, maxInFlight: 10 });
    await expect.poll(() => simulatorMessages(broker).length >= 50).toBe(true);
    const simulatorClients = broker.clients.filter((c) => c.id.startsWith('storeloop-sim-'));
    expect(simulatorClients).toHaveLength(2);
    for (const c of simulatorClients) c.conn.destroy();
    const truth = await run; // MQTT.js reconnects and resends what was not acknowledged
    const wills = broker.received.filter((r) => r.clientId.startsWith('storeloop-sim-') && r.body.includes(`-${truth.runId}-will`));
    expect(wills.map((w) => [w.topic, (JSON.parse(w.body) as { state: string }).state]).sort()).toEqual([
      ['storeloop/demo-store/status/edge-1', 'offline'],
      ['storeloop/demo-store/status/edge-2', 'offline'],
    ]);
    for (const agent of ['edge-1', 'edge-2']) {
      await expect
        .poll(async () => (JSON.parse((await broker.retained(`storeloop/demo-store/status/${agent}`)) ?? '{}') as { detail?: string }).detail, {
          message: agent,
        })
        .toBe('simulation finished');
    }
  });

  it('fails with a connect error naming the url when no broker listens', async () => {
    const server = createTcpServer();
    const port = await listen(server);
    await new Promise<void>((resolve) => server.close(() => resolve()));
    const url = `mqtt://127.0.0.1:${port}`;
    const attempt = runSimulation({ ...base({ durationMs: 60_000 }), url, connectTimeoutMs: 2000 });
    await expect(attempt).rejects.toBeInstanceOf(SimulationConnectError);
    await expect(attempt).rejects.toThrow(url);
  });
});
