/**
 * The agent's store-and-forward queue on a real spool in a temp dir: what it keeps when it fills up
 * (raw sightings shed first, interactions and devices kept until the quota, never silently), records
 * past their maximum age dropped at replay and counted, and acks that follow the contiguous prefix.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';

import { afterEach, describe, expect, it } from 'vitest';

import { createEdgeLogger } from '../edge/agent/edge-logger.js';
import { EdgeQueue, type EdgeQueueOptions, type QueueMessage } from '../edge/queue/edge-queue.js';
import { buildStatus } from '../edge/agent/status-report.js';
import { eventually, startTestAgent } from './helpers/edge-agent.js';
import { EdgeTestBroker } from './helpers/edge-broker.js';
import { ScriptedSource } from './helpers/edge-test-source.js';

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
});

async function openQueue(options: Partial<EdgeQueueOptions> = {}): Promise<{ queue: EdgeQueue; logs: () => Array<Record<string, unknown>>; dir: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'storeloop-edge-queue-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      cb();
    },
  });
  const queue = new EdgeQueue({
    dir,
    quotaBytes: 20_000,
    segmentBytes: 8192,
    shedRawAbovePct: 50,
    maxAgeSeconds: 3600,
    agentId: 'edge-1',
    storeId: 'demo-store',
    topicPrefix: 'storeloop',
    log: createEdgeLogger('debug', sink),
    ...options,
  });
  await queue.open();
  cleanups.push(() => queue.close());
  return { queue, dir, logs: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>) };
}

function ble(ts: number, n = 3): QueueMessage {
  const sightings = Array.from({ length: n }, (_, i) => ({ id: `ibeacon:f7826da6-4fa2-4e98-8024-bc5b71e0893e:100:${i}`, rssi: -60 - i }));
  return { kind: 'ble', sourceId: 'ble-entrance', payload: { ts, sightings } };
}

function tap(ts: number, label: string): QueueMessage {
  return { kind: 'touchpoint', sourceId: 'kiosk-1', payload: { ts, action: 'tap', label } };
}

async function drain(queue: EdgeQueue): Promise<number> {
  let sent = 0;
  for (;;) {
    const batch = await queue.take(100);
    if (batch.length === 0) return sent;
    for (const m of batch) queue.settle(m.seq);
    sent += batch.length;
  }
}

describe('edge queue: when full', () => {
  it('sheds raw sightings above the threshold, keeps interactions until the quota, then sheds everything, counting each', async () => {
    const { queue, logs } = await openQueue();
    const now = Date.now();
    let bleQueued = 0;
    for (let i = 0; i < 200; i++) {
      const result = await queue.enqueue(ble(now + i));
      if (result.status === 'shed') {
        expect(result.reason).toBe('raw_above_threshold');
        break;
      }
      bleQueued++;
    }
    expect(queue.stats().fillPct).toBeLessThanOrEqual(50);
    expect(queue.stats().fillPct).toBeGreaterThan(40);
    // interactions still fit above the raw threshold
    let tapsQueued = 0;
    let lastTap: Awaited<ReturnType<EdgeQueue['enqueue']>> | undefined;
    for (let i = 0; i < 500; i++) {
      lastTap = await queue.enqueue(tap(now + i, `t-${i}`));
      if (lastTap.status === 'shed') break;
      tapsQueued++;
    }
    expect(tapsQueued).toBeGreaterThan(10);
    expect(lastTap).toEqual({ status: 'shed', reason: 'queue_full' });
    expect(queue.stats().fillPct).toBeGreaterThan(95);
    expect(await queue.enqueue(ble(now))).toEqual({ status: 'shed', reason: 'queue_full' });
    await queue.enqueue(ble(now));

    const counts = queue.stats().counts;
    expect(counts.enqueued).toEqual({ ble: bleQueued, touchpoint: tapsQueued });
    expect(counts.shed).toEqual({ 'ble/raw_above_threshold': 1, 'touchpoint/queue_full': 1, 'ble/queue_full': 2 });
    // never silent: a warning per kind and reason (rate-limited), and the counts in the status detail
    const warnings = logs().filter((l) => l.msg === 'message shed: not queued');
    expect(new Set(warnings.map((w) => `${String(w.kind)}/${String(w.reason)}`))).toEqual(
      new Set(['ble/raw_above_threshold', 'touchpoint/queue_full', 'ble/queue_full']),
    );
    const status = buildStatus({
      version: 't',
      startedAt: now,
      now,
      queue: queue.stats(),
      shedRawAbovePct: 50,
      sources: [],
      clock: { synced: true, eventsBeforeSync: 0 },
      remoteConfig: { state: 'none' },
    });
    expect(status.state).toBe('degraded');
    expect(status.detail).toContain('shed ble/raw_above_threshold=1,touchpoint/queue_full=1,ble/queue_full=2');

    // once drained (published and acked), sightings are queued again
    expect(await drain(queue)).toBe(bleQueued + tapsQueued);
    await eventually(
      () => queue.stats().depth,
      (d) => d === 0,
      'acks to free the quota',
    );
    expect((await queue.enqueue(ble(now))).status).toBe('queued');
  });

  it('drops records older than the maximum age at replay, counts them, and acks past them', async () => {
    const { queue, logs } = await openQueue({ maxAgeSeconds: 60 });
    const now = Date.now();
    await queue.enqueue(tap(now - 3_600_000, 'too-old-1'));
    await queue.enqueue(tap(now, 'fresh'));
    await queue.enqueue(tap(now - 120_000, 'too-old-2'));
    await queue.enqueue({ kind: 'device', sourceId: 'env-floor', payload: { ts: now - 61_000, event: { type: 'environment', temperature_c: 21 } } });
    const batch = await queue.take(10);
    expect(batch.map((m) => JSON.parse(m.payload.toString()) as { label?: string }).map((p) => p.label)).toEqual(['fresh']);
    queue.settle(batch[0]?.seq ?? 0);
    expect(queue.stats().counts.shed).toEqual({ 'touchpoint/expired': 2, 'device/expired': 1 });
    await eventually(
      () => queue.stats().depth,
      (d) => d === 0,
      'the expired records acked with the rest',
    );
    expect(logs().some((l) => l.msg === 'queued message dropped at replay' && l.reason === 'expired')).toBe(true);
  });

  it('acks only the contiguous prefix of settled records, so a crash re-sends what was not acknowledged', async () => {
    const { queue, dir } = await openQueue();
    const now = Date.now();
    for (let i = 0; i < 5; i++) await queue.enqueue(tap(now + i, `c-${i}`));
    const batch = await queue.take(5);
    const mids = batch.map((m) => m.mid);
    // PUBACKs for 1, 2 and 4 arrive; 3 is still outstanding
    for (const i of [0, 1, 3]) queue.settle(batch[i]?.seq ?? 0);
    await eventually(
      () => queue.stats().depth,
      (d) => d === 3,
      'the first two acked',
    );
    await queue.close();
    const reopened = new EdgeQueue({
      dir,
      quotaBytes: 20_000,
      segmentBytes: 8192,
      shedRawAbovePct: 50,
      maxAgeSeconds: 3600,
      agentId: 'edge-1',
      storeId: 'demo-store',
      topicPrefix: 'storeloop',
      log: createEdgeLogger('silent'),
    });
    await reopened.open();
    cleanups.push(() => reopened.close());
    const again = await reopened.take(10);
    // the same records, with the same mids: the gateway recognises the replay of the one it had
    expect(again.map((m) => m.mid)).toEqual(mids.slice(2));
  });
});

describe('edge agent: when its queue is full', () => {
  it('answers 503 with the reason to a kiosk whose event was shed, after shedding sightings first', async () => {
    const broker = await EdgeTestBroker.create();
    cleanups.push(() => broker.stop());
    await broker.stop();
    const source = new ScriptedSource('ble-entrance');
    const agent = await startTestAgent({
      gatewayUrl: broker.url,
      config: { queue: { quotaBytes: 64 * 1024, segmentBytes: 16 * 1024, shedRawAbovePct: 60 } },
      deps: { sources: [{ block: 'ble', source }] },
    });
    cleanups.push(() => agent.stop());
    const now = Date.now();
    for (let i = 0; i < 60; i++) source.emit(ble(now + i, 40) as Extract<QueueMessage, { kind: 'ble' }>);
    await eventually(
      () => agent.agent.status().detail ?? '',
      (d) => d.includes('ble/raw_above_threshold'),
      'sightings shed',
    );
    const statuses: number[] = [];
    let answer: { code?: string; reason?: string } = {};
    for (let i = 0; i < 400; i++) {
      const res = await fetch(`${agent.ingressUrl}/v1/touchpoint/kiosk-1`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ action: 'tap', label: `full-${i}` }),
      });
      statuses.push(res.status);
      if (res.status !== 202) {
        answer = (await res.json()) as typeof answer;
        expect(res.headers.get('retry-after')).toBe('5');
        break;
      }
      await res.arrayBuffer();
    }
    expect(statuses.filter((s) => s === 202).length).toBeGreaterThan(20);
    expect(statuses.at(-1)).toBe(503);
    expect(answer).toMatchObject({ code: 'SL_ERR_INGRESS_SHED', reason: 'queue_full' });
    expect(agent.agent.status().detail).toMatch(/shed ble\/raw_above_threshold=\d+,touchpoint\/queue_full=1/);
  });
});
