/**
 * The dwell error split by what the radio could know of a stay's ends: stays whose entry and exit
 * both fell while the visitor's app advertised (the radio could time them), and stays with an end in
 * a silence (the app not advertising: the engine, like any estimator of these sensors, can only guess
 * when the change happened). Each side is given for the engine and for the perfect radio
 * (zone-oracle.ts), so the split says where the engine's dwell error comes from: its reading of the
 * radio (the first class, where a perfect radio is exact) or the silences (the second, where a perfect
 * radio errs too).
 */
import { dwellByZone, PASSING_MS } from '../simulators/truth-minutes.js';
import type { EvaluationTruth, Figure } from './evaluate.js';
import { dwellMdapePct } from './metrics.js';
import { perfectRadio, type SilenceRules } from './zone-oracle.js';

type Visit = EvaluationTruth['visits'][number];

/** A stay's end counts as heard when the app advertised within this of it: one scan interval of the demo's BLE scanners. */
export const HEARD_END_MARGIN_MS = 5_000;

export const DWELL_BY_ENDS_DEFINITIONS = {
  heard: `the dwell error (as above) over the visit-zone pairs whose true stays (non-passing, ${PASSING_MS / 1000} s or longer) all began and ended within ${HEARD_END_MARGIN_MS / 1000} s of the app advertising: every end was the radio's to time, and a perfect radio is exact there`,
  silent: `the dwell error (as above) over the other pairs: a stay with at least one end while the app was silent (more than ${HEARD_END_MARGIN_MS / 1000} s from any advertising), where the change can only be guessed`,
} as const;

/** Whether the app advertised within HEARD_END_MARGIN_MS of `at`. */
export function heardAt(at: number, advertising: ReadonlyArray<{ from: number; to: number }>): boolean {
  return advertising.some((a) => a.from - HEARD_END_MARGIN_MS <= at && at <= a.to + HEARD_END_MARGIN_MS);
}

/** The zones of a visit whose non-passing true stays all have both ends heard. */
export function zonesHeardAtBothEnds(visit: Visit): Set<string> {
  const advertising = visit.advertising ?? [];
  const silent = new Set<string>();
  const zones = new Set<string>();
  for (const stay of visit.stays) {
    if (stay.dwellMs < PASSING_MS) continue;
    zones.add(stay.zone);
    if (!heardAt(stay.enter, advertising) || !heardAt(stay.exit, advertising)) silent.add(stay.zone);
  }
  return new Set([...zones].filter((z) => !silent.has(z)));
}

/** `truth` keeping only the zones for which `keep` says yes. */
function only(truth: Map<string, number>, keep: (zone: string) => boolean): Map<string, number> {
  return new Map([...truth].filter(([zone]) => keep(zone)));
}

/**
 * The four figures: engine and perfect radio, stays heard at both ends and stays with an end in a
 * silence. `estimates[i]` is the engine's dwell per zone in `compared[i]`'s span, as its overall
 * dwell figure has it; n/a without the truth's advertising intervals or (perfect radio) the engine's rules.
 */
export function dwellByEndsFigures(
  entrances: readonly string[],
  compared: readonly Visit[],
  estimates: ReadonlyArray<Map<string, number>>,
  rules: Omit<SilenceRules, 'entrances'> | undefined,
): Figure[] {
  const known = compared.some((v) => v.advertising !== undefined);
  const heard = compared.map(zonesHeardAtBothEnds);
  const oracle = rules === undefined ? undefined : compared.map((v) => perfectRadio(v, { ...rules, entrances: new Set(entrances) }).dwell);
  const side = (isHeard: boolean, source: ReadonlyArray<Map<string, number>> | undefined) =>
    source === undefined
      ? { pairs: 0, pct: null }
      : dwellMdapePct(
          compared.map((v, i) => ({
            truth: only(dwellByZone(v.stays), (zone) => heard[i]?.has(zone) === isHeard),
            estimate: source[i] ?? new Map<string, number>(),
          })),
        );
  const figure = (key: string, label: string, isHeard: boolean, source: ReadonlyArray<Map<string, number>> | undefined): Figure => {
    const result = side(isHeard, source);
    const reason = !known
      ? { reason: 'the truth records no advertising interval (a truth written before intermittent advertising)' }
      : source === undefined
        ? { reason: "the engine's silence rules were not given" }
        : result.pct === null
          ? { reason: 'no compared stay in this class' }
          : {};
    return {
      key,
      label,
      value: known ? result.pct : null,
      unit: '%',
      definition: isHeard ? DWELL_BY_ENDS_DEFINITIONS.heard : DWELL_BY_ENDS_DEFINITIONS.silent,
      detail: `${result.pairs} visit-zone stays`,
      ...reason,
    };
  };
  return [
    figure('engine_dwell_heard_ends_mdape_pct', 'dwell error, stays heard at both ends (engine)', true, estimates),
    figure('dwell_perfect_radio_heard_ends_mdape_pct', 'dwell error, stays heard at both ends, perfect radio (truth)', true, oracle),
    figure('engine_dwell_silent_end_mdape_pct', 'dwell error, stays with an end in a silence (engine)', false, estimates),
    figure('dwell_perfect_radio_silent_end_mdape_pct', 'dwell error, stays with an end in a silence, perfect radio (truth)', false, oracle),
  ];
}
