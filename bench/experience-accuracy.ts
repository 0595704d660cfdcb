/**
 * `npm run experience-accuracy`: the experience engine as the gateway runs it (the event-log sink,
 * gateway/experience/experience-sink.ts) measured against the simulator's truth with the figures of
 * `storeloop evaluate` (evaluation/engine-figures.ts), without MQTT or InfluxDB: each seed's
 * simulation is built in memory, its accepted messages fed to the sink as log records in the order
 * they reach the gateway, and the events it makes final compared with the truth. Tune on
 * `--seeds 101-105`; report on `--seeds 1-5` (the default).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { Command } from 'commander';
import { Registry } from 'prom-client';

import { DEMO_STORE, parseConfig } from '../config/index.js';
import { minuteMap, type EngineEvents } from '../evaluation/engine-events.js';
import { DEFAULT_SETTLE_MS, evaluateEngine } from '../evaluation/engine-figures.js';
import type { Figure } from '../evaluation/evaluate.js';
import { engagementFigures } from '../evaluation/engagement-figures.js';
import { footfallFigures, wholeHours, type FusedHour } from '../evaluation/footfall-figures.js';
import { peopleFigures, type PeopleZoneHour } from '../evaluation/people-figures.js';
import { wifiFigures } from '../evaluation/wifi-figures.js';
import { doorsAudit, fuseFootfall, peopleScale, type FootfallInputs } from '../gateway/analytics/footfall-fusion.js';
import { peopleFrom } from '../gateway/analytics/occupancy-people.js';
import { doorCounters } from '../gateway/analytics/metric-queries.js';
import type { StoreConfig } from '../config/index.js';
import { ExperienceSink } from '../gateway/experience/experience-sink.js';
import { DEFAULT_PRESENCE_PARAMS, type PresenceParams } from '../gateway/experience/params.js';
import type { ExperienceEvent } from '../gateway/log/derived-record.js';
import type { LogRecord } from '../gateway/log/log-record.js';
import { createLogger } from '../lib/logger.js';
import { buildSimulation, DEFAULT_SIMULATION_OPTIONS } from '../simulators/index.js';
import { parseSeeds } from './accuracy-table.js';
import { peopleEngagementTotal } from './people-engagement.js';
import { simLogRecords } from './sim-log-records.js';

const HOUR_MS = 3_600_000;

/** The window ends Monday 30 November 2026, 16:00 in Paris: the demo store open for all of it. */
export const EXPERIENCE_NOW = Date.UTC(2026, 10, 30, 15);

/** The engine's events as `storeloop evaluate` reads them back from InfluxDB. */
export function asEngineEvents(events: readonly ExperienceEvent[]): EngineEvents {
  const out: EngineEvents = { visits: [], stays: [], exposures: [], passersBy: [], occupancy: new Map() };
  for (const e of events) {
    if (e.type === 'visit')
      out.visits.push({
        id: e.id,
        visitor: e.visitor,
        start: e.start,
        end: e.end,
        params: e.params,
        ...(e.minutes === undefined ? {} : { minutes: minuteMap(e.minutes.from, e.minutes.zones) }),
      });
    else if (e.type === 'zone_stay') out.stays.push({ visitId: e.visitId, visitor: e.visitor, zone: e.zone, enter: e.enter, exit: e.exit, passing: e.passing });
    else if (e.type === 'exposure') out.exposures.push({ visitor: e.visitor, touchpoint: e.touchpoint, interacted: e.interacted });
    else if (e.type === 'passer_by') out.passersBy.push({ visitor: e.visitor, at: e.at });
    else if (e.type === 'occupancy') {
      const byMinute = out.occupancy.get(e.zone) ?? new Map<number, number>();
      byMinute.set(e.minute, e.devices);
      out.occupancy.set(e.zone, byMinute);
    }
  }
  return out;
}

/** What `footfallInputs` returns: per whole clock hour, and summed over the part of those hours whose BLE visits are final. */
export interface HourlyFootfallInputs {
  from: number;
  inputs: FootfallInputs[];
  /** From `from` to the engine's frontier (or the hours' end): what the API scales devices to people with. */
  settled: FootfallInputs;
}

/**
 * The door counters' entries and reports and the BLE visits started, per whole clock hour of the
 * window (as InfluxDB holds them), and over the hours up to the engine's frontier as the API reads it
 * (the end of its last final occupancy minute).
 */
