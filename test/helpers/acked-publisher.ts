/**
 * A store device as the proofs need it: a persistent-session MQTT client (clean session = false) that
 * publishes numbered touchpoint messages at QoS 1 through reconnects and keeps its own log of the
 * message ids the gateway acknowledged (PUBACK). MQTT.js keeps unacknowledged QoS 1 messages in its
 * outgoing store and sends them again after a reconnect.
 */
import mqtt, { type MqttClient } from 'mqtt';

export interface AckedPublisherOptions {
  url: string;
  clientId: string;
  /** Messages to publish in all. */
  count: number;
  /** Unacknowledged publishes at most. */
  window: number;
  /** Delay between publishes, to spread the load over the test. */
  intervalMs?: number;
  touchpoint?: string;
  qos?: 0 | 1;
}

export class AckedPublisher {
  readonly acked = new Set<string>();
  readonly sentAt = new Map<string, number>();
  private client: MqttClient | undefined;
  private sent = 0;
  private inFlight = 0;
  private done: Promise<void> | undefined;
  private stopped = false;
  private lastTs = 0;

  constructor(private readonly options: AckedPublisherOptions) {}

  /** Publishes until every message is acknowledged (or stop()); resolves when all are acked. */
  run(): Promise<void> {
    this.done ??= new Promise<void>((resolve, reject) => {
      const { url, clientId, count, window, intervalMs = 0, touchpoint = 'kiosk-1', qos = 1 } = this.options;
      const client = mqtt.connect(url, { clientId, clean: false, reconnectPeriod: 100, connectTimeout: 2000, keepalive: 10, resubscribe: false });
      this.client = client;
      client.on('error', () => undefined); // connection refused while the gateway restarts: it reconnects
      const topic = `storeloop/demo-store/touchpoint/${touchpoint}`;
      const pump = () => {
        while (!this.stopped && this.sent < count && this.inFlight < window) {
          const mid = `${clientId}-${this.sent++}`;
          // one device, one message per millisecond at most, as real sources send (docs/schema.md)
          const ts = Math.max(Date.now(), this.lastTs + 1);
          this.lastTs = ts;
          this.sentAt.set(mid, ts);
          this.inFlight++;
          client.publish(topic, JSON.stringify({ ts, mid, action: 'tap', label: mid }), { qos }, (err) => {
            this.inFlight--;
            if (!err) this.acked.add(mid);
            if (this.acked.size === count) resolve();
            else if (intervalMs > 0) setTimeout(pump, intervalMs);
            else setImmediate(pump);
          });
          if (intervalMs > 0) break;
        }
      };
      client.on('connect', () => pump());
      client.once('close', () => {
        if (this.stopped) reject(new Error('stopped'));
      });
    });
    return this.done;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.client?.endAsync(true);
  }
}
