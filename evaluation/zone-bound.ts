/**
 * How much of the zone accuracy the radio leaves within reach, from the truth alone: a minute in
 * which the visitor's app advertised is counted reachable; a minute it was silent throughout only
 * when its true zone is the zone the visitor was in when the app last advertised before it, when it
 * next advertised after it, or of a touchpoint the visitor used in that minute with the beacon id on the interaction. The share of
 * reachable minutes is what an engine would reach that were always right when the app speaks and
 * always chose the right one of those zones in its silences: a bound for such guesses (an engine can
 * also guess a zone never seen, as one walked through between the two), not for every estimator.
 */
import type { EvaluationTruth } from './evaluate.js';
import { MINUTE_MS, type ZoneMinutes } from './metrics.js';

type Visit = EvaluationTruth['visits'][number];

export interface ZoneBound {
  minutes: number;
  /** Minutes in which the app advertised at some time. */
  advertising: number;
  /** Silent minutes whose true zone is one of the zones around the silence. */
  silentReachable: number;
  pct: number | null;
}

/** The visitor's zone at `ts` by the truth's path (its first or last stay outside it). */
export function zoneAt(path: Visit['path'], ts: number): string | undefined {
  return (path.find((s) => s.from <= ts && ts < s.to) ?? (ts < (path[0]?.from ?? 0) ? path[0] : path[path.length - 1]))?.zone;
}

/** Over the visits and their true zone per minute (the truth's minutes). */
export function zoneBound(
  truth: Pick<EvaluationTruth, 'interactions' | 'floorPlan'>,
  visits: ReadonlyArray<{ visit: Visit; minutes: ZoneMinutes }>,
): ZoneBound {
  const zoneOf = new Map(truth.floorPlan.touchpoints.map((t) => [t.id, t.zone]));
  const out: ZoneBound = { minutes: 0, advertising: 0, silentReachable: 0, pct: null };
  for (const { visit, minutes } of visits) {
    const advertising = visit.advertising ?? [];
    for (const [minute, zone] of minutes) {
      out.minutes += 1;
      if (advertising.some((a) => a.from < minute + MINUTE_MS && a.to > minute)) {
        out.advertising += 1;
        continue;
      }
      const before = advertising.filter((a) => a.to <= minute).reduce((t, a) => Math.max(t, a.to), -Infinity);
      const after = advertising.filter((a) => a.from >= minute + MINUTE_MS).reduce((t, a) => Math.min(t, a.from), Infinity);
      const around = new Set<string | undefined>();
      if (Number.isFinite(before)) around.add(zoneAt(visit.path, before));
      if (Number.isFinite(after)) around.add(zoneAt(visit.path, after));
      for (const i of truth.interactions)
        if (i.beacon !== undefined && i.visit === visit.visitor && i.ts >= minute && i.ts < minute + MINUTE_MS) around.add(zoneOf.get(i.touchpoint));
      if (around.has(zone)) out.silentReachable += 1;
    }
  }
  out.pct = out.minutes === 0 ? null : ((out.advertising + out.silentReachable) / out.minutes) * 100;
  return out;
}
