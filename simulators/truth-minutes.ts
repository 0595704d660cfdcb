/**
 * What the truth derives from a visit's path (docs/simulator.md, "Ground truth"): the true zone of
 * every clock minute, the zone stays with their dwell, and the route. One implementation: the
 * evaluation (`storeloop evaluate`) reads these from the truth file instead of re-deriving them.
 */
import type { PathSegment } from './visitors.js';

/** One minute, ms. Minutes are epoch-aligned, as InfluxQL's `GROUP BY time(1m)`. */
export const MINUTE_MS = 60_000;

/**
 * A zone stay shorter than this is `passing` (walked through on the way): a camera analytics vendor
 * counts a visit to a store section only when the customer stays in it more than 30 s (Palexy,
 * "Section Traffic Metrics", wiki.palexy.com).
 */
export const PASSING_MS = 30_000;

/** The true zone per minute: `zones[i]` is the zone of the minute starting at `start + i · MINUTE_MS`. */
export interface TruthMinutes {
  /** Epoch ms of the first minute: the clock minute the visit's path starts in. */
  start: number;
  /**
   * One entry per clock minute the path overlaps, in order: the zone the visitor spent the most of
   * that minute in (the first such zone of the path on a tie), or null for a minute they spent less
   * than half of inside (inside the window).
   */
  zones: Array<string | null>;
}

/** A maximal run of the path in one zone. */
export interface ZoneStay {
  zone: string;
  /** Epoch ms they stepped in. */
  enter: number;
  /** Epoch ms they stepped out (the window's end for someone still inside). */
  exit: number;
  /** exit − enter, ms. */
  dwellMs: number;
  /** Present (true) only when dwellMs < PASSING_MS: walked through rather than stayed. */
  passing?: true;
}

/** The truth's zone of every minute of a path (see TruthMinutes). */
export function truthMinutes(path: readonly PathSegment[]): TruthMinutes {
  const first = path[0];
  if (first === undefined) return { start: 0, zones: [] };
  const start = Math.floor(first.from / MINUTE_MS) * MINUTE_MS;
  const end = (path[path.length - 1] as PathSegment).to;
  // zone → ms inside, per minute index; a Map keeps the order zones first appear in the minute
  const perMinute: Array<Map<string, number>> = [];
  for (let minute = start; minute < end; minute += MINUTE_MS) perMinute.push(new Map());
  for (const stay of path) {
    for (let minute = Math.floor(stay.from / MINUTE_MS) * MINUTE_MS; minute < stay.to; minute += MINUTE_MS) {
      const overlap = Math.min(stay.to, minute + MINUTE_MS) - Math.max(stay.from, minute);
      if (overlap <= 0) continue;
      const zones = perMinute[(minute - start) / MINUTE_MS] as Map<string, number>;
      zones.set(stay.zone, (zones.get(stay.zone) ?? 0) + overlap);
    }
  }
  return { start, zones: perMinute.map(mostOf) };
}

function mostOf(zones: Map<string, number>): string | null {
  let total = 0;
  let best: [string, number] | undefined;
  for (const [zone, ms] of zones) {
    total += ms;
    if (best === undefined || ms > best[1]) best = [zone, ms];
  }
  return best !== undefined && total * 2 >= MINUTE_MS ? best[0] : null;
}

/** The minutes that have a zone, as minute start (epoch ms) → zone. */
export function minuteZones(minutes: TruthMinutes): Map<number, string> {
  const out = new Map<number, string>();
  minutes.zones.forEach((zone, i) => {
    if (zone !== null) out.set(minutes.start + i * MINUTE_MS, zone);
  });
  return out;
}

/** The zone stays of a path: consecutive segments in one zone merged, each with its dwell and `passing` flag. */
export function zoneStays(path: readonly PathSegment[]): ZoneStay[] {
  const out: ZoneStay[] = [];
  for (const seg of path) {
    const last = out[out.length - 1];
    if (last !== undefined && last.zone === seg.zone && last.exit === seg.from) last.exit = seg.to;
    else out.push({ zone: seg.zone, enter: seg.from, exit: seg.to, dwellMs: 0 });
  }
  return out.map(({ zone, enter, exit }) => ({ zone, enter, exit, dwellMs: exit - enter, ...(exit - enter < PASSING_MS ? { passing: true as const } : {}) }));
}

/** The zones in the order visited, without repeats of consecutive ones (passing stays included). */
export function route(stays: readonly ZoneStay[]): string[] {
  return stays.map((s) => s.zone);
}

/** Dwell per zone, ms: the sum of the visit's stays in it that were not passing; zones only passed through are left out. */
export function dwellByZone(stays: readonly ZoneStay[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const stay of stays) if (stay.passing !== true) out.set(stay.zone, (out.get(stay.zone) ?? 0) + stay.dwellMs);
  return out;
}

/** What the truth derives from a path: the zone per minute, the stays and the route. */
export function pathTruth(path: readonly PathSegment[]): { minutes: TruthMinutes; stays: ZoneStay[]; route: string[] } {
  const stays = zoneStays(path);
  return { minutes: truthMinutes(path), stays, route: route(stays) };
}
