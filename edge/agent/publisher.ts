/**
 * The agent's link to the gateway (MQTT.js, QoS 1): drains the queue oldest first with a window of
 * unacknowledged publishes and a token-bucket rate, settles each record in the queue on its PUBACK
 * (the queue acks its spool up to the contiguous settled prefix), and publishes the agent's retained
 * `status`, with a retained last will `{"state":"offline"}` that the gateway stamps on arrival.
 *
 * Live messages go through the queue too, so the order on the wire is queue order: after an outage
 * the backlog goes first, at `replayRatePerS`, and live messages follow behind it.
 *
 * Outages: MQTT.js keeps unacknowledged QoS 1 publishes in its outgoing store and sends them again
 * after it reconnects (before it emits `connect`), and their callbacks fire on the PUBACK then; the
 * reconnect delay doubles from reconnectMinMs to reconnectMaxMs. A publish that fails outright is
 * sent again by this module. If the process dies, the queue still holds everything not settled, and
 * the next run sends it again with the same mid; the gateway recognises the replay.
 */
import { EventEmitter } from 'node:events';

import mqtt, { type MqttClient } from 'mqtt';

import { buildConfigTopic, buildTopic } from '../../protocol/index.js';
import type { Logger } from '../../lib/logger.js';
import { RateLimitedLog } from '../../lib/rate-limited-log.js';
import { withTimeout } from '../../lib/with-timeout.js';
import type { EdgeQueue, OutgoingMessage } from '../queue/edge-queue.js';
import type { GatewayLinkConfig } from './config-schema.js';
import type { AgentStatus } from './status-report.js';
import { TokenBucket } from '../../lib/token-bucket.js';

const stopTimedOut = (): Error => new Error(`timed out after ${STOP_END_MS} ms`);

export interface PublisherOptions {
  link: GatewayLinkConfig;
  agentId: string;
  storeId: string;
  queue: EdgeQueue;
  log: Logger;
  /** The status to publish now (retained). */
  status: () => AgentStatus;
  /** Called with every message on the agent's config topic; null: no subscription. */
  onConfig: ((payload: Buffer) => void) | null;
}

export interface PublisherLimits {
  inflightWindow: number;
  replayRatePerS: number;
}

export interface PublisherStats {
  connected: boolean;
  inflight: number;
  connects: number;
  published: number;
}

interface PublisherEvents {
  connected: [];
  disconnected: [];
}

/** How long stop() waits for outstanding PUBACKs before it disconnects (what is left is re-sent next run). */
const STOP_DRAIN_MS = 2000;
const STOP_END_MS = 1000;
const READ_RETRY_MS = 1000;
export const OFFLINE_STATUS = JSON.stringify({ state: 'offline' });

export class Publisher extends EventEmitter<PublisherEvents> {
  private client: MqttClient | null = null;
  private log: Logger;
  private readonly warnings: RateLimitedLog;
  private limits: PublisherLimits;
  private readonly bucket: TokenBucket;
  private readonly statusTopic: string;
  private readonly configTopic: string;
  /** Published, PUBACK outstanding, by seq. */
  private readonly inflight = new Map<number, OutgoingMessage>();
  /** Publishes that failed outright, to send again first, in seq order. */
  private retry: OutgoingMessage[] = [];
  private connectedNow = false;
  private stopping = false;
  private pumping = false;
  private pumpAgain = false;
  private tokenTimer: NodeJS.Timeout | null = null;
  private retryTimer: NodeJS.Timeout | null = null;
  private statusInFlight = false;
  private reconnectMs: number;
  private connects = 0;
  private published = 0;
  private readonly onAppended = () => this.pump();

  /** Stores the options; nothing connects before start(). */
  constructor(private readonly options: PublisherOptions) {
    super();
    this.log = options.log;
    this.warnings = new RateLimitedLog(options.log, 30_000);
    this.limits = { inflightWindow: options.link.inflightWindow, replayRatePerS: options.link.replayRatePerS };
    this.bucket = new TokenBucket(this.limits.replayRatePerS, this.limits.inflightWindow);
    this.statusTopic = buildTopic(options.link.topicPrefix, { storeId: options.storeId, kind: 'status', sourceId: options.agentId });
    this.configTopic = buildConfigTopic(options.link.topicPrefix, options.storeId, options.agentId);
    this.reconnectMs = options.link.reconnectMinMs;
  }

