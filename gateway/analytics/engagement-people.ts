/**
 * Engagement of everyone (`engagement-people/1`): the share of the people exposed to a touchpoint
 * who then used it, estimated from what the engine sees of app carriers. Pure;
 * docs/analytics.md#engagement-of-everyone.
 *
 * The engine links an interaction to an exposure only for app carriers (their interactions name the
 * beacon the scanners hear), and their rate is not everyone's: people who installed the retailer's
 * app use its touchpoints more. Per touchpoint, over the range:
 *
 * - people exposed ≈ the engine's exposures × the people per BLE visit (occupancy-people.ts: the
 *   fused footfall ÷ the BLE visits where those are final) — app carriers go where everyone goes;
 * - people who used it ≈ the engine's linked interactions × (all interactions ÷ the interactions that
 *   carry a beacon) — the touchpoint's use by everyone counted in actions, turned into uses at the
 *   app carriers' actions per use (an anonymous message carries no session, so its uses cannot be
 *   counted directly; a use is one or more actions: browse, tap, try on);
 * - the rate is their ratio: the app carriers' rate × that interactions ratio ÷ the people per visit,
 *   at most 1 (a share; over a short interval with few exposures the two estimates can cross).
 *
 * With no interaction carrying a beacon at a touchpoint in the range, the ratio is unknown and so is
 * the rate there.
 */
import type { FieldValues } from './metric-queries.js';
import type { PeopleScale } from './occupancy-people.js';
import type { MetricSeries } from './result-shaping.js';

export const PEOPLE_ENGAGEMENT_DEFINITION = 'engagement-people/1';

/** One touchpoint's inputs over an interval (or the range). */
export interface EngagementInputs {
  /** The engine's exposures (app carriers). */
  exposures: number;
  /** Those that ended in an interaction. */
  linked: number;
}

/** All interactions ÷ the ones carrying a beacon over the range; null when none carried one. */
export function interactionsPerBeaconInteraction(interactions: number, beaconInteractions: number): number | null {
  return beaconInteractions > 0 ? interactions / beaconInteractions : null;
}

/** People exposed, people who used it and their ratio; null where an input is missing. */
export function peopleEngagement(i: EngagementInputs, ratio: number | null, peoplePerBleVisit: number): FieldValues {
  const exposed = i.exposures * peoplePerBleVisit;
  const used = ratio === null ? null : i.linked * ratio;
  return {
    people_exposed: round1(exposed),
    people_engaged: used === null ? null : round1(used),
    people_engagement_rate: used === null || exposed <= 0 ? null : Math.min(1, used / exposed),
  };
}

/**
 * One people series per exposure series (per touchpoint and definition) of an engagement answer,
 * from its exposure and interaction series and the scale.
 */
export function peopleEngagementSeries(series: readonly MetricSeries[], scale: PeopleScale, params: Record<string, unknown>): MetricSeries[] {
  const interactionsOf = new Map(series.filter((s) => s.measurement === 'interaction').map((s) => [s.labels['touchpoint'], s.total]));
  return series
    .filter((s) => s.measurement === 'exposure')
    .map((s) => {
      const totals = interactionsOf.get(s.labels['touchpoint']);
      const ratio = interactionsPerBeaconInteraction(totals?.['interactions'] ?? 0, totals?.['beacon_interactions'] ?? 0);
      const inputs = (v: FieldValues): EngagementInputs => ({ exposures: v['exposures'] ?? 0, linked: v['linked_interactions'] ?? 0 });
      return {
        measurement: 'exposure | interaction | telemetry | visit',
        labels: { ...s.labels, unit: 'people' },
        definition: PEOPLE_ENGAGEMENT_DEFINITION,
        params: [
          JSON.stringify({
            ...params,
            interactionsPerBeaconInteraction: ratio === null ? null : Math.round(ratio * 1000) / 1000,
            exposures: s.definition,
          }),
        ],
        total: peopleEngagement(inputs(s.total), ratio, scale.peoplePerBleVisit),
        points: s.points.map((p) => ({ time: p.time, values: peopleEngagement(inputs(p.values), ratio, scale.peoplePerBleVisit) })),
      };
    });
}

function round1(value: number): number {
  return Math.round(value * 10) / 10;
}
