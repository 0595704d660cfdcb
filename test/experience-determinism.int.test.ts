/**
 * The experience engine's events depend on the sightings, not on how they arrive (issue #12): a
 * simulation's records fed to the engine sink in one pass, in other batch sizes, with a restart from
 * its persisted state in the middle (and records it had already taken in delivered again, as after a
 * crash before the runner's checkpoint), and with two scanners' records held back for ten minutes and
 * replayed late (an edge after an outage), give the very same events: same ids, same content.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import pino from 'pino';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { DEMO_STORE, parseConfig, type StoreConfig } from '../config/index.js';
import { ExperienceSink } from '../gateway/experience/experience-sink.js';
import { DEFAULT_PRESENCE_PARAMS } from '../gateway/experience/params.js';
import type { ExperienceEvent } from '../gateway/log/derived-record.js';
import type { LogRecord } from '../gateway/log/log-record.js';
import { buildSimulation, DEFAULT_SIMULATION_OPTIONS } from '../simulators/index.js';
import { simLogRecords } from '../bench/sim-log-records.js';

const store: StoreConfig = parseConfig({ stores: [DEMO_STORE] }).stores[0]!;
const START = Date.UTC(2026, 10, 30, 10); // 11:00 in Paris, the store open
const DURATION_MS = 90 * 60_000;

let records: LogRecord[];
const dirs: string[] = [];
beforeAll(() => {
  const sim = buildSimulation({ ...DEFAULT_SIMULATION_OPTIONS, store, seed: 11, durationMs: DURATION_MS, now: START + DURATION_MS });
  records = simLogRecords(sim.messages, store);
});
afterAll(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

async function engine(dir?: string): Promise<{ sink: ExperienceSink; events: ExperienceEvent[]; dir: string; registry: Registry }> {
  const stateDir = dir ?? (await mkdtemp(join(tmpdir(), 'storeloop-experience-')));
  if (dir === undefined) dirs.push(stateDir);
  const events: ExperienceEvent[] = [];
  const registry = new Registry();
  const sink = new ExperienceSink({
    stores: [store],
    dir: stateDir,
    derivedLog: { append: async (_store, list) => (events.push(...list), { appended: list.length, duplicates: 0 }) },
    log: pino({ level: 'silent' }),
    registry,
    finalizeEveryMs: 5 * 60_000,
    maxSourceLagMs: 30 * 60_000,
    lateToleranceMs: 60_000,
    maxVisitMs: 180 * 60_000,
    occupancyHoldMs: 60 * 60_000,
    params: { ...DEFAULT_PRESENCE_PARAMS, calibrate: false },
  });
  await sink.start();
  return { sink, events, dir: stateDir, registry };
}

async function feed(sink: ExperienceSink, list: readonly LogRecord[], batch: number): Promise<void> {
  for (let i = 0; i < list.length; i += batch) await sink.deliver(list.slice(i, i + batch));
}

async function dropped(registry: Registry): Promise<number> {
  const metric = await registry.getSingleMetric('storeloop_experience_dropped_total')?.get();
  return (metric?.values ?? []).reduce((sum, v) => sum + v.value, 0);
}

/** Events keyed by id (the content must match too). */
const byId = (events: readonly ExperienceEvent[]) => new Map(events.map((e) => [e.id, e]));

describe('experience events do not depend on how the records arrive', () => {
  let reference: ExperienceEvent[];
  beforeAll(async () => {
    const run = await engine();
    await feed(run.sink, records, 500);
    reference = run.events;
    expect(await dropped(run.registry)).toBe(0);
  });

  it('makes visits, stays, exposures, passers-by and occupancy from a simulation, each id once', () => {
    const types = new Map<string, number>();
    for (const e of reference) types.set(e.type, (types.get(e.type) ?? 0) + 1);
    expect(types.get('visit')).toBeGreaterThan(10);
    expect(types.get('zone_stay')).toBeGreaterThan(types.get('visit') as number);
    expect(types.get('exposure')).toBeGreaterThan(0);
    expect(types.get('passer_by')).toBeGreaterThan(0);
    expect(types.get('occupancy')).toBeGreaterThan(0);
    expect(byId(reference).size).toBe(reference.length);
  });

  it('in batches of another size', async () => {
    const run = await engine();
    await feed(run.sink, records, 37);
    expect(byId(run.events)).toEqual(byId(reference));
  });

  it('across a restart from the persisted state, with records it had taken in delivered again', async () => {
    const first = await engine();
    const half = Math.floor(records.length / 2);
    await feed(first.sink, records.slice(0, half), 500);
    await first.sink.persist(half - 300); // the runner's checkpoint is behind what the state holds
    const second = await engine(first.dir);
    await feed(second.sink, records.slice(half - 300), 500);
    expect(byId([...first.events, ...second.events])).toEqual(byId(reference));
    expect(first.events.length + second.events.length).toBe(reference.length);
  });

  it('when two scanners go silent for ten minutes and replay late', async () => {
    const held = new Set(['ble-women', 'ble-fitting']);
    const from = START + 30 * 60_000;
    const until = from + 10 * 60_000;
    const back = until + 5 * 60_000; // the edge comes back five minutes later and sends its queue
    // everything those scanners stamped from the outage on and would have sent before coming back
    const isHeld = (r: LogRecord) => held.has(r.source.sourceId) && r.eventTime >= from && r.receivedAt < back;
    const late = records.filter(isHeld);
    expect(late.length).toBeGreaterThan(50);
    const reordered: LogRecord[] = [];
    let replayed = false;
    for (const r of records.filter((x) => !isHeld(x))) {
      if (!replayed && r.receivedAt >= back) {
        reordered.push(...late);
        replayed = true;
      }
      reordered.push(r);
    }
    const run = await engine();
    // appended to the log in the order they arrive: the replayed records get the newer seqs
    await feed(
      run.sink,
      reordered.map((r, i) => ({ ...r, seq: i + 1 })),
      500,
    );
    expect(await dropped(run.registry)).toBe(0); // nothing came after the watermark had passed it
    expect(byId(run.events)).toEqual(byId(reference));
  });
});
