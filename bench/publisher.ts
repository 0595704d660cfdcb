/**
 * One publisher process (spawned by the runner with an IPC channel): its own MQTT.js connection,
 * QoS 1, paced closed-loop (a window of unacknowledged publishes) or open-loop (a fixed rate, see
 * pacing.ts). Reports acks and PUBACK latencies, measured from each message's scheduled send time.
 *
 * Usage: node dist/bench/publisher.js '<PublisherSpec JSON>'
 */
import mqtt, { type MqttClient } from 'mqtt';
import { z } from 'zod';

import { failChild, listenToParent, MAX_REPORTED_ERRORS, sendToParent, type PublisherResult, type RunWindow } from './ipc.js';
import { createPacing, nowMs, PacingSpecSchema, type PacedSender, type Pacing } from './pacing.js';
import { LatencyHistogram } from './percentiles.js';
import { bleTopic, blePayload, encodeMid, publisherSensorIds, sightingsJson } from './traffic.js';

export const PublisherSpecSchema = z.object({
  publisher: z.number().int().min(0),
  url: z.string(),
  sightings: z.number().int().min(1).max(1000),
  pacing: PacingSpecSchema,
  drainTimeoutMs: z.number().int().min(0),
});
export type PublisherSpec = z.infer<typeof PublisherSpecSchema>;

const PROGRESS_EVERY_MS = 500;
/** Different sighting sets a publisher cycles through (beacon ids and RSSI vary between messages). */
const SIGHTING_SETS = 8;
/** Beacon numbers reserved per publisher, so no two publishers report the same beacons. */
const BEACONS_PER_PUBLISHER = 100_000;

class Publisher implements PacedSender {
  private readonly topics: string[];
  private readonly lastTs: number[];
  private readonly sightingSets: string[];
  private readonly puback = new LatencyHistogram();
  private readonly sendLag = new LatencyHistogram();
  private readonly errors: string[] = [];
  private seq = 0;
  private outstanding = 0;
  private sent = 0;
  private acked = 0;
  private ackedInWindow = 0;
  private scheduledInWindow = 0;
  private errorCount = 0;
  private disconnects = 0;
  private publishing = false;
  private window: RunWindow | undefined;
  private pacing: Pacing | undefined;
  private onDrained: (() => void) | undefined;

  constructor(
    private readonly spec: PublisherSpec,
    private readonly client: MqttClient,
  ) {
    this.topics = publisherSensorIds(spec.publisher).map(bleTopic);
    this.lastTs = this.topics.map(() => 0);
    this.sightingSets = Array.from({ length: SIGHTING_SETS }, (_, i) =>
      sightingsJson(spec.publisher * BEACONS_PER_PUBLISHER + i * spec.sightings, spec.sightings),
    );
    client.on('close', () => {
      this.disconnects++;
      this.noteError('connection closed');
      this.publishing = false;
      this.onDrained?.();
    });
    client.on('error', (err) => this.noteError(err.message));
  }

  get connected(): boolean {
    return this.client.connected;
  }

  /** Publishes not yet acknowledged. */
  get inflight(): number {
    return this.outstanding;
  }

  /** Publishes from startAt to endAt, drains, and resolves with the result. */
  async run(window: RunWindow): Promise<PublisherResult> {
    this.window = window;
    const pacing = createPacing(this.spec.pacing, this, window.startAtMs);
    this.pacing = pacing;
    const progress = setInterval(() => sendToParent({ type: 'progress', count: this.acked }), PROGRESS_EVERY_MS);
    await sleepUntil(window.startAtMs);
    this.publishing = true;
    pacing.start();
    await sleepUntil(window.endAtMs);
    this.publishing = false;
    const unsent = pacing.stop();
    this.recordUnsent(unsent);
    const drainStart = performance.now();
    await this.drain();
    clearInterval(progress);
    return {
      publisher: this.spec.publisher,
      sent: this.sent,
      acked: this.acked,
      ackedInWindow: this.ackedInWindow,
      scheduledInWindow: this.scheduledInWindow,
      missed: unsent.length,
      unacked: this.inflight,
      drainMs: performance.now() - drainStart,
      disconnects: this.disconnects,
      errorCount: this.errorCount,
      errors: this.errors,
      puback: this.puback.toJSON(),
      sendLag: this.sendLag.toJSON(),
    };
  }