export function footfallInputs(
  store: StoreConfig,
  records: readonly LogRecord[],
  events: readonly ExperienceEvent[],
  windowStart: number,
  windowEnd: number,
): HourlyFootfallInputs {
  const doors = doorCounters(store);
  const { from, to } = wholeHours(windowStart, windowEnd);
  const hour = (ts: number) => (ts < from ? -1 : Math.floor((ts - from) / HOUR_MS));
  const finalUntil = events.reduce((last, e) => (e.type === 'occupancy' ? Math.max(last, e.minute + 60_000) : last), -Infinity);
  const settledTo = Math.min(to, finalUntil);
  const settled = { counterIn: 0, reports: 0, bleVisits: 0, bleFinal: true };
  const inputs = Array.from({ length: Math.max(0, (to - from) / HOUR_MS) }, (_, i) => ({
    counterIn: 0,
    reports: 0,
    bleVisits: 0,
    bleFinal: from + (i + 1) * HOUR_MS <= finalUntil,
  }));
  for (const r of records) {
    const event = (r.message as { event?: { type?: string; in?: number } }).event;
    if (r.kind !== 'device' || event?.type !== 'people_count' || !doors.some((d) => d.id === r.source.sourceId)) continue;
    const slot = inputs[hour(r.eventTime)];
    if (slot === undefined) continue;
    slot.counterIn += event.in ?? 0;
    slot.reports += 1;
    if (r.eventTime < settledTo) {
      settled.counterIn += event.in ?? 0;
      settled.reports += 1;
    }
  }
  for (const e of events) {
    const slot = e.type === 'visit' ? inputs[hour(e.start)] : undefined;
    if (slot === undefined || e.type !== 'visit') continue;
    slot.bleVisits += 1;
    if (e.start < settledTo) settled.bleVisits += 1;
  }
  return { from, inputs, settled };
}

/** The fused footfall per whole clock hour, as the metrics API computes it from the same points. */
export function fusedHours(store: StoreConfig, { from, inputs }: HourlyFootfallInputs): FusedHour[] {
  const fused = fuseFootfall(inputs, doorsAudit(doorCounters(store)));
  return fused.points.map((p, i) => ({
    start: from + i * HOUR_MS,
    count: p.count,
    low: p.low,
    high: p.high,
    estimated: p.estimated,
    counted: (inputs[i]?.reports ?? 0) > 0 ? (inputs[i]?.counterIn ?? 0) : null,
  }));
}

/**
 * Occupancy of people per zone and whole clock hour, as the metrics API computes it: the mean of the
 * engine's device counts over the hour's minutes (only hours it made final throughout), scaled by the
 * people per BLE visit from the hours' start to the engine's frontier (one interval, as the API's range).
 */
export function peopleZoneHours(store: StoreConfig, { from, inputs, settled }: HourlyFootfallInputs, events: readonly ExperienceEvent[]): PeopleZoneHour[] {
  const scale = peopleScale(settled, doorsAudit(doorCounters(store)));
  if (scale === null) return [];
  const sums = new Map<string, { zone: string; start: number; devices: number; minutes: number }>();
  for (const e of events) {
    if (e.type !== 'occupancy' || e.minute < from) continue;
    const start = from + Math.floor((e.minute - from) / HOUR_MS) * HOUR_MS;
    if (start >= from + inputs.length * HOUR_MS) continue;
    const key = `${e.zone} ${start}`;
    const sum = sums.get(key) ?? { zone: e.zone, start, devices: 0, minutes: 0 };
    sum.devices += e.devices;
    sum.minutes += 1;
    sums.set(key, sum);
  }
  return [...sums.values()]
    .filter((s) => s.minutes === HOUR_MS / 60_000)
    .map((s) => {
      const p = peopleFrom(s.devices / s.minutes, scale);
      return { zone: s.zone, start: s.start, people: p['people_mean'] ?? null, low: p['people_low'] ?? null, high: p['people_high'] ?? null };
    });
}

