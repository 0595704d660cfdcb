/**
 * The reference scenario's subscriber process: subscribes at QoS 1, counts deliveries and records
 * publish→delivery latency from the send time each publisher put in the message id.
 *
 * Usage: node dist/bench/subscriber.js '<SubscriberSpec JSON>'
 */
import mqtt, { type MqttClient } from 'mqtt';
import { z } from 'zod';

import { failChild, listenToParent, MAX_REPORTED_ERRORS, sendToParent, type RunWindow, type SubscriberResult } from './ipc.js';
import { epochMicros, LatencyHistogram } from './percentiles.js';
import { sentMicrosOf } from './traffic.js';

export const SubscriberSpecSchema = z.object({
  url: z.string(),
  topicFilter: z.string(),
});
export type SubscriberSpec = z.infer<typeof SubscriberSpecSchema>;

const PROGRESS_EVERY_MS = 500;

class Subscriber {
  private readonly delivery = new LatencyHistogram();
  private readonly errors: string[] = [];
  private received = 0;
  private receivedInWindow = 0;
  private errorCount = 0;
  private disconnects = 0;
  private window: RunWindow | undefined;

  constructor(client: MqttClient) {
    client.on('message', (_topic, payload) => this.onMessage(payload));
    client.on('close', () => {
      this.disconnects++;
      this.noteError('connection closed');
    });
    client.on('error', (err) => this.noteError(err.message));
    setInterval(() => sendToParent({ type: 'progress', count: this.received }), PROGRESS_EVERY_MS).unref();
  }

  start(window: RunWindow): void {
    this.window = window;
  }

  result(): SubscriberResult {
    return {
      received: this.received,
      receivedInWindow: this.receivedInWindow,
      disconnects: this.disconnects,
      errorCount: this.errorCount,
      errors: this.errors,
      delivery: this.delivery.toJSON(),
    };
  }

  private onMessage(payload: Buffer): void {
    this.received++;
    const nowUs = epochMicros();
    const window = this.window;
    const nowMs = nowUs / 1000;
    if (window === undefined || nowMs < window.measureFromMs || nowMs >= window.endAtMs) return;
    const sentUs = sentMicrosOf(payload.toString('utf8'));
    if (sentUs === undefined) {
      this.noteError('a message without a send time in its mid');
      return;
    }
    this.receivedInWindow++;
    this.delivery.record(nowUs - sentUs);
  }

  private noteError(message: string): void {
    this.errorCount++;
    if (this.errors.length < MAX_REPORTED_ERRORS) this.errors.push(message);
  }
}

async function connectAndSubscribe(spec: SubscriberSpec): Promise<MqttClient> {
  const client = mqtt.connect(spec.url, {
    clientId: `bench-sub-${process.pid}`,
    clean: true,
    reconnectPeriod: 0,
    connectTimeout: 10_000,
    keepalive: 60,
    protocolVersion: 4,
  });
  await new Promise<void>((resolve, reject) => {
    client.once('connect', () => resolve());
    client.once('error', reject);
  });
  await client.subscribeAsync(spec.topicFilter, { qos: 1 });
  return client;
}

async function main(): Promise<void> {
  const spec = SubscriberSpecSchema.parse(JSON.parse(process.argv[2] ?? '') as unknown);
  const client = await connectAndSubscribe(spec);
  const subscriber = new Subscriber(client);
  listenToParent((message) => {
    if (message.type === 'start') subscriber.start(message.window);
    if (message.type === 'stop') {
      const result = subscriber.result();
      client.end(true);
      sendToParent({ type: 'subscriber-result', result }, () => process.exit(0));
    }
  });
  sendToParent({ type: 'ready' });
}

main().catch(failChild);
