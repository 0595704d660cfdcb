/**
 * The embedded MQTT broker: aedes (MQTT 3.1.1) over TCP and over WebSocket (path /mqtt), and over
 * TLS and secure WebSocket when mqtt.tls is set (tls-listeners.ts).
 * start() listens, stop() stops accepting, disconnects clients and closes the broker.
 */
import { createServer as createHttpServer, type IncomingMessage, type Server as HttpServer } from 'node:http';
import { createServer as createTcpServer, type AddressInfo, type Server as TcpServer } from 'node:net';

import type { Duplex } from 'node:stream';

import { Aedes, type AedesOptions, type Client, type Subscription } from 'aedes';
import { Counter, Gauge } from 'prom-client';
import { createWebSocketStream, WebSocketServer, type WebSocket } from 'ws';

import { maskClientId } from '../ingest/redact.js';
import type { Logger } from '../../lib/logger.js';
import { RateLimitedLog } from '../../lib/rate-limited-log.js';
import type { GatewayMetrics } from '../metrics.js';
import { createMemoryPersistence, type BrokerPersistence } from './persistence/index.js';
import { DENIAL_TEXT, subscribeDenial } from '../auth/mqtt-grants.js';
import { isTlsClient, verifiedCertificateName } from './client-certificate.js';
import type { MqttAuthenticator } from './mqtt-authenticator.js';
import { PublishThrottle } from './publish-throttle.js';
import { SessionLimits } from './session-limits.js';
import { REFUSAL_TEXT, type BrokerRefusal } from './broker-refusals.js';
import { TlsListeners, type TlsConfig } from './tls-listeners.js';
import { PUBLISH_OVERHEAD_BYTES, SubscriptionCap, TransportGuard } from './transport-guard.js';

export const WS_PATH = '/mqtt';

export interface MqttBrokerOptions {
  host: string;
  port: number;
  /** null: no WebSocket listener. */
  wsPort: number | null;
  /** MQTT over TLS and secure WebSocket (mqtt.tls); undefined: none. */
  tls?: TlsConfig;
  authorizePublish: NonNullable<AedesOptions['authorizePublish']>;
  /** Who each connection is (authentication, client-id ownership, revocation); its identity's grant decides subscriptions. */
  authenticator: MqttAuthenticator;
  /** The contract's topic prefix (mqtt.topicPrefix): subscriptions are checked against it. */
  topicPrefix: string;
  log: Logger;
  metrics: GatewayMetrics;
  /** Opens the broker's session state at start(); it is destroyed at stop(). Default: aedes' in-memory persistence. */
  createPersistence?: () => Promise<BrokerPersistence>;
  /** Largest payload a PUBLISH may carry (mqtt.maxPayloadBytes); a packet declaring more than this plus the largest topic is refused unread. */
  maxPayloadBytes: number;
  limits: {
    connectTimeoutMs: number;
    packetTimeoutMs: number;
    maxConnections: number;
    maxConnectionsPerAddress: number;
    maxSubscriptionsPerClient: number;
    maxMessagesPerSecondPerClient: number;
    maxBytesPerSecondPerClient: number;
    maxThrottleDelayMs: number;
    subscriberDrainTimeoutMs: number;
    maxPersistentSessions: number;
    sessionExpirySeconds: number;
  };
  /** The clock persistent sessions expire by, and how often they are checked (tests move it). */
  sessionClock?: { now: () => number; checkIntervalMs?: number };
}

function transportOf(client: Client): 'ws' | 'tcp' | 'wss' | 'tls' {
  if (isTlsClient(client)) return client.req ? 'wss' : 'tls';
  return client.req ? 'ws' : 'tcp';
}

export class MqttBroker {
  private aedes: Aedes | undefined;
  private tcp: TcpServer | undefined;
  private http: HttpServer | undefined;
  private wss: WebSocketServer | undefined;
  private persistence: BrokerPersistence | undefined;
  private listening = false;
  private guard: TransportGuard | undefined;
  private readonly tls: TlsListeners | undefined;
  /** Publishes held back by the rate limit, answered with an error if the broker stops first. */
  private readonly throttled = new Map<NodeJS.Timeout, (error: Error) => void>();
  private readonly sessions: SessionLimits;

  private readonly alarms: RateLimitedLog;