  /** Starts connecting (in the background: the agent queues while the gateway is away) and draining. */
  start(): void {
    this.log = this.options.log.child({ module: 'publisher' });
    const { link, agentId } = this.options;
    const client = mqtt.connect(link.url, {
      clientId: `storeloop-edge-${agentId}`,
      // the queue is the durable session: a clean broker session is enough
      clean: true,
      protocolVersion: 4,
      keepalive: link.keepaliveS,
      connectTimeout: link.connectTimeoutMs,
      reconnectPeriod: link.reconnectMinMs,
      resubscribe: false,
      username: link.username,
      password: link.password,
      // mqtts:// and wss://: the store's CA, and the agent's certificate when the gateway asks for one
      ...(link.ca === undefined ? {} : { ca: link.ca }),
      ...(link.cert === undefined || link.key === undefined ? {} : { cert: link.cert, key: link.key }),
      will: { topic: this.statusTopic, payload: Buffer.from(OFFLINE_STATUS), qos: 1, retain: true },
    });
    this.client = client;
    client.on('connect', () => this.onConnect());
    client.on('close', () => this.onClose());
    client.on('error', (err) =>
      this.warnings.warn('error', { err: { message: err.message, code: (err as NodeJS.ErrnoException).code } }, 'gateway connection error'),
    );
    client.on('message', (topic, payload) => {
      if (topic === this.configTopic) this.options.onConfig?.(payload);
    });
    this.options.queue.on('appended', this.onAppended);
  }

  get connected(): boolean {
    return this.connectedNow;
  }

  /** Changes the window and the rate (remote config). */
  setLimits(limits: PublisherLimits): void {
    this.limits = { ...limits };
    this.bucket.reset(limits.replayRatePerS, limits.inflightWindow);
    this.pump();
  }

  stats(): PublisherStats {
    return { connected: this.connectedNow, inflight: this.inflight.size, connects: this.connects, published: this.published };
  }

  /** Publishes the current status, retained, unless the previous one still waits for its PUBACK. */
  publishStatus(): void {
    const client = this.client;
    if (client === null || !this.connectedNow || this.statusInFlight || this.stopping) return;
    this.statusInFlight = true;
    client.publish(this.statusTopic, JSON.stringify(this.options.status()), { qos: 1, retain: true }, (err) => {
      this.statusInFlight = false;
      if (err) this.warnings.warn('status', { err: { message: err.message } }, 'status publish failed');
    });
  }