  /** Publishes the next message; its PUBACK latency counts from `scheduledAtMs` when that is in the measured interval. */
  send(scheduledAtMs: number): void {
    const sentAtMs = nowMs();
    const measured = this.isMeasured(scheduledAtMs);
    if (measured) {
      this.scheduledInWindow++;
      if (this.spec.pacing.mode === 'open-loop') this.sendLag.record((sentAtMs - scheduledAtMs) * 1000);
    }
    const slot = this.seq % this.topics.length;
    const topic = this.topics[slot] as string; // slot < topics.length
    const ts = Math.max(Date.now(), (this.lastTs[slot] ?? 0) + 1);
    this.lastTs[slot] = ts;
    const mid = encodeMid(`p${this.spec.publisher}`, this.seq, Math.round(scheduledAtMs * 1000));
    const payload = blePayload(ts, mid, this.sightingSets[this.seq % SIGHTING_SETS] as string);
    this.seq++;
    this.sent++;
    this.outstanding++;
    this.client.publish(topic, payload, { qos: 1 }, (err) => {
      this.outstanding--;
      if (err) this.noteError(err.message);
      else this.recordAck(scheduledAtMs, measured);
      if (this.inflight === 0 && !this.publishing) this.onDrained?.();
      this.pacing?.onSettled();
    });
  }

  /**
   * Due messages never sent (the in-flight cap held them back) still count, with the time they had
   * waited when publishing stopped: a lower bound, so a server too slow to take them is not
   * measured only by the messages it did take (coordinated omission).
   */
  private recordUnsent(scheduledAtMs: number[]): void {
    const stoppedAtMs = nowMs();
    for (const at of scheduledAtMs) {
      if (!this.isMeasured(at)) continue;
      this.scheduledInWindow++;
      this.puback.record((stoppedAtMs - at) * 1000);
    }
  }

  private isMeasured(atMs: number): boolean {
    const window = this.window;
    return window !== undefined && atMs >= window.measureFromMs && atMs < window.endAtMs;
  }

  private recordAck(scheduledAtMs: number, measured: boolean): void {
    this.acked++;
    const now = nowMs();
    if (this.isMeasured(now)) this.ackedInWindow++; // throughput: acks that arrived in the interval
    if (measured) this.puback.record((now - scheduledAtMs) * 1000);
  }

  private drain(): Promise<void> {
    if (this.inflight === 0 || !this.client.connected) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(done, this.spec.drainTimeoutMs);
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
      this.onDrained = done;
    });
  }

  private noteError(message: string): void {
    this.errorCount++;
    if (this.errors.length < MAX_REPORTED_ERRORS) this.errors.push(message);
  }
}

function sleepUntil(epochMs: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, epochMs - Date.now())));
}

function connect(spec: PublisherSpec): Promise<MqttClient> {
  const clientId = `bench-p${spec.publisher}-${process.pid}`;
  const client = mqtt.connect(spec.url, { clientId, clean: true, reconnectPeriod: 0, connectTimeout: 10_000, keepalive: 60, protocolVersion: 4 });
  return new Promise((resolve, reject) => {
    client.once('connect', () => resolve(client));
    client.once('error', reject);
  });
}

async function main(): Promise<void> {
  const spec = PublisherSpecSchema.parse(JSON.parse(process.argv[2] ?? '') as unknown);
  const client = await connect(spec);
  const publisher = new Publisher(spec, client);
  listenToParent((message) => {
    if (message.type !== 'start') return;
    publisher.run(message.window).then(
      (result) => {
        client.end(true);
        sendToParent({ type: 'publisher-result', result }, () => process.exit(0));
      },
      (err: unknown) => failChild(err),
    );
  });
  sendToParent({ type: 'ready' });
}

main().catch(failChild);