/** One seed's engine figures. */
export async function experienceAccuracy(
  seed: number,
  durationMs: number,
  calibrate: boolean,
  now = EXPERIENCE_NOW,
  /** Engine parameters overriding the defaults (tuning). */
  overrides: Partial<PresenceParams> = {},
): Promise<Figure[]> {
  const store = parseConfig({ stores: [DEMO_STORE] }).stores[0];
  if (store === undefined) throw new Error('the demo store is missing');
  const sim = buildSimulation({ ...DEFAULT_SIMULATION_OPTIONS, store, seed, durationMs, now });
  const dir = await mkdtemp(join(tmpdir(), 'storeloop-experience-accuracy-'));
  try {
    const events: ExperienceEvent[] = [];
    const sink = new ExperienceSink({
      stores: [store],
      dir,
      derivedLog: { append: async (_store, list) => (events.push(...list), { appended: list.length, duplicates: 0 }) },
      log: createLogger('silent'),
      registry: new Registry(),
      finalizeEveryMs: 5 * 60_000,
      maxSourceLagMs: 30 * 60_000,
      lateToleranceMs: 60_000,
      maxVisitMs: 180 * 60_000,
      occupancyHoldMs: 60 * 60_000,
      params: { ...DEFAULT_PRESENCE_PARAMS, ...overrides, calibrate },
    });
    await sink.start();
    const records = simLogRecords(sim.messages, store);
    for (let i = 0; i < records.length; i += 1000) await sink.deliver(records.slice(i, i + 1000));
    const inputs = footfallInputs(store, records, events, sim.truth.windowStart, sim.truth.windowEnd);
    const hours = { from: inputs.from, to: inputs.from + inputs.inputs.length * HOUR_MS };
    return [
      ...evaluateEngine(sim.truth, asEngineEvents(events), DEFAULT_SETTLE_MS, {
        edgeMs: DEFAULT_PRESENCE_PARAMS.edgeExtendMs,
        passThroughMs: DEFAULT_PRESENCE_PARAMS.passThroughMs,
      }),
      ...engagementFigures(sim.truth, hours, peopleEngagementTotal(store, records, events, hours, inputs.settled)),
      ...footfallFigures(sim.truth, fusedHours(store, inputs)),
      ...peopleFigures(sim.truth, peopleZoneHours(store, inputs, events)),
      ...wifiFigures(
        sim.truth,
        events.flatMap((e) => (e.type === 'wifi_visit' ? [{ start: e.start, end: e.end }] : [])),
        new Set(records.flatMap((r) => (r.kind === 'wifi' ? r.message.observations.map((o) => o.id) : []))),
        DEFAULT_SETTLE_MS,
      ),
    ];
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** A markdown table: one row per figure, one column per seed, then the mean. */
export function formatExperienceTable(title: string, seeds: readonly number[], results: ReadonlyArray<readonly Figure[]>): string {
  const first = results[0];
  if (first === undefined) return `${title}: no seeds\n`;
  const lines = [title, '', `| Figure | ${seeds.map((s) => `seed ${s}`).join(' | ')} | mean |`, `| --- |${' --- |'.repeat(seeds.length + 1)}`];
  first.forEach((figure, row) => {
    const values = results.map((figures) => figures[row]?.value ?? null);
    const known = values.filter((v): v is number => v !== null);
    const mean = known.length === 0 ? null : known.reduce((a, b) => a + b, 0) / known.length;
    const cell = (v: number | null) =>
      v === null ? 'n/a' : `${v.toFixed(1)}${figure.unit === 'devices' || figure.unit === 'visits' || figure.unit === 'people' ? '' : ` ${figure.unit}`}`;
    lines.push(`| ${figure.label} | ${values.map(cell).join(' | ')} | ${cell(mean)} |`);
  });
  return `${lines.join('\n')}\n`;
}

/** `--params`: a JSON object of engine parameters (params.ts), each known and of its default's type. */
export function parseOverrides(json: string | undefined): Partial<PresenceParams> {
  if (json === undefined) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch (err) {
    throw new Error(`--params: not JSON: ${(err as Error).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('--params: expected a JSON object of engine parameters');
  for (const [key, value] of Object.entries(parsed)) {
    if (!(key in DEFAULT_PRESENCE_PARAMS)) throw new Error(`--params: unknown engine parameter ${key} (gateway/experience/params.ts)`);
    const expected = typeof DEFAULT_PRESENCE_PARAMS[key as keyof PresenceParams];
    if (typeof value !== expected) throw new Error(`--params: ${key} must be a ${expected}, got ${JSON.stringify(value)}`);
  }
  return parsed as Partial<PresenceParams>;
}

interface Options {
  seeds: string;
  duration: string;
  end: string;
  calibrate?: boolean;
  params?: string;
}

async function main(options: Options): Promise<void> {
  const seeds = parseSeeds(options.seeds);
  const durationMs = Number(options.duration) * 60_000;
  const calibrate = options.calibrate ?? false;
  const end = Date.parse(options.end);
  if (Number.isNaN(end)) throw new Error(`--end: not a date: ${options.end}`);
  const overrides = parseOverrides(options.params);
  const results: Figure[][] = [];
  for (const seed of seeds) {
    process.stderr.write(`experience-accuracy: seed ${seed}…\n`);
    results.push(await experienceAccuracy(seed, durationMs, calibrate, end, overrides));
  }
  const tuned = Object.keys(overrides).length === 0 ? '' : `, engine parameters ${JSON.stringify(overrides)}`;
  const title = `${seeds.length} seeds, ${durationMs / 60_000} min each, demo store, simulator defaults, engine ${calibrate ? 'self-calibrated' : 'not calibrated'} (the gateway's default)${tuned}, window ending ${new Date(end).toISOString()}, visitors who left ${DEFAULT_SETTLE_MS / 60_000} min before its end`;
  process.stdout.write(formatExperienceTable(title, seeds, results));
  for (const figure of results[0] ?? []) process.stdout.write(`\n- ${figure.label}: ${figure.definition}`);
  process.stdout.write('\n');
}

const program = new Command('experience-accuracy')
  .description(
    "the experience engine's events (as the gateway makes them) against the simulator's truth: visits, zone, dwell, engagement, capture rate, occupancy, footfall (fused and wifi)",
  )
  .option('--seeds <list>', 'seeds: a range 1-5 or a list 1,4,9 (tune on 101-105)', '1-5')
  .option('--duration <minutes>', 'simulated minutes per seed', '180')
  .option('--end <iso>', "the window's end (the store should be open for all of it)", new Date(EXPERIENCE_NOW).toISOString())
  .option('--params <json>', 'engine parameters to override, as JSON (tuning on 101-105)')
  .option('--calibrate', 'the engine self-calibrates at each boundary (sinks.experience.calibrate)')
  .action(async (opts: Options) => main(opts));

program.parseAsync().catch((err: unknown) => {
  process.stderr.write(`experience-accuracy: ${(err as Error).message}\n`);
  process.exitCode = 1;
});