  /**
   * Waits up to 2 s for outstanding PUBACKs, publishes `offline` (retained: a clean disconnect sends
   * no will [MQTT-3.14.4-3]) and disconnects. Whatever is not acknowledged stays queued for the next run.
   */
  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    this.options.queue.off('appended', this.onAppended);
    if (this.tokenTimer !== null) clearTimeout(this.tokenTimer);
    if (this.retryTimer !== null) clearTimeout(this.retryTimer);
    const client = this.client;
    if (client === null) return;
    if (this.connectedNow) {
      await waitFor(() => this.inflight.size === 0, STOP_DRAIN_MS);
      await withTimeout(this.options.queue.flushAcks(), STOP_END_MS, stopTimedOut).catch(() => undefined);
      await withTimeout(
        client.publishAsync(this.statusTopic, JSON.stringify({ ...this.options.status(), state: 'offline' }), { qos: 1, retain: true }),
        STOP_END_MS,
        stopTimedOut,
      ).catch(() => undefined);
    }
    const ended = await withTimeout(client.endAsync(false), STOP_END_MS, stopTimedOut).then(
      () => true,
      () => false,
    );
    if (!ended) await client.endAsync(true);
    this.log.info({ inflight: this.inflight.size, published: this.published }, 'publisher stopped');
  }

  private onConnect(): void {
    this.connectedNow = true;
    this.connects += 1;
    this.reconnectMs = this.options.link.reconnectMinMs;
    this.setReconnectPeriod(this.reconnectMs);
    this.log.info({ url: redactUrl(this.options.link.url), connects: this.connects, inflight: this.inflight.size }, 'connected to the gateway');
    if (this.options.onConfig !== null) {
      this.client?.subscribe(this.configTopic, { qos: 1 }, (err) => {
        if (err) this.warnings.warn('subscribe', { err: { message: err.message }, topic: this.configTopic }, 'config subscription refused');
      });
    }
    this.publishStatus();
    this.emit('connected');
    this.pump();
  }

  private onClose(): void {
    const wasConnected = this.connectedNow;
    this.connectedNow = false;
    if (this.stopping) return;
    // MQTT.js reads reconnectPeriod when it schedules the next attempt: this sets the one after it
    this.reconnectMs = Math.min(this.options.link.reconnectMaxMs, this.reconnectMs * 2);
    this.setReconnectPeriod(Math.round(this.reconnectMs * (0.8 + 0.4 * Math.random())));
    if (wasConnected) {
      this.log.warn({ inflight: this.inflight.size, depth: this.options.queue.stats().depth }, 'gateway connection lost: queueing');
      this.emit('disconnected');
    }
  }

  private setReconnectPeriod(ms: number): void {
    if (this.client !== null) this.client.options.reconnectPeriod = ms;
  }

  /** Drains the queue while connected and the window and the rate allow; coalesces concurrent calls. */
  private pump(): void {
    if (this.pumping) {
      this.pumpAgain = true;
      return;
    }
    this.pumping = true;
    this.drain()
      .catch((err: unknown) => {
        this.log.error({ err }, 'queue read failed: retrying in 1 s');
        this.retryTimer ??= setTimeout(() => {
          this.retryTimer = null;
          this.pump();
        }, READ_RETRY_MS);
      })
      .finally(() => {
        this.pumping = false;
        if (this.pumpAgain) {
          this.pumpAgain = false;
          this.pump();
        }
      });
  }

  private async drain(): Promise<void> {
    while (this.connectedNow && !this.stopping) {
      const room = Math.min(this.limits.inflightWindow - this.inflight.size, this.bucket.available());
      if (room <= 0) {
        if (this.inflight.size < this.limits.inflightWindow) this.waitForTokens();
        return;
      }
      const batch = this.retry.length > 0 ? this.retry.splice(0, room) : await this.options.queue.take(room);
      if (batch.length === 0) return;
      for (const message of batch) this.send(message);
    }
  }

  private waitForTokens(): void {
    if (this.tokenTimer !== null) return;
    this.tokenTimer = setTimeout(
      () => {
        this.tokenTimer = null;
        this.pump();
      },
      Math.max(1, this.bucket.msUntilNext()),
    );
  }

  private send(message: OutgoingMessage): void {
    const client = this.client;
    if (client === null) return;
    this.bucket.take();
    this.inflight.set(message.seq, message);
    client.publish(message.topic, message.payload, { qos: 1, retain: message.retain }, (err) => {
      if (this.inflight.get(message.seq) !== message) return;
      this.inflight.delete(message.seq);
      if (err) {
        // left for the next run when stopping; otherwise sent again, in seq order, before new records
        if (!this.stopping) {
          this.retry.push(message);
          this.retry.sort((a, b) => a.seq - b.seq);
          this.warnings.warn('publish', { err: { message: err.message } }, 'publish failed: sending again');
        }
      } else {
        this.published += 1;
        this.options.queue.settle(message.seq);
      }
      this.pump();
    });
  }
}

function redactUrl(url: string): string {
  return url.replace(/\/\/[^@/]*@/, '//');
}

function waitFor(done: () => boolean, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  return new Promise((resolve) => {
    const check = () => {
      if (done() || Date.now() >= until) resolve();
      else setTimeout(check, 20);
    };
    check();
  });
}
