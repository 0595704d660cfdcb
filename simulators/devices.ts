/**
 * Smart devices: people counters (entries and exits per minute; a group passing together is
 * under-counted, each member after the first missed with a chance `counterGroupMiss`), smart shelves (pick_up / put_back with SKUs while visitors stand in their zone) and environment
 * sensors (a reading a minute that follows how many people are inside).
 */
import type { StoreConfig } from '../config/index.js';
import type { FloorPlan } from './floor-plan.js';
import { RANK_NORMAL, type DraftMessage } from './messages.js';
import { createRng } from './prng.js';
import { intervalTicks } from './schedule.js';
import { pathOfWalk, type Visitor } from './visitors.js';

export const COUNTER_INTERVAL_MS = 60_000;
export const ENVIRONMENT_INTERVAL_MS = 60_000;
const PUT_BACK_CHANCE = 0.55;
const MEAN_PICKS_PER_STAY = 1.2;
const CO2_OUTDOOR_PPM = 420;
const CO2_PPM_PER_PERSON = 18;
const CO2_TIME_CONSTANT_MS = 10 * 60_000;

export interface DeviceParams {
  seed: number;
  store: StoreConfig;
  plan: FloorPlan;
  visitors: readonly Visitor[];
  startMs: number;
  endMs: number;
  /** Chance that the counter misses a group member passing right behind another (0: counts exactly). */
  counterGroupMiss?: number;
  /** Staff's stretches inside (staff.ts): counted like anyone, reported apart in the truth. */
  staff?: readonly Visitor[];
}

/** Passages of one group in one direction this close to the previous one are "together" (members walk 1.2 s apart). */
export const TOGETHER_MS = 3000;

export interface Footfall {
  /** People-counter device id. */
  counter: string;
  /** Its zone (null: counts the whole store's door traffic). */
  zone: string | null;
  /** Entries the counter reported (the sum of its messages' `in`). */
  in: number;
  /** Exits the counter reported. */
  out: number;
  /** People who really passed in (what an exact counter would report). */
  trueIn: number;
  /** People who really passed out. */
  trueOut: number;
  /** Staff passages in (counted in `in`, never in `trueIn`: a counter counts staff unless it filters staff tags). */
  staffIn: number;
  /** Staff passages out (counted in `out`, never in `trueOut`). */
  staffOut: number;
}

/** A SKU list per shelf or rail, fixed per store (an assortment, not a run). */
export function catalogue(storeId: string, name: string, size = 12): string[] {
  const rng = createRng(0, 'catalogue', storeId, name);
  const skus = new Set<string>();
  while (skus.size < size) skus.add(`SKU-${rng.int(10_000, 99_999)}`);
  return [...skus];
}

type CounterEvent = { ts: number; dir: 'in' | 'out'; visitor: number; group?: string };

/**
 * Passages a counter sees. A counter in an entrance zone (or with no zone) counts people entering and
 * leaving the store through it; a counter in any other zone counts people entering and leaving that zone.
 */
export function counterEvents(zone: string | undefined, plan: FloorPlan, visitors: readonly Visitor[]): CounterEvent[] {
  const events: CounterEvent[] = [];
  const atDoor = zone === undefined || plan.entrances.includes(zone);
  for (const v of visitors) {
    const who = { visitor: v.index, ...(v.group !== undefined ? { group: v.group } : {}) };
    if (atDoor) {
      if (zone !== undefined && v.path[0]?.zone !== zone) continue;
      events.push({ ts: v.enteredAt, dir: 'in', ...who });
      if (v.leftAt !== null) events.push({ ts: v.leftAt, dir: 'out', ...who });
      continue;
    }
    v.path.forEach((seg, i) => {
      if (seg.zone !== zone) return;
      events.push({ ts: seg.from, dir: 'in', ...who });
      const stillInside = i === v.path.length - 1 && v.leftAt === null;
      if (!stillInside) events.push({ ts: seg.to, dir: 'out', ...who });
    });
  }
  return events;
}

/**
 * The passages the counter reports: a group member passing in the same direction within TOGETHER_MS of
 * the group's previous passage is missed with chance `missChance` (one draw per counter, person and
 * passage, so the same seed misses the same people). The first of each bunch is always counted.
 */