  constructor(private readonly options: MqttBrokerOptions) {
    this.alarms = new RateLimitedLog(options.log, 10_000);
    this.tls =
      options.tls === undefined
        ? undefined
        : new TlsListeners({
            tls: options.tls,
            handshakeTimeoutMs: options.limits.connectTimeoutMs,
            maxConnections: options.limits.maxConnections,
            maxWebSocketPayloadBytes: options.maxPayloadBytes + PUBLISH_OVERHEAD_BYTES + 5,
            wsPath: WS_PATH,
            log: options.log,
          });
    const openConnections = (): number => this.guard?.size ?? 0;
    new Gauge({
      name: 'storeloop_mqtt_open_connections',
      help: 'Open MQTT connections (TCP and WebSocket) counted at the transport, CONNECT sent or not',
      registers: [options.metrics.registry],
      collect() {
        this.set(openConnections());
      },
    });
    const expired = new Counter({
      name: 'storeloop_mqtt_sessions_expired_total',
      help: 'Persistent sessions removed because their client was away longer than mqtt.limits.sessionExpirySeconds',
      registers: [options.metrics.registry],
    });
    this.sessions = new SessionLimits(
      {
        maxSessions: options.limits.maxPersistentSessions,
        expiryMs: options.limits.sessionExpirySeconds * 1000,
        ...options.sessionClock,
      },
      options.log,
      () => expired.inc(),
    );
    const sessions = this.sessions;
    new Gauge({
      name: 'storeloop_mqtt_persistent_sessions',
      help: 'Persistent sessions (clean = false) the broker keeps, connected or away (capped by mqtt.limits.maxPersistentSessions)',
      registers: [options.metrics.registry],
      collect() {
        this.set(sessions.size);
      },
    });
  }

  get isListening(): boolean {
    return this.listening;
  }

  /** The bound TCP port (useful when configured as 0). */
  get port(): number {
    return (this.tcp?.address() as AddressInfo | null)?.port ?? 0;
  }

  get wsPort(): number | null {
    return this.http ? ((this.http.address() as AddressInfo | null)?.port ?? null) : null;
  }

  /** Counts a refusal and logs it for the installer (rate-limited per reason, and per detail when there is one). */
  refused(reason: BrokerRefusal, context: Record<string, unknown>): void {
    this.options.metrics.mqttRefused.inc({ reason });
    // one line per distinct cause (an expired certificate is not hidden behind a port scanner's failed handshakes)
    const key = typeof context.detail === 'string' ? `${reason}:${context.detail}` : reason;
    this.alarms.warn(key, { reason, ...context }, REFUSAL_TEXT[reason]);
  }

  /** The bound MQTT over TLS port; null without mqtt.tls. */
  get tlsPort(): number | null {
    return this.tls?.port ?? null;
  }

  /** The bound MQTT over secure WebSocket port; null without mqtt.tls or with its wsPort null. */
  get wssPort(): number | null {
    return this.tls?.wsPort ?? null;
  }

  /** Reads the TLS certificate files again (SIGHUP); true when the certificate in use changed. */
  reloadTls(): boolean {
    return this.tls?.reload() ?? false;
  }

