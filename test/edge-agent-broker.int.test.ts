/**
 * The edge agent in-process against a real MQTT broker (aedes on loopback): ingress → on-disk queue
 * → QoS 1 publishes in queue order with their mid and original event time, through broker outages;
 * retained status; remote config applied or refused at runtime; a torn queue tail set aside.
 */
import { mkdtemp, readdir, rm, stat, truncate } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterEach, describe, expect, it } from 'vitest';

import { freePort } from '../devtools/free-port.js';
import { EdgeTestBroker } from './helpers/edge-broker.js';
import { eventually, startTestAgent, type TestAgent } from './helpers/edge-agent.js';
import { IngressPoster } from './helpers/edge-poster.js';
import { ScriptedSource } from './helpers/edge-test-source.js';

const STATUS_TOPIC = 'storeloop/demo-store/status/edge-1';
const CONFIG_TOPIC = 'storeloop/demo-store/config/edge-1';

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
});

async function setup(
  config: Record<string, unknown> = {},
  deps?: Parameters<typeof startTestAgent>[0]['deps'],
): Promise<{ broker: EdgeTestBroker; agent: TestAgent }> {
  const broker = await EdgeTestBroker.create();
  cleanups.push(() => broker.stop());
  const agent = await startTestAgent({ gatewayUrl: broker.url, config, deps });
  cleanups.push(() => agent.stop());
  return { broker, agent };
}

function dataMessages(broker: EdgeTestBroker): Array<{ topic: string; body: Record<string, unknown> }> {
  return broker.received
    .filter((m) => m.clientId === 'storeloop-edge-edge-1' && !m.topic.includes('/status/'))
    .map((m) => ({ topic: m.topic, body: JSON.parse(m.payload) as Record<string, unknown> }));
}

function seqOf(mid: unknown): number {
  return Number(String(mid).split('-').at(-1));
}

