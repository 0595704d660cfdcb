import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterEach, describe, expect, it } from 'vitest';

import { ConfigSchema, DEMO_STORE, DEMO_STORE_ID } from '../../config/index.js';
import { createLogger } from '../../lib/logger.js';
import { CustomerTokenVault } from '../identity/customer-tokens.js';
import { LiveState } from '../live/live-state.js';
import { EventLog, LogFullError, type LogConsumer } from '../log/event-log.js';
import { touchpointEntry } from '../log/log-entry.fixtures.js';
import { MessageIndex } from '../log/message-index.js';
import { GatewayMetrics } from '../metrics.js';
import { IngestPipeline, type IngestOutcome } from './ingest-pipeline.js';
import { Ledger } from './ledger.js';
import { RejectionLog } from './rejection.js';
import { StoreDirectory } from './store-directory.js';

const log = createLogger('silent');
const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A pipeline over a real event log, message index and identity vault in a temp dir; the log holds 8 KiB and never waits for room. */
async function startPipeline() {
  const dir = await mkdtemp(join(tmpdir(), 'storeloop-ingest-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  const config = ConfigSchema.parse({ stores: [DEMO_STORE], state: { dir } });
  const eventLog = new EventLog({ dir: join(dir, 'log'), quotaBytes: 8 * 1024, segmentBytes: 4096, replayRetentionMs: 0, backpressureHoldMs: 0, log });
  await eventLog.open();
  cleanups.push(() => eventLog.close());
  const index = new MessageIndex({ file: join(dir, 'message-index.sqlite'), dedupWindowMs: 60_000, log });
  index.open();
  cleanups.push(() => index.close());
  const customerTokens = new CustomerTokenVault(join(dir, 'identity.sqlite'));
  customerTokens.open();
  cleanups.push(() => customerTokens.close());
  const metrics = new GatewayMetrics({ processMetrics: false });
  const live = new LiveState(config.stores);
  const rejections = new RejectionLog(10);
  const pipeline = new IngestPipeline({
    config,
    directory: StoreDirectory.fromConfig(config),
    eventLog,
    index,
    customerTokens,
    metrics,
    log,
    ledger: new Ledger(metrics.registry),
    live,
    rejections,
  });
  /** A consumer that holds back ingest (like the InfluxDB sink), at the position the test sets. */
  const sink: LogConsumer & { position: number } = { name: 'influx-like', holdsBackIngest: true, position: 0, durablePosition: () => sink.position };
  eventLog.addConsumer(sink);
  return { pipeline, eventLog, live, sink, rejections };
}

const footfall = (live: LiveState) => live.snapshot()[0]?.footfall;

function publishPeopleCount(pipeline: IngestPipeline, mid: string, people: { in: number; out: number }): IngestOutcome {
  const receivedAt = Date.now();
  const payload = Buffer.from(JSON.stringify({ ts: receivedAt, mid, event: { type: 'people_count', ...people } }));
  return pipeline.handle({ topic: `storeloop/${DEMO_STORE_ID}/device/counter-door`, payload, clientId: 'counter', receivedAt, qos: 1 });
}

async function logged(outcome: IngestOutcome): Promise<number> {
  if (outcome.status !== 'accepted' && outcome.status !== 'duplicate') throw new Error(`expected an accepted message, got ${outcome.status}`);
  return outcome.logged;
}

describe('IngestPipeline and the live state', () => {
  it('counts a people count only once its append to the event log has resolved', async () => {
    const { pipeline, live } = await startPipeline();
    const outcome = publishPeopleCount(pipeline, 'pc-1', { in: 3, out: 1 });
    expect(outcome.status).toBe('accepted');
    expect(footfall(live)).toEqual({ in: 0, out: 0 }); // accepted, not yet durable
    await logged(outcome);
    expect(footfall(live)).toEqual({ in: 3, out: 1 });
    expect(live.snapshot()[0]?.messages.device).toBe(1);
  });

  it('counts a people count the full log refused, and that was then resent, once', async () => {
    const { pipeline, eventLog, live, sink } = await startPipeline();
    for (let i = 0; !eventLog.status().full; i++) await eventLog.append(touchpointEntry(i)).catch(() => undefined);

    const refused = publishPeopleCount(pipeline, 'pc-2', { in: 2, out: 0 });
    await expect(logged(refused)).rejects.toBeInstanceOf(LogFullError);
    expect(footfall(live)).toEqual({ in: 0, out: 0 });

    sink.position = eventLog.head; // the sink catches up: the log has room again
    await eventLog.applyRetention();
    const resent = publishPeopleCount(pipeline, 'pc-2', { in: 2, out: 0 });
    expect(resent.status).toBe('accepted'); // a refused append is forgotten: the resend is new
    await logged(resent);
    expect(footfall(live)).toEqual({ in: 2, out: 0 });
    expect(live.snapshot()[0]?.messages.device).toBe(1);
  });

  it('never counts a duplicate, whether it arrives while the first copy is appended or after', async () => {
    const { pipeline, live } = await startPipeline();
    const first = publishPeopleCount(pipeline, 'pc-3', { in: 1, out: 1 });
    const during = publishPeopleCount(pipeline, 'pc-3', { in: 1, out: 1 });
    expect(during.status).toBe('duplicate');
    expect(await logged(during)).toBe(await logged(first));
    const after = publishPeopleCount(pipeline, 'pc-3', { in: 1, out: 1 });
    expect(after.status).toBe('duplicate');
    await logged(after);
    expect(footfall(live)).toEqual({ in: 1, out: 1 });
    expect(live.snapshot()[0]?.messages.device).toBe(1);
  });
});

describe('IngestPipeline rejections that teach', () => {
  function publish(pipeline: IngestPipeline, topic: string, message: object): IngestOutcome {
    return pipeline.handle({ topic, payload: Buffer.from(JSON.stringify(message)), clientId: 'teach', receivedAt: Date.now(), qos: 1 });
  }

  it('refuses a ts in epoch seconds as too old, saying that ts is epoch milliseconds', async () => {
    const { pipeline, rejections } = await startPipeline();
    const outcome = publish(pipeline, `storeloop/${DEMO_STORE_ID}/touchpoint/kiosk-1`, { ts: 1_700_000_000, action: 'tap' });
    expect(outcome).toEqual({
      status: 'rejected',
      rejection: {
        reason: 'ts_too_old',
        detail:
          "ts is epoch milliseconds: 1700000000 looks like epoch seconds (send 1700000000000); as milliseconds it is 1970-01-20T16:13:20.000Z, more than 604800 s before the gateway's clock",
      },
    });
    expect(rejections.list(1)[0]).toMatchObject({ reason: 'ts_too_old', detail: expect.stringMatching(/^ts is epoch milliseconds: /) });
    // a ts that is simply old keeps its plain detail
    const old = publish(pipeline, `storeloop/${DEMO_STORE_ID}/touchpoint/kiosk-1`, { ts: Date.now() - 30 * 86_400_000, action: 'tap' });
    expect(old).toMatchObject({
      rejection: { reason: 'ts_too_old', detail: expect.stringMatching(/^ts \d{4}-.* is more than 604800 s before the gateway's clock$/) },
    });
  });

  it('refuses a MAC address as source id, saying why, and keeps the address out of the rejection', async () => {
    const { pipeline, rejections } = await startPipeline();
    for (const [mac, reason] of [
      ['00:00:5e:00:53:01', 'topic_invalid'],
      ['00-00-5e-00-53-01', 'source_unknown'],
    ] as const) {
      const outcome = publish(pipeline, `storeloop/${DEMO_STORE_ID}/wifi/${mac}`, { ts: Date.now(), observations: [] });
      expect(outcome, mac).toMatchObject({
        status: 'rejected',
        rejection: { reason, detail: expect.stringMatching(/^the source id is a MAC address: device ids are personal data; pseudonymise at the source/) },
      });
      expect(JSON.stringify(outcome), mac).not.toContain(mac);
      expect(JSON.stringify(rejections.list(1)), mac).not.toContain(mac);
    }
  });
});

describe('IngestPipeline and retained messages', () => {
  it('passes on a retained zero-byte message as the clear of a known topic, and refuses an empty message that is not retained', async () => {
    const { pipeline, rejections } = await startPipeline();
    const topic = `storeloop/${DEMO_STORE_ID}/status/kiosk-1`;
    const clear = pipeline.handle({ topic, payload: Buffer.alloc(0), clientId: 'kiosk-1', receivedAt: Date.now(), qos: 1, retain: true });
    expect(clear).toEqual({ status: 'forwarded', storeId: DEMO_STORE_ID });
    const empty = pipeline.handle({ topic, payload: Buffer.alloc(0), clientId: 'kiosk-1', receivedAt: Date.now(), qos: 1 });
    expect(empty).toMatchObject({ status: 'rejected', rejection: { reason: 'json_invalid' } });
    const unknown = pipeline.handle({
      topic: `storeloop/${DEMO_STORE_ID}/status/nobody`,
      payload: Buffer.alloc(0),
      clientId: 'x',
      receivedAt: Date.now(),
      qos: 1,
      retain: true,
    });
    expect(unknown).toMatchObject({ status: 'rejected', rejection: { reason: 'source_unknown' } });
    expect(rejections.list().map((r) => r.reason)).toEqual(['source_unknown', 'json_invalid']);
  });
});

describe('IngestPipeline and hostile payloads', () => {
  const touchpointTopic = `storeloop/${DEMO_STORE_ID}/touchpoint/kiosk-1`;
  const handle = (pipeline: IngestPipeline, topic: string, payload: Buffer) =>
    pipeline.handle({ topic, payload, clientId: 'kiosk-1', receivedAt: Date.now(), qos: 1 });

  it('refuses a payload that is not valid UTF-8, says so, and logs nothing', async () => {
    const { pipeline, eventLog, rejections } = await startPipeline();
    const head = eventLog.head;
    // a label whose bytes were cut mid-character (0xc3 without its second byte), and a lone 0xff
    const valid = `{"ts":${Date.now()},"action":"tap","label":"caf`;
    for (const bad of [Buffer.from([0xc3]), Buffer.from([0xff])]) {
      const outcome = handle(pipeline, touchpointTopic, Buffer.concat([Buffer.from(valid), bad, Buffer.from('"}')]));
      expect(outcome).toEqual({
        status: 'rejected',
        rejection: { reason: 'json_invalid', detail: 'the payload is not valid UTF-8 (JSON text is UTF-8, RFC 8259 §8.1)' },
      });
    }
    expect(rejections.list().map((r) => r.reason)).toEqual(['json_invalid', 'json_invalid']);
    expect(rejections.list(1)[0]?.excerpt).toContain('"action":"tap"');
    expect(eventLog.head).toBe(head);
  });

  it('refuses __proto__, constructor and prototype keys at any depth, says which, and logs nothing', async () => {
    const { pipeline, eventLog, rejections } = await startPipeline();
    const head = eventLog.head;
    const ts = Date.now();
    const payloads: Array<[string, string]> = [
      [touchpointTopic, `{"ts":${ts},"action":"tap","__proto__":{"polluted":true}}`],
      [
        `storeloop/${DEMO_STORE_ID}/device/counter-door`,
        `{"ts":${ts},"event":{"type":"people_count","in":1,"out":0,"constructor":{"prototype":{"polluted":true}}}}`,
      ],
      [touchpointTopic, `{"ts":${ts},"action":"tap","label":"x","extra":[{"prototyp\\u0065":1}]}`],
    ];
    for (const [topic, text] of payloads) {
      const outcome = handle(pipeline, topic, Buffer.from(text));
      expect(outcome, text).toMatchObject({
        status: 'rejected',
        rejection: { reason: 'schema_invalid', detail: expect.stringMatching(/^a '(__proto__|constructor|prototype)' key \(at depth \d\)/) },
      });
    }
    expect(rejections.list().map((r) => r.reason)).toEqual(['schema_invalid', 'schema_invalid', 'schema_invalid']);
    expect(eventLog.head).toBe(head);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});
