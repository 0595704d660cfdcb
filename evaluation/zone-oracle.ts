/**
 * What a perfect radio would give, from the truth alone: an engine that knew the visitor's true zone
 * at every instant their app advertised (no zone the scanners confuse, every change timed exactly)
 * and, like the experience engine, knew nothing while it was silent, filling the silences by the
 * engine's rules (gateway/experience/segments.ts, passed in by the caller: evaluation does not
 * import the engine):
 *
 * - a silence between two advertising stretches in one zone stays in that zone;
 * - a silence between two zones changes at its middle, except that an entrance zone (one with a
 *   door) gets only `passThroughMs` of it (walked through on the way in or out);
 * - before the first and after the last advertising, the zone is extended by `edgeMs` (imputed:
 *   minutes only, not dwell).
 *
 * Its zone accuracy is what the engine's silence rules allow at best with this sensor set (the app
 * advertising only part of the time); its dwell error what the radio costs. Neither is a bound for
 * every estimator: a rule that guessed better where a visitor went during a silence would do better,
 * but the sensors do not say (an interaction that names the beacon does, and the engine uses it).
 */
import { dwellByZone, minuteZones, PASSING_MS, truthMinutes, zoneStays } from '../simulators/truth-minutes.js';
import type { EvaluationTruth, Figure } from './evaluate.js';
import { dwellMdapePct, zoneAccuracy, type ZoneMinutes } from './metrics.js';
import { zoneAt as zoneOf } from './zone-bound.js';

type Visit = EvaluationTruth['visits'][number];

/** The engine's rules for what it cannot hear (its parameters of the same names). */
export interface SilenceRules {
  /** A track extended by this much before its first and after its last heard step, ms (edgeExtendMs). */
  edgeMs: number;
  /** An entrance zone's share of a silence next to it, ms (passThroughMs). */
  passThroughMs: number;
  /** Zones with a door. */
  entrances: ReadonlySet<string>;
}

interface Segment {
  zone: string;
  from: number;
  to: number;
}

/** The segments a perfect radio and the silence rules give: `heard` between the first and last advertising, `edges` imputed outside. */
export function perfectRadioSegments(visit: Visit, rules: SilenceRules): { heard: Segment[]; edges: Segment[] } {
  const end = visit.leftAt ?? Infinity;
  const stretches = (visit.advertising ?? []).map((a) => ({ from: Math.max(a.from, visit.enteredAt), to: Math.min(a.to, end) })).filter((a) => a.to > a.from);
  const heard: Segment[] = [];
  const push = (list: Segment[], zone: string, from: number, to: number) => {
    if (to > from) list.push({ zone, from, to });
  };
  if (visit.path.length === 0 || stretches.length === 0) return { heard, edges: [] };
  // the path is not empty: there is a zone at every instant
  const zoneAt = (path: Visit['path'], ts: number) => zoneOf(path, ts) as string;
  stretches.forEach((a, i) => {
    for (const s of visit.path) push(heard, s.zone, Math.max(s.from, a.from), Math.min(s.to, a.to));
    const next = stretches[i + 1];
    if (next === undefined) return;
    const before = zoneAt(visit.path, a.to - 1);
    const after = zoneAt(visit.path, next.from);
    if (before === after) return push(heard, before, a.to, next.from);
    let cut = (a.to + next.from) / 2;
    if (rules.entrances.has(before)) cut = Math.min(cut, a.to + rules.passThroughMs);
    else if (rules.entrances.has(after)) cut = Math.max(cut, next.from - rules.passThroughMs);
    push(heard, before, a.to, cut);
    push(heard, after, cut, next.from);
  });
  heard.sort((x, y) => x.from - y.from);
  const first = stretches[0] as { from: number; to: number };
  const last = stretches[stretches.length - 1] as { from: number; to: number };
  const edges: Segment[] = [];
  push(edges, zoneAt(visit.path, first.from), first.from - rules.edgeMs, first.from);
  push(edges, zoneAt(visit.path, last.to - 1), last.to, last.to + rules.edgeMs);
  return { heard, edges };
}

/** A perfect radio's zone per minute (the truth's definition of a minute's zone) and dwell per zone (heard segments only). */
export function perfectRadio(visit: Visit, rules: SilenceRules): { minutes: ZoneMinutes; dwell: Map<string, number> } {
  const { heard, edges } = perfectRadioSegments(visit, rules);
  if (heard.length === 0) return { minutes: new Map(), dwell: new Map() };
  const all = [...edges, ...heard].sort((x, y) => x.from - y.from);
  return { minutes: minuteZones(truthMinutes(all)), dwell: dwellByZone(zoneStays(heard)) };
}

export const PERFECT_RADIO_DEFINITIONS = {
  zone: "from the truth alone, not the engine: the zone accuracy (as the engine's) of a perfect radio — the true zone at every instant the app advertised — with the silences filled by the engine's rules (one zone kept, two changing midway, an entrance walked through, the track's ends extended): what those rules allow at best with the app advertising only part of the time",
  dwell: `the dwell error (as the engine's, passing stays under ${PASSING_MS / 1000} s left out) of that perfect radio, its dwell measured between the first and last advertising as the engine's between sightings: what is left once the radio is perfect`,
} as const;

/** The two figures over the compared visits; n/a without the engine's rules. */
export function perfectRadioFigures(
  truth: Pick<EvaluationTruth, 'floorPlan'>,
  compared: readonly Visit[],
  rules: Omit<SilenceRules, 'entrances'> | undefined,
): Figure[] {
  const reason = rules === undefined ? { reason: "the engine's silence rules were not given" } : {};
  const oracle =
    rules === undefined ? [] : compared.map((v) => ({ visit: v, ...perfectRadio(v, { ...rules, entrances: new Set(truth.floorPlan.entrances) }) }));
  const zone = zoneAccuracy(oracle.map((o) => ({ truth: minuteZones(o.visit.minutes), estimate: o.minutes })));
  const dwell = dwellMdapePct(oracle.map((o) => ({ truth: dwellByZone(o.visit.stays), estimate: o.dwell })));
  return [
    {
      key: 'zone_perfect_radio_pct',
      label: "zone accuracy of a perfect radio with the engine's silence rules (truth)",
      value: rules === undefined ? null : zone.pct,
      unit: '%',
      definition: PERFECT_RADIO_DEFINITIONS.zone,
      detail: `${zone.correct} of ${zone.minutes} visitor-minutes`,
      ...reason,
    },
    {
      key: 'dwell_perfect_radio_mdape_pct',
      label: 'dwell error of a perfect radio, median absolute (truth)',
      value: rules === undefined ? null : dwell.pct,
      unit: '%',
      definition: PERFECT_RADIO_DEFINITIONS.dwell,
      detail: `${dwell.pairs} visit-zone stays`,
      ...reason,
    },
  ];
}