describe('edge agent → broker', () => {
  it('publishes ingress events in queue order with their mid and original event time, and empties the queue', async () => {
    const { broker, agent } = await setup();
    const poster = new IngressPoster(agent.ingressUrl);
    for (let i = 0; i < 40; i++) expect(await poster.postOne()).toBe(202);
    await eventually(
      () => dataMessages(broker).length,
      (n) => n >= 40,
      'all 40 messages',
    );
    const messages = dataMessages(broker);
    expect(messages.map((m) => m.body.mid)).toEqual(poster.acknowledged.map((e) => e.mid));
    expect(messages.map((m) => m.body.ts)).toEqual(poster.acknowledged.map((e) => e.ts));
    expect(messages[0]?.topic).toBe(`storeloop/demo-store/${poster.acknowledged[0]?.kind}/${poster.acknowledged[0]?.sourceId}`);
    const seqs = messages.map((m) => seqOf(m.body.mid));
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    expect(String(messages[0]?.body.mid)).toMatch(/^edge-1-[0-9a-f]{8}-\d+$/);
    await eventually(
      () => agent.agent.status().queue_depth,
      (d) => d === 0,
      'an empty queue',
    );
  });

  it('queues through a broker outage and sends the backlog oldest first after it returns, losing nothing', async () => {
    const { broker, agent } = await setup();
    const poster = new IngressPoster(agent.ingressUrl, 'outage');
    for (let i = 0; i < 20; i++) await poster.postOne();
    await eventually(
      () => dataMessages(broker).length,
      (n) => n >= 20,
      'traffic before the outage',
    );
    await broker.stop();
    await eventually(
      () => agent.agent.connected,
      (c) => !c,
      'the agent to notice the outage',
    );
    for (let i = 0; i < 150; i++) expect(await poster.postOne()).toBe(202);
    expect(agent.agent.status().queue_depth).toBeGreaterThanOrEqual(150);
    await broker.start();
    const acked = new Set(poster.acknowledged.map((e) => e.mid));
    await eventually(
      () => new Set(dataMessages(broker).map((m) => String(m.body.mid))).size,
      (n) => n >= acked.size,
      'the backlog',
    );
    const seen = dataMessages(broker).map((m) => String(m.body.mid));
    expect(new Set(seen)).toEqual(acked);
    // the backlog goes out oldest first: first arrivals are in seq order
    const firsts = seen.filter((mid, i) => seen.indexOf(mid) === i).map(seqOf);
    expect(firsts).toEqual([...firsts].sort((a, b) => a - b));
    await eventually(
      () => agent.agent.status().queue_depth,
      (d) => d === 0,
      'an empty queue',
    );
  });

  it('keeps mids unique and increasing across a restart of the agent on the same queue', async () => {
    const { broker, agent } = await setup();
    const first = new IngressPoster(agent.ingressUrl, 'run1');
    for (let i = 0; i < 5; i++) await first.postOne();
    await eventually(
      () => dataMessages(broker).length,
      (n) => n >= 5,
      'run 1',
    );
    await agent.agent.stop();
    const again = await startTestAgent({ gatewayUrl: broker.url, queueDir: agent.queueDir });
    cleanups.push(() => again.stop());
    const second = new IngressPoster(again.ingressUrl, 'run2');
    for (let i = 0; i < 5; i++) await second.postOne();
    await eventually(
      () => dataMessages(broker).length,
      (n) => n >= 10,
      'run 2',
    );
    const mids = [...first.acknowledged, ...second.acknowledged].map((e) => e.mid);
    expect(new Set(mids).size).toBe(10);
    expect(new Set(mids.map((m) => m.split('-')[2])).size).toBe(1); // one queue, one epoch
    expect(mids.map(seqOf)).toEqual([...mids.map(seqOf)].sort((a, b) => a - b));
  });

  it('publishes a retained status with version, uptime, queue depth, clock state and source health', async () => {
    const source = new ScriptedSource('ble-entrance');
    source.state = 'down';
    source.detail = 'adapter hci0 not found';
    const { broker, agent } = await setup({}, { sources: [{ block: 'ble', source }] });
    await eventually(
      () => agent.agent.connected,
      (c) => c,
      'a connection',
    );
    await broker.stop();
    const before = broker.on(STATUS_TOPIC).length;
    const poster = new IngressPoster(agent.ingressUrl, 'held');
    for (let i = 0; i < 10; i++) await poster.postOne();
    await broker.start();
    // the status goes out on connect, before the backlog: it shows the queue as it was
    const first = await eventually(
      () =>
        broker
          .on(STATUS_TOPIC)
          .slice(before)
          .map((m) => JSON.parse(m.payload) as Record<string, unknown>),
      (list) => list.length > 0,
      'a status after the reconnect',
    );
    expect(first[0]).toMatchObject({ state: 'degraded', clock_synced: true, version: expect.any(String) as unknown, queue_depth: 10 });
    expect(first[0]?.uptime_s).toEqual(expect.any(Number));
    expect(first[0]?.queue_bytes).toBeGreaterThan(0);
    expect(String(first[0]?.detail)).toContain('sources ble-entrance:down(adapter hci0 not found)');
    expect(String(first[0]?.detail)).toMatch(/queue [\d.]+% oldest \d+s/);
    expect(broker.on(STATUS_TOPIC)[before]?.retain).toBe(true);
    // the next status (every status.intervalS) is retained with the drained queue
    const later = await eventually(
      async () => JSON.parse((await broker.retained(STATUS_TOPIC)) ?? '{}') as Record<string, unknown>,
      (s) => s.queue_depth === 0,
      'a retained status with an empty queue',
      15_000,
    );
    expect(later.state).toBe('degraded');
  });

  it('applies a valid remote config without a restart and refuses an invalid one, saying so in its status', async () => {
    const source = new ScriptedSource('ble-entrance');
    const { broker, agent } = await setup({}, { sources: [{ block: 'ble', source }] });
    await eventually(
      () => agent.agent.connected,
      (c) => c,
      'a connection',
    );
    await broker.publish(
      CONFIG_TOPIC,
      JSON.stringify({
        rev: 'r1',
        queue: { shedRawAbovePct: 60 },
        status: { intervalS: 7 },
        sources: { ble: { intervalMs: 2000 }, ingress: { sourceIds: ['kiosk-1'] } },
      }),
    );
    await eventually(
      () => source.intervalMs,
      (ms) => ms === 2000,
      'the source block applied',
    );
    const applied = agent.agent.localStatus() as { settings: { shedRawAbovePct: number; statusIntervalS: number } };
    expect(applied.settings).toMatchObject({ shedRawAbovePct: 60, statusIntervalS: 7 });
    expect(agent.agent.status().detail).toContain('config rev r1');
    // the ingress allowlist applies at once
    const refused = await fetch(`${agent.ingressUrl}/v1/touchpoint/mirror-1`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ action: 'tap' }),
    });
    expect(refused.status).toBe(404);

    await broker.publish(CONFIG_TOPIC, JSON.stringify({ rev: 'r2', queue: { shedRawAbovePct: 140 }, sources: { ble: { intervalMs: 5 } } }));
    const status = await eventually(
      async () => JSON.parse((await broker.retained(STATUS_TOPIC)) ?? '{}') as { state?: string; detail?: string },
      (s) => s.detail?.includes('rev r2 refused') === true,
      'the refusal in the retained status',
    );
    expect(status.state).toBe('degraded');
    expect(status.detail).toMatch(/queue\.shedRawAbovePct/);
    // nothing of the refused config applied
    expect(source.intervalMs).toBe(2000);
    expect((agent.agent.localStatus() as { settings: { shedRawAbovePct: number } }).settings.shedRawAbovePct).toBe(60);

    await broker.publish(CONFIG_TOPIC, JSON.stringify({ rev: 'r3', sources: { ble: { intervalMs: 0 } } }));
    await eventually(
      () => agent.agent.status().detail ?? '',
      (d) => d.includes('rev r3 refused: sources.ble.intervalMs'),
      'a source block refused by its source',
    );
    await broker.publish(CONFIG_TOPIC, '{}');
    await eventually(
      () => source.intervalMs,
      (ms) => ms === 1000,
      'the file values back',
    );
    expect((agent.agent.localStatus() as { settings: { shedRawAbovePct: number } }).settings.shedRawAbovePct).toBe(80);
  });

  it('restarts a radio source with its new settings when the remote config changes its block (Meraki validator)', async () => {
    const port = await freePort();
    const { broker, agent } = await setup({
      pseudonymise: { mode: 'daily', secret: 'a-test-secret-of-32-bytes-length!!' },
      sources: {
        ingress: { host: '127.0.0.1', port: 0 },
        meraki: { validator: 'validator-one', secret: 'meraki-shared-secret', defaultSourceId: 'wifi-front', listen: { host: '127.0.0.1', port } },
      },
    });
    const validator = () =>
      fetch(`http://127.0.0.1:${port}/meraki`).then(
        (r) => r.text(),
        () => 'unreachable',
      );
    await eventually(validator, (v) => v === 'validator-one', 'the file validator');
    await eventually(
      () => agent.agent.connected,
      (c) => c,
      'a connection',
    );
    await broker.publish(CONFIG_TOPIC, JSON.stringify({ rev: 'm1', sources: { meraki: { validator: 'validator-two' } } }));
    await eventually(validator, (v) => v === 'validator-two', 'the remote validator, without an agent restart');
    expect(agent.agent.status().detail).toContain('config rev m1');
    await broker.publish(CONFIG_TOPIC, JSON.stringify({ rev: 'm2', sources: { meraki: { validator: '' } } }));
    await eventually(
      () => agent.agent.status().detail ?? '',
      (d) => d.includes('rev m2 refused: sources.meraki'),
      'an invalid block refused',
    );
    expect(await validator()).toBe('validator-two');
  });

  it('sets aside a torn record at the queue tail after a power cut and sends the rest, never the torn bytes', async () => {
    const broker = await EdgeTestBroker.create();
    cleanups.push(() => broker.stop());
    await broker.stop(); // the gateway is away while the queue fills
    const first = await startTestAgent({ gatewayUrl: broker.url });
    cleanups.push(() => first.stop());
    const poster = new IngressPoster(first.ingressUrl, 'torn');
    for (let i = 0; i < 12; i++) expect(await poster.postOne()).toBe(202);
    const queueDir = first.queueDir;
    await first.agent.stop();
    // a power cut in the middle of the last record: its tail never reached the disk
    const spoolDir = join(queueDir, 'spool');
    const segments = (await readdir(spoolDir)).filter((f) => f.endsWith('.seg')).sort();
    const last = join(spoolDir, segments.at(-1) as string);
    await truncate(last, (await stat(last)).size - 10);

    await broker.start();
    const second = await startTestAgent({ gatewayUrl: broker.url, queueDir });
    cleanups.push(() => second.stop());
    await eventually(
      () => dataMessages(broker).length,
      (n) => n >= 11,
      'the 11 good records',
    );
    await eventually(
      () => second.agent.status().queue_depth,
      (d) => d === 0,
      'an empty queue',
    );
    const sent = dataMessages(broker).map((m) => String(m.body.mid));
    expect(new Set(sent)).toEqual(new Set(poster.acknowledged.slice(0, 11).map((e) => e.mid)));
    expect(sent).not.toContain(poster.acknowledged[11]?.mid);
    expect(await readdir(join(spoolDir, 'torn'))).toHaveLength(1);
    expect(second.agent.status().detail).toContain('torn tails set aside 1');
    expect(second.logs().some((l) => l.msg === 'queue tail set aside, never sent' && l.reason === 'truncated-payload')).toBe(true);
  });

  it('refuses to start when its ingress port is taken, names the address, and leaves the queue closed for the next start', async () => {
    const broker = await EdgeTestBroker.create();
    cleanups.push(() => broker.stop());
    const first = await startTestAgent({ gatewayUrl: broker.url });
    cleanups.push(() => first.stop());
    const port = Number(new URL(first.ingressUrl).port);
    const dir = await mkdtemp(join(tmpdir(), 'storeloop-edge-taken-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const queueDir = join(dir, 'queue');
    await expect(startTestAgent({ gatewayUrl: broker.url, queueDir, config: { sources: { ingress: { host: '127.0.0.1', port } } } })).rejects.toMatchObject({
      code: 'SL_ERR_EDGE_START',
      message: expect.stringMatching(new RegExp(`EADDRINUSE.*${port}`)) as unknown,
    });
    const next = await startTestAgent({ gatewayUrl: broker.url, queueDir });
    cleanups.push(() => next.stop());
    expect(next.agent.status().queue_depth).toBe(0);
  });
});
