/**
 * The experience sink's watermark takes sources' own stamps only: a status the gateway stamped when it
 * arrived (an offline status, one without ts) does not move it (traffic replayed late would otherwise
 * carry the watermark to the gateway's clock and drop everything still to come).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import pino from 'pino';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';

import { DEMO_STORE, parseConfig } from '../../config/index.js';
import { isRejection, StoreDirectory } from '../ingest/store-directory.js';
import type { ExperienceEvent } from '../log/derived-record.js';
import type { LogRecord } from '../log/log-record.js';
import { ExperienceSink } from './experience-sink.js';
import { DEFAULT_PRESENCE_PARAMS } from './params.js';

const store = parseConfig({ stores: [DEMO_STORE] }).stores[0]!;
const directory = new StoreDirectory([store]);
const T0 = Date.UTC(2026, 10, 30, 10); // 11:00 in Paris
const SCANNERS = ['ble-entrance', 'ble-women', 'ble-men', 'ble-shoes', 'ble-fitting', 'ble-checkout'];
const MIN = 60_000;

function source(kind: 'ble' | 'status' | 'wifi', sourceId: string) {
  const resolved = directory.resolve(store.id, kind, sourceId);
  if (isRejection(resolved)) throw new Error(resolved.detail);
  return resolved;
}

/** Every scanner's batch every 5 s for 40 minutes; beacon-a near the women's aisle in minutes 1–4, beacon-b in 11–15. */
function scans(): LogRecord[] {
  const out: LogRecord[] = [];
  for (let t = T0; t < T0 + 40 * MIN; t += 5000) {
    for (const scanner of SCANNERS) {
      const near = scanner === 'ble-women' || scanner === 'ble-entrance';
      const sightings = [
        ...(near && t >= T0 + MIN && t < T0 + 4 * MIN ? [{ id: 'beacon-a', rssi: scanner === 'ble-women' ? -62 : -80 }] : []),
        ...(near && t >= T0 + 11 * MIN && t < T0 + 15 * MIN ? [{ id: 'beacon-b', rssi: scanner === 'ble-women' ? -62 : -80 }] : []),
      ];
      out.push(record('ble', scanner, t, { v: 1, ts: t, sightings }));
    }
  }
  return out;
}

function record(kind: 'ble' | 'status' | 'wifi', sourceId: string, eventTime: number, message: object, receivedAt = eventTime): LogRecord {
  return {
    v: 1,
    kind,
    source: source(kind, sourceId),
    eventTime,
    receivedAt,
    mid: null,
    qos: 1,
    slot: { offset: 0 },
    message,
    seq: 0,
    appendedAt: receivedAt,
  } as unknown as LogRecord;
}