  async start(): Promise<void> {
    const { log, metrics, limits } = this.options;
    this.tls?.load(); // a certificate file that cannot be used stops the start before anything is opened
    const alarms = this.alarms;
    const refused = (reason: BrokerRefusal, context: Record<string, unknown>) => this.refused(reason, context);
    const maxPacketBytes = this.options.maxPayloadBytes + PUBLISH_OVERHEAD_BYTES;
    const guard = new TransportGuard(
      {
        maxPacketBytes,
        packetTimeoutMs: limits.packetTimeoutMs,
        maxConnections: limits.maxConnections,
        maxConnectionsPerAddress: limits.maxConnectionsPerAddress,
      },
      refused,
    );
    this.guard = guard;
    const subscriptionCap = new SubscriptionCap(limits.maxSubscriptionsPerClient);
    const throttle = new PublishThrottle({
      messagesPerSecond: limits.maxMessagesPerSecondPerClient,
      bytesPerSecond: Math.max(limits.maxBytesPerSecondPerClient, this.options.maxPayloadBytes),
      maxDelayMs: limits.maxThrottleDelayMs,
    });
    const persistence = (await this.options.createPersistence?.()) ?? createMemoryPersistence();
    this.persistence = persistence;
    const aedes = await Aedes.createBroker({
      persistence,
      connectTimeout: limits.connectTimeoutMs,
      drainTimeout: limits.subscriberDrainTimeoutMs,
      authenticate: (client, username, password, callback) =>
        this.options.authenticator.authenticate(client, username, password, (error, success) => {
          if (error || success !== true) return callback(error, success);
          // after authentication: only a client that may connect takes a session's place
          this.sessions.admit(client.id, client.clean).then(
            (verdict) => {
              if (verdict === 'admitted') return callback(null, true);
              refused('too_many_sessions', { clientId: maskClientId(client.id), max: limits.maxPersistentSessions });
              // [MQTT-3.2.2-5] CONNACK 3 "server unavailable", then close: 3.1.1 has no "quota exceeded", and
              // 4/5 would tell the device its credentials are wrong
              callback(Object.assign(new Error('too many persistent sessions'), { returnCode: 3 as const }), false);
            },
            (err: Error) => callback(Object.assign(err, { returnCode: 3 as const }), false),
          );
        }),
      authorizePublish: (client, packet, answer) => {
        // while a publish is being answered, aedes reads no further from its connection: not a stalled packet
        const conn = client?.conn as Duplex | undefined;
        if (conn) guard.busy(conn);
        const callback = (error?: Error | null) => {
          if (conn) guard.idle(conn);
          answer(error);
        };
        const verdict = client === null ? ({ action: 'pass' } as const) : throttle.verdict(client, packet.payload.length);
        if (verdict.action === 'pass') return this.options.authorizePublish(client, packet, callback);
        if (verdict.action === 'disconnect') {
          refused('rate_exceeded', { clientId: maskClientId(client?.id ?? null), wouldWaitMs: verdict.ms });
          return callback(new Error(`publish rate over mqtt.limits (would wait ${verdict.ms} ms)`)); // aedes disconnects the client
        }
        metrics.mqttThrottled.inc();
        const timer = setTimeout(() => {
          this.throttled.delete(timer);
          // the client left or the broker stopped meanwhile: nothing to answer, nothing to log
          if (conn?.destroyed || !this.listening) return callback(new Error('client gone while throttled'));
          this.options.authorizePublish(client, packet, callback);
        }, verdict.ms);
        this.throttled.set(timer, callback);
      },
      authorizeSubscribe: (client, sub: Subscription, callback) => {
        if (sub.topic.startsWith('$')) {
          // $SYS lists every client id and $storeloop/dropped holds what was refused: neither is for clients
          // (the broker's figures are on /metrics). Refused with SUBACK failure, the connection kept.
          refused('reserved_topic', { clientId: maskClientId(client.id), topic: sub.topic.slice(0, 80) });
          callback(null, null);
          return;
        }
        const who = this.options.authenticator.identityOf(client);
        const denial = who === undefined ? 'subscribe_not_allowed' : subscribeDenial(who.grant, this.options.topicPrefix, sub.topic);
        if (denial !== null) {
          metrics.mqttDenied.inc({ action: 'subscribe', reason: denial });
          alarms.warn(
            `denied-${denial}`,
            { clientId: maskClientId(client.id), identity: who?.name ?? null, topic: sub.topic.slice(0, 80), reason: denial },
            `MQTT subscription refused by the topic ACL: ${DENIAL_TEXT[denial]}`,
          );
          callback(null, null);
          return;
        }
        const held = (client as Client & { subscriptions?: Record<string, unknown> }).subscriptions ?? {};
        if (!subscriptionCap.allow(client, held, sub.topic)) {
          refused('too_many_subscriptions', { clientId: maskClientId(client.id) });
          callback(null, null); // aedes answers this topic with SUBACK failure (0x80) and keeps the connection
          return;
        }
        callback(null, sub);
      },
    });
    this.aedes = aedes;
    // aedes keeps its registered clients by id (aedes.js registerClient); its types do not declare the map
    const registered = (aedes as Aedes & { clients: Record<string, Client | undefined> }).clients;
    await this.sessions.start(persistence, (clientId) => registered[clientId] !== undefined);
    aedes.on('client', (client) => {
      metrics.mqttClients.inc({ transport: transportOf(client) });
      metrics.mqttConnections.inc({ transport: transportOf(client) });
      const certificateName = verifiedCertificateName(client);
      log.debug(
        {
          clientId: maskClientId(client.id),
          transport: transportOf(client),
          ...(certificateName === null ? {} : { certificateName: maskClientId(certificateName) }),
        },
        'client connected',
      );
    });
    aedes.on('clientDisconnect', (client) => {
      this.sessions.left(client.id, client.clean);
      metrics.mqttClients.dec({ transport: transportOf(client) });
      log.debug({ clientId: maskClientId(client.id) }, 'client disconnected');
    });
    const slowSubscribers = new WeakSet<Client>();
    aedes.on('clientError', (client, err) => {
      metrics.mqttClientErrors.inc();
      // aedes destroys the connection of a subscriber that did not drain in time (lib/client.js _handleDrainTimeout),
      // then reports the error once per delivery it had waiting: counted once per connection
      if (err.message === 'drain timeout' && !slowSubscribers.has(client)) {
        slowSubscribers.add(client);
        refused('slow_subscriber', { clientId: maskClientId(client.id), timeoutMs: limits.subscriberDrainTimeoutMs });
      }
      log.debug({ clientId: maskClientId(client.id), err: err.message }, 'client error');
    });
    aedes.on('connectionError', (_client, err) => {
      metrics.mqttClientErrors.inc();
      log.debug({ err: err.message }, 'connection error');
    });

    guard.start();
    this.options.authenticator.start();
    const acceptWebSocket = (ws: WebSocket, req: IncomingMessage, transport: 'ws' | 'wss') => {
      const stream = createWebSocketStream(ws);
      stream.on('error', (err: Error & { code?: string }) => {
        if (err.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH') refused('packet_too_large', { address: req.socket.remoteAddress, transport });
        else log.debug({ err: err.message }, 'websocket stream error');
      });
      if (guard.admit(stream, req.socket.remoteAddress ?? 'unknown')) aedes.handle(stream, req);
    };
    this.tcp = createTcpServer((socket) => {
      if (guard.admit(socket, socket.remoteAddress ?? 'unknown')) aedes.handle(socket);
    });
    await listen(this.tcp, this.options.port, this.options.host);
    if (this.options.wsPort !== null) {
      this.http = createHttpServer((_req, res) => {
        res.writeHead(426, { 'content-type': 'text/plain' }).end(`MQTT over WebSocket: connect to ${WS_PATH}\n`);
      });
      // a WebSocket frame over the packet limit is refused by ws itself before it is buffered
      this.wss = new WebSocketServer({ server: this.http, path: WS_PATH, maxPayload: maxPacketBytes + 5 });
      this.wss.on('connection', (ws, req) => acceptWebSocket(ws, req, 'ws'));
      await listen(this.http, this.options.wsPort, this.options.host);
    }
    await this.tls?.start({
      socket: (socket, address) => {
        if (guard.admit(socket, address)) aedes.handle(socket);
      },
      webSocket: (ws, req) => acceptWebSocket(ws, req, 'wss'),
      refused,
    });
    this.listening = true;
    log.info(
      { port: this.port, wsPort: this.wsPort, host: this.options.host, tlsPort: this.tlsPort, wssPort: this.wssPort, tlsHost: this.options.tls?.host },
      'MQTT broker listening',
    );
  }

  /** Stops accepting connections, then disconnects every client and closes the broker. */
  async stop(): Promise<void> {
    this.listening = false;
    this.guard?.stop();
    this.options.authenticator.stop();
    for (const [timer, callback] of this.throttled) {
      clearTimeout(timer);
      callback(new Error('the broker is stopping'));
    }
    this.throttled.clear();
    const closing: Promise<void>[] = [];
    if (this.tcp) closing.push(closeServer(this.tcp));
    if (this.wss) {
      for (const ws of this.wss.clients) ws.terminate();
      this.wss.close();
    }
    if (this.http) closing.push(closeServer(this.http));
    if (this.tls) closing.push(this.tls.stop());
    const aedes = this.aedes;
    if (aedes) await new Promise<void>((resolve) => aedes.close(() => resolve()));
    await this.sessions.stop();
    await Promise.all(closing);
    // aedes.close() leaves its persistence open: closing it here releases the state file's lock
    await this.persistence?.destroy();
    this.persistence = undefined;
  }

  /** Publishes on behalf of the gateway (bypasses authorizePublish). */
  publish(topic: string, payload: string | Buffer, options: { qos?: 0 | 1; retain?: boolean } = {}): Promise<void> {
    const aedes = this.aedes;
    if (!aedes) return Promise.reject(new Error('broker not started'));
    return new Promise((resolve, reject) =>
      aedes.publish({ cmd: 'publish', topic, payload: Buffer.from(payload), qos: options.qos ?? 0, retain: options.retain ?? false, dup: false }, (err) =>
        err ? reject(err) : resolve(),
      ),
    );
  }
}

function listen(server: TcpServer | HttpServer, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

function closeServer(server: TcpServer | HttpServer): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}
