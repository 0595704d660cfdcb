/**
 * Reads the experience engine's measurements of a run from InfluxDB over InfluxQL
 * (docs/schema.md#derived-measurements): visits, zone stays, exposures, passers-by and occupancy.
 */
import type { InfluxQuery, QuerySeries } from '../gateway/influx/influx-query.js';
import type { EngineWifiVisit } from './wifi-figures.js';

export interface EngineVisit {
  id: string;
  visitor: string;
  start: number;
  end: number;
  /** The engine's zone per minute of the visit (minute start → zone), when stored. */
  minutes?: Map<number, string>;
  /** The definition's parameters (`key=value;…`). */
  params: string;
}

export interface EngineStay {
  visitId: string;
  visitor: string;
  zone: string;
  enter: number;
  exit: number;
  passing: boolean;
}

export interface EngineEvents {
  visits: EngineVisit[];
  stays: EngineStay[];
  exposures: Array<{ visitor: string; touchpoint: string; interacted: boolean }>;
  passersBy: Array<{ visitor: string; at: number }>;
  /** Zone → minute start → devices. */
  occupancy: Map<string, Map<number, number>>;
}

/** Quotes an InfluxQL string literal. */
function literal(value: string): string {
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

function rows(series: QuerySeries[]): Array<Record<string, unknown>> {
  return series.flatMap((s) => s.values.map((v) => ({ ...s.tags, ...Object.fromEntries(s.columns.map((c, i) => [c, v[i]])) })));
}

const str = (v: unknown): string => (typeof v === 'string' ? v : '');
const num = (v: unknown): number => (typeof v === 'number' ? v : Number.NaN);

/** A visit's `minutes` field (zones separated by commas, empty for none) from its first minute. */
export function parseMinutes(from: number, text: string): Map<number, string> {
  return minuteMap(from, text.split(','));
}

/** Zones per minute from `from` on (empty or null: no zone that minute) as minute start → zone. */
export function minuteMap(from: number, zones: ReadonlyArray<string | null>): Map<number, string> {
  const out = new Map<number, string>();
  zones.forEach((zone, i) => {
    if (zone !== null && zone !== '') out.set(from + i * 60_000, zone);
  });
  return out;
}

/** The engine's events of store `storeId` stamped in [startMs, endMs]. */
export async function readEngineEvents(query: Pick<InfluxQuery, 'query'>, storeId: string, startMs: number, endMs: number): Promise<EngineEvents> {
  const where = `"store" = ${literal(storeId)} AND time >= ${startMs}ms AND time <= ${endMs}ms`;
  const ask = async (influxql: string) => rows(await query.query(influxql, { epoch: 'ms' }));

  const visits = (await ask(`SELECT "visit_id", "visitor", "end_ms", "params", "minutes_from", "minutes" FROM "visit" WHERE ${where}`)).map((r) => ({
    id: str(r['visit_id']),
    visitor: str(r['visitor']),
    start: num(r['time']),
    end: num(r['end_ms']),
    params: str(r['params']),
    ...(typeof r['minutes'] === 'string' && typeof r['minutes_from'] === 'number' ? { minutes: parseMinutes(r['minutes_from'], r['minutes']) } : {}),
  }));
  const stays = (await ask(`SELECT "visit_id", "visitor", "exit_ms" FROM "zone_stay" WHERE ${where} GROUP BY "zone", "passing"`)).map((r) => ({
    visitId: str(r['visit_id']),
    visitor: str(r['visitor']),
    zone: str(r['zone']),
    enter: num(r['time']),
    exit: num(r['exit_ms']),
    passing: r['passing'] === 'true',
  }));
  const exposures = (await ask(`SELECT "visitor", "interacted" FROM "exposure" WHERE ${where} GROUP BY "touchpoint"`)).map((r) => ({
    visitor: str(r['visitor']),
    touchpoint: str(r['touchpoint']),
    interacted: r['interacted'] === true,
  }));
  const passersBy = (await ask(`SELECT "visitor" FROM "passer_by" WHERE ${where}`)).map((r) => ({ visitor: str(r['visitor']), at: num(r['time']) }));
  const occupancy = new Map<string, Map<number, number>>();
  for (const r of await ask(`SELECT "devices" FROM "occupancy" WHERE ${where} GROUP BY "zone"`)) {
    const zone = str(r['zone']);
    const byMinute = occupancy.get(zone) ?? new Map<number, number>();
    byMinute.set(num(r['time']), num(r['devices']));
    occupancy.set(zone, byMinute);
  }
  return { visits, stays, exposures, passersBy, occupancy };
}

/** The engine's wifi visits (`wifi_visit`, visit-wifi/1) in the window: start and end, as wifi-figures.ts compares them. */
export async function readWifiVisits(query: Pick<InfluxQuery, 'query'>, storeId: string, startMs: number, endMs: number): Promise<EngineWifiVisit[]> {
  const where = `"store" = ${literal(storeId)} AND time >= ${startMs}ms AND time <= ${endMs}ms`;
  return rows(await query.query(`SELECT "end_ms" FROM "wifi_visit" WHERE ${where}`, { epoch: 'ms' })).map((r) => ({
    start: num(r['time']),
    end: num(r['end_ms']),
  }));
}