const dirs: string[] = [];
afterEach(async () => {
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

/** Runs the records through a sink in `dir`; `restartAt`: a new sink (from the state written there) takes over at that record. */
async function run(records: readonly LogRecord[], restartAt?: number): Promise<{ events: ExperienceEvent[]; dropped: number; watermark: number }> {
  const dir = await mkdtemp(join(tmpdir(), 'storeloop-experience-sink-'));
  dirs.push(dir);
  const events: ExperienceEvent[] = [];
  const numbered = records.map((r, i) => ({ ...r, seq: i + 1 }));
  if (restartAt !== undefined) {
    const first = sinkIn(dir, events, new Registry());
    await first.start();
    for (let i = 0; i < restartAt; i += 50) await first.deliver(numbered.slice(i, Math.min(i + 50, restartAt)));
    await first.persist(restartAt);
  }
  const registry = new Registry();
  const sink = sinkIn(dir, events, registry);
  await sink.start();
  for (let i = restartAt ?? 0; i < numbered.length; i += 50) await sink.deliver(numbered.slice(i, i + 50));
  const value = async (name: string) => ((await registry.getSingleMetric(name)?.get())?.values ?? []).reduce((sum, v) => sum + v.value, 0);
  return { events, dropped: await value('storeloop_experience_dropped_total'), watermark: await value('storeloop_experience_watermark_seconds') };
}

function sinkIn(dir: string, events: ExperienceEvent[], registry: Registry): ExperienceSink {
  return new ExperienceSink({
    stores: [store],
    dir,
    derivedLog: { append: async (_store, list) => (events.push(...list), { appended: list.length, duplicates: 0 }) },
    log: pino({ level: 'silent' }),
    registry,
    finalizeEveryMs: 5 * MIN,
    maxSourceLagMs: 30 * MIN,
    lateToleranceMs: MIN,
    maxVisitMs: 180 * MIN,
    occupancyHoldMs: 60 * MIN,
    params: { ...DEFAULT_PRESENCE_PARAMS, calibrate: false },
  });
}

describe('experience sink watermark', () => {
  it.each([
    ['an offline status (a last will)', { v: 1, state: 'offline' }],
    ['a status without ts', { v: 1, state: 'online' }],
  ])("does not move with %s, stamped by the gateway on arrival hours after the traffic's event time", async (_what, status) => {
    const records = scans();
    const reference = await run(records);
    expect(reference.events.filter((e) => e.type === 'visit' || e.type === 'passer_by').length).toBe(2); // beacon-a's and beacon-b's
    expect(reference.dropped).toBe(0);

    // the traffic replayed ten hours late (a backfill, an edge's queue): a will arrives in the middle of it
    const arrival = T0 + 10 * 3_600_000;
    const will = record('status', 'edge-1', arrival, status, arrival);
    const at = records.findIndex((r) => r.eventTime >= T0 + 8 * MIN); // between beacon-a's visit and beacon-b's
    const replayed = await run([...records.slice(0, at), will, ...records.slice(at)]);
    expect(replayed.dropped).toBe(0);
    expect(replayed.watermark).toBe(reference.watermark);
    expect(replayed.events).toEqual(reference.events);
  });
});

/** The wifi sensors' batches every 5 s: a phone probing every 20 s as p1 in minutes 2–6 and, rotated, as p2 in 6.5–10; a passer-by at the front in minute 20. */
function wifiScans(): LogRecord[] {
  const out: LogRecord[] = [];
  for (let t = T0; t < T0 + 40 * MIN; t += 5000) {
    const probing = (t - T0) % 20_000 === 0;
    for (const sensor of ['wifi-front', 'wifi-back']) {
      const rssi = sensor === 'wifi-front' ? -72 : -60;
      const observations = [
        ...(probing && t >= T0 + 2 * MIN && t <= T0 + 6 * MIN ? [{ id: 'p1', rssi, randomized: true }] : []),
        ...(probing && t >= T0 + 6.5 * MIN && t <= T0 + 10 * MIN ? [{ id: 'p2', rssi: rssi - 2, randomized: true }] : []),
        ...(probing && sensor === 'wifi-front' && t >= T0 + 20 * MIN && t < T0 + 20.5 * MIN ? [{ id: 'walker', rssi: -80, randomized: true }] : []),
      ];
      out.push(record('wifi', sensor, t, { v: 1, ts: t, observations }));
    }
  }
  return out;
}

describe('experience sink wifi visits', () => {
  const records = [...scans(), ...wifiScans()].sort((a, b) => a.eventTime - b.eventTime);

  it("makes a rotated phone's probes one wifi visit, final once it has been unheard for maxGap, naming no pseudonym", async () => {
    const { events, dropped } = await run(records);
    expect(dropped).toBe(0);
    const wifi = events.filter((e) => e.type === 'wifi_visit');
    expect(wifi).toMatchObject([{ start: T0 + 2 * MIN, end: T0 + 10 * MIN, pseudonyms: 2, definition: 'visit-wifi/1' }]);
    for (const pseudonym of ['"p1"', '"p2"', 'walker']) expect(JSON.stringify(wifi)).not.toContain(pseudonym);
    // final at the first boundary 15 min after its last probe that the watermark passed: after the visit of beacon-b, which ended at 15 min
    const order = events.filter((e) => e.type === 'visit' || e.type === 'wifi_visit').map((e) => e.type);
    expect(order).toEqual(['visit', 'wifi_visit', 'visit']);
  });

  it('gives the same events after a restart from its state in the middle of the wifi visit', async () => {
    const reference = await run(records);
    const at = records.findIndex((r) => r.eventTime >= T0 + 7 * MIN);
    const restarted = await run(records, at);
    expect(restarted.events).toEqual(reference.events);
  });
});
