/**
 * The simulator's MQTT connection (MQTT.js over TCP or WebSocket): connects with a retained `offline`
 * last will, publishes with a bounded window of unacknowledged messages so a fast run cannot pile up
 * memory, and drains before it disconnects.
 */
import mqtt, { type MqttClient } from 'mqtt';

import { SimulationConnectError, SimulationPublishError } from './errors.js';

export interface Will {
  topic: string;
  payload: string;
  qos: 0 | 1;
  retain: boolean;
}

export interface PublisherOptions {
  /** mqtt://host:port or ws://host:port/mqtt */
  url: string;
  /** The identity to log in as (a publisher of the store: `storeloop credentials add --role publisher`); default: the URL's user info, or none. */
  login?: { username: string; password: string } | undefined;
  clientId: string;
  will?: Will;
  /** Unacknowledged QoS 1 publishes (or unwritten QoS 0 ones) at most. */
  maxInFlight: number;
  connectTimeoutMs: number;
  /** How long the connection may stay lost (MQTT.js reconnecting) before the run fails. */
  reconnectGiveUpMs: number;
  /** Lifecycle lines (connection lost, reconnected). */
  log: (line: string) => void;
}

export const DEFAULT_MAX_IN_FLIGHT = 500;
export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
export const DEFAULT_RECONNECT_GIVE_UP_MS = 30_000;

/** One MQTT connection; `start()` connects, `stop()` drains and disconnects cleanly (no will). */
export class MqttPublisher {
  private client: MqttClient | undefined;
  private inFlight = 0;
  private failure: Error | undefined;
  private waiters: Array<() => void> = [];
  private giveUpTimer: NodeJS.Timeout | undefined;
  /** Publishes the broker acknowledged (QoS 1) or that were written (QoS 0). */
  completed = 0;

  constructor(private readonly options: PublisherOptions) {}

  /** Connects; rejects with SimulationConnectError when the broker refuses or cannot be reached in time. */
  async start(): Promise<void> {
    const { url, clientId, will, connectTimeoutMs, login } = this.options;
    const client = mqtt.connect(url, {
      clientId,
      ...(login ? { username: login.username, password: login.password } : {}),
      clean: true,
      connectTimeout: connectTimeoutMs,
      reconnectPeriod: 1000,
      ...(will ? { will: { topic: will.topic, payload: Buffer.from(will.payload), qos: will.qos, retain: will.retain } } : {}),
    });
    this.client = client;
    try {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no CONNACK within ${connectTimeoutMs} ms`)), connectTimeoutMs);
        const done = (err?: Error) => {
          clearTimeout(timer);
          client.off('connect', onConnect);
          client.off('error', onError);
          if (err) reject(err);
          else resolve();
        };
        const onConnect = () => done();
        const onError = (err: Error) => done(err);
        client.on('connect', onConnect);
        client.on('error', onError);
      });
    } catch (err) {
      client.end(true);
      this.client = undefined;
      throw new SimulationConnectError(`cannot connect to ${url}: ${(err as Error).message}`, { cause: err, context: { url, clientId } });
    }
    this.watchConnection(client);
  }

  /**
   * After the first connect MQTT.js reconnects on its own and resends unacknowledged QoS 1 publishes,
   * so a lost connection is only logged; it fails the run when it stays lost for reconnectGiveUpMs.
   */
  private watchConnection(client: MqttClient): void {
    const { url, reconnectGiveUpMs, log } = this.options;
    client.on('error', (err) => log(`simulate: MQTT error from ${url}: ${err.message}`));
    client.on('close', () => {
      if (this.giveUpTimer || this.client !== client) return;
      log(`simulate: connection to ${url} lost, reconnecting`);
      this.giveUpTimer = setTimeout(() => this.fail(new Error(`connection lost for ${reconnectGiveUpMs} ms`)), reconnectGiveUpMs);
    });
    client.on('connect', () => {
      if (!this.giveUpTimer) return;
      clearTimeout(this.giveUpTimer);
      this.giveUpTimer = undefined;
      log(`simulate: reconnected to ${url}`);
    });
  }

  /** Hands a message to the client; waits first while the window is full. */
  async publish(topic: string, body: string, qos: 0 | 1, retain: boolean): Promise<void> {
    while (this.inFlight >= this.options.maxInFlight && !this.failure) await new Promise<void>((resolve) => this.waiters.push(resolve));
    this.throwIfFailed();
    const client = this.requireClient();
    this.inFlight += 1;
    client.publish(topic, body, { qos, retain }, (err) => {
      this.inFlight -= 1;
      if (err) this.fail(err);
      else this.completed += 1;
      this.wake();
    });
  }

  /** Waits until every publish handed over so far is acknowledged (QoS 1) or written (QoS 0). */
  async drain(): Promise<void> {
    while (this.inFlight > 0 && !this.failure) await new Promise<void>((resolve) => this.waiters.push(resolve));
    this.throwIfFailed();
  }

  /** Disconnects cleanly (the broker then drops the will); `force` skips waiting for in-flight publishes. */
  async stop(force = false): Promise<void> {
    const client = this.client;
    if (!client) return;
    this.client = undefined;
    clearTimeout(this.giveUpTimer);
    this.giveUpTimer = undefined;
    await new Promise<void>((resolve) => client.end(force, {}, () => resolve()));
  }

  get pending(): number {
    return this.inFlight;
  }

  private fail(err: Error): void {
    // a refused CONNACK on reconnect or a publish the client gave up on: the run cannot be trusted any more
    this.failure ??= new SimulationPublishError(`publishing to ${this.options.url} failed: ${err.message}`, {
      cause: err,
      context: { url: this.options.url, completed: this.completed, inFlight: this.inFlight },
    });
    this.wake();
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }

  private throwIfFailed(): void {
    if (this.failure) throw this.failure;
  }

  private requireClient(): MqttClient {
    if (!this.client) throw new SimulationPublishError('publish before start() or after stop()', { context: { url: this.options.url } });
    return this.client;
  }
}