export function countedEvents(seed: number, counter: string, events: readonly CounterEvent[], missChance: number): CounterEvent[] {
  const sorted = [...events].sort((a, b) => a.ts - b.ts || a.visitor - b.visitor);
  const lastOfGroup = new Map<string, number>();
  return sorted.filter((e) => {
    if (e.group === undefined) return true;
    const key = `${e.group}:${e.dir}`;
    const last = lastOfGroup.get(key);
    lastOfGroup.set(key, e.ts);
    if (last === undefined || e.ts - last > TOGETHER_MS) return true;
    return !createRng(seed, 'counter-miss', counter, e.visitor, e.dir, e.ts).chance(missChance);
  });
}

/** People-counter messages (one a minute, zeros included) and each counter's totals. */
export function counterMessages(params: DeviceParams): { drafts: DraftMessage[]; footfall: Footfall[] } {
  const { streams, footfall } = counterStreams(params);
  return { drafts: streams.flatMap((stream) => [...stream]), footfall };
}

/** counterMessages with each counter's messages made as they are taken (one stream per counter, in time order; only the counts are held). */
export function counterStreams(params: DeviceParams): { streams: Array<Iterable<DraftMessage>>; footfall: Footfall[] } {
  const streams: Array<Iterable<DraftMessage>> = [];
  const footfall: Footfall[] = [];
  const ticks = intervalTicks(params.startMs, params.endMs, COUNTER_INTERVAL_MS, true);
  for (const device of params.store.devices.filter((d) => d.type === 'people_counter')) {
    const counts = ticks.map(() => ({ in: 0, out: 0 }));
    // a group member a step behind can pass after the window's end: no message covers that
    const passages = counterEvents(device.zone, params.plan, params.visitors).filter((e) => e.ts <= params.endMs);
    const truly = { trueIn: 0, trueOut: 0 };
    for (const e of passages) truly[e.dir === 'in' ? 'trueIn' : 'trueOut'] += 1;
    for (const e of countedEvents(params.seed, device.id, passages, params.counterGroupMiss ?? 0)) {
      // the message at tick k covers (tick k−1, tick k]
      const k = Math.max(0, Math.ceil((e.ts - params.startMs) / COUNTER_INTERVAL_MS) - 1);
      const bucket = counts[Math.min(k, counts.length - 1)];
      if (bucket) bucket[e.dir] += 1;
    }
    const staff = { staffIn: 0, staffOut: 0 };
    for (const e of staffPassages(device.zone, params)) {
      staff[e.dir === 'in' ? 'staffIn' : 'staffOut'] += 1;
      const k = Math.max(0, Math.ceil((e.ts - params.startMs) / COUNTER_INTERVAL_MS) - 1);
      const bucket = counts[Math.min(k, counts.length - 1)];
      if (bucket) bucket[e.dir] += 1;
    }
    streams.push(counterDrafts(device.id, ticks, counts));
    const totals = counts.reduce((sum, c) => ({ in: sum.in + c.in, out: sum.out + c.out }), { in: 0, out: 0 });
    footfall.push({ counter: device.id, zone: device.zone ?? null, ...totals, ...truly, ...staff });
  }
  return { streams, footfall };
}

function* counterDrafts(sourceId: string, ticks: readonly number[], counts: ReadonlyArray<{ in: number; out: number }>): Generator<DraftMessage> {
  for (const [k, ts] of ticks.entries()) {
    const c = counts[k] as { in: number; out: number };
    yield { kind: 'device', sourceId, ts, rank: RANK_NORMAL, retain: false, payload: { ts, event: { type: 'people_count', in: c.in, out: c.out } } };
  }
}

/**
 * Staff passages a counter sees within the window (after its start, at most its end): through the door
 * for a counter at an entrance or without a zone, into and out of its zone otherwise. Staff walk alone:
 * the counter never misses them.
 */
export function staffPassages(zone: string | undefined, params: Pick<DeviceParams, 'plan' | 'staff' | 'startMs' | 'endMs'>): CounterEvent[] {
  const atDoor = zone === undefined || params.plan.entrances.includes(zone);
  const events: CounterEvent[] = [];
  for (const s of params.staff ?? []) {
    const path = pathOfWalk(s.walk);
    if (atDoor) {
      if (zone !== undefined && path[0]?.zone !== zone) continue;
      events.push({ ts: (path[0] as { from: number }).from, dir: 'in', visitor: s.index });
      events.push({ ts: (path[path.length - 1] as { to: number }).to, dir: 'out', visitor: s.index });
      continue;
    }
    for (const seg of path) {
      if (seg.zone !== zone) continue;
      events.push({ ts: seg.from, dir: 'in', visitor: s.index }, { ts: seg.to, dir: 'out', visitor: s.index });
    }
  }
  return events.filter((e) => e.ts > params.startMs && e.ts <= params.endMs);
}

/** Smart-shelf events while visitors stand in the shelf's zone. */
export function shelfMessages(params: DeviceParams): DraftMessage[] {
  const drafts: DraftMessage[] = [];
  for (const device of params.store.devices.filter((d) => d.type === 'smart_shelf' && d.zone !== undefined)) {
    const skus = catalogue(params.store.id, device.id);
    for (const v of params.visitors) {
      v.path.forEach((seg, segIndex) => {
        if (seg.zone !== device.zone) return;
        const rng = createRng(params.seed, 'shelf', device.id, v.index, segIndex);
        const durS = (seg.to - seg.from) / 1000;
        if (durS < 10) return;
        for (let picks = rng.poisson(MEAN_PICKS_PER_STAY); picks > 0; picks -= 1) {
          const sku = rng.pick(skus);
          const pickAt = seg.from + Math.round(rng.uniform(3, durS - 3) * 1000);
          drafts.push(shelfDraft(device.id, pickAt, 'pick_up', sku));
          const putBackAt = pickAt + Math.round(rng.uniform(5, 60) * 1000);
          if (rng.chance(PUT_BACK_CHANCE) && putBackAt < seg.to) drafts.push(shelfDraft(device.id, putBackAt, 'put_back', sku));
        }
      });
    }
  }
  return drafts;
}

function shelfDraft(sourceId: string, ts: number, action: 'pick_up' | 'put_back', sku: string): DraftMessage {
  return { kind: 'device', sourceId, ts, rank: RANK_NORMAL, retain: false, payload: { ts, event: { type: 'shelf', action, sku, qty: 1 } } };
}

/** Environment readings once a minute: temperature and CO2 follow the number of people inside (visitors and staff). */
export function environmentMessages(params: DeviceParams): DraftMessage[] {
  return environmentStreams(params).flatMap((stream) => [...stream]);
}

/** environmentMessages made as they are taken: one stream per device, in time order. */
export function environmentStreams(params: DeviceParams): Array<Iterable<DraftMessage>> {
  const ticks = intervalTicks(params.startMs, params.endMs, ENVIRONMENT_INTERVAL_MS);
  // staff breathe too
  const occupancy = occupancyAt([...params.visitors, ...(params.staff ?? [])], ticks);
  return params.store.devices.filter((d) => d.type === 'environment').map((device) => environmentDrafts(params, device.id, ticks, occupancy));
}

function* environmentDrafts(params: DeviceParams, sourceId: string, ticks: readonly number[], occupancy: readonly number[]): Generator<DraftMessage> {
  const rng = createRng(params.seed, 'environment', sourceId);
  let co2 = CO2_OUTDOOR_PPM + rng.uniform(0, 30);
  let drift = 0;
  let batteryPct = rng.uniform(55, 98);
  let prev = params.startMs;
  for (const [k, ts] of ticks.entries()) {
    const people = occupancy[k] ?? 0;
    const target = CO2_OUTDOOR_PPM + CO2_PPM_PER_PERSON * people;
    co2 += (target - co2) * (1 - Math.exp(-(ts - prev) / CO2_TIME_CONSTANT_MS));
    drift = 0.9 * drift + rng.normal(0, 0.05);
    batteryPct = Math.max(0, batteryPct - 0.0004 * ((ts - prev) / 60_000));
    prev = ts;
    const event = {
      type: 'environment' as const,
      temperature_c: round1(20.8 + 0.03 * people + drift + rng.normal(0, 0.05)),
      humidity_pct: round1(Math.min(100, Math.max(0, 41 + 0.05 * people + rng.normal(0, 0.4)))),
      co2_ppm: Math.round(co2 + rng.normal(0, 4)),
      battery_pct: round1(batteryPct),
      battery_mv: Math.round(2750 + 4.5 * batteryPct),
    };
    yield { kind: 'device', sourceId, ts, rank: RANK_NORMAL, retain: false, payload: { ts, event } };
  }
}

/** People inside at each instant (instants ascending). */
export function occupancyAt(visitors: readonly Visitor[], instants: readonly number[]): number[] {
  const entries = visitors.map((v) => v.enteredAt).sort((a, b) => a - b);
  const exits = visitors.flatMap((v) => (v.leftAt === null ? [] : [v.leftAt])).sort((a, b) => a - b);
  let entered = 0;
  let left = 0;
  return instants.map((t) => {
    while (entered < entries.length && (entries[entered] as number) <= t) entered += 1;
    while (left < exits.length && (exits[left] as number) <= t) left += 1;
    return entered - left;
  });
}

function round1(x: number): number {
  return Math.round(x * 10) / 10;
}
