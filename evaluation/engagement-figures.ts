/**
 * `storeloop evaluate`, engagement of everyone (engagement-people/1, the metrics API's estimate for
 * all visitors, not only the app carriers the engine tracks) against the truth's share of
 * (touchpoint, visitor) exposures that ended in an interaction, every visitor's, over the window's
 * whole clock hours. The caller gives the estimate summed over the touchpoints (the CLI from the
 * metrics API's reader, the accuracy bench from the same functions in process).
 */
import type { EvaluationTruth, Figure } from './evaluate.js';
import { addTo, engagementPct, type Engagement } from './metrics.js';

/** The estimate summed over the touchpoints whose rate is known (an interaction there named a beacon). */
export interface PeopleEngagementTotal {
  exposed: number;
  engaged: number;
  /** Touchpoints with exposures but no rate (no interaction named a beacon), left out of both sums. */
  unknown: number;
}

export const ENGAGEMENT_DEFINITIONS = {
  people:
    "|engine − truth| of the share of exposures that ended in an interaction, everyone's; engine: engagement-people/1 summed over the touchpoints (the app carriers' exposures × the people per BLE visit, their linked interactions × all interactions ÷ those naming a beacon); truth: every visitor's (touchpoint, visitor) exposures starting in the window's whole clock hours",
} as const;

function fmt(value: number | null): string {
  return value === null ? 'n/a' : value.toFixed(1);
}

/** The figure; `range`: the whole clock hours the estimate covers. */
export function engagementFigures(
  truth: Pick<EvaluationTruth, 'exposures'>,
  range: { from: number; to: number },
  estimate: PeopleEngagementTotal | null,
): Figure[] {
  const side: Engagement = { exposed: new Map(), interacted: new Map() };
  for (const e of truth.exposures.filter((x) => x.from >= range.from && x.from < range.to)) {
    addTo(side.exposed, e.touchpoint, e.visitor);
    if (e.interacted) addTo(side.interacted, e.touchpoint, e.visitor);
  }
  const t = engagementPct(side);
  const pct = estimate === null || estimate.exposed <= 0 ? null : Math.min(1, estimate.engaged / estimate.exposed) * 100;
  const unknown = estimate !== null && estimate.unknown > 0 ? `; ${estimate.unknown} touchpoint(s) left out, no interaction there named a beacon` : '';
  return [
    {
      key: 'engine_engagement_people_error_pp',
      label: 'engagement error, everyone estimated (engine)',
      value: t.pct === null || pct === null ? null : Math.abs(pct - t.pct),
      unit: 'pp',
      definition: ENGAGEMENT_DEFINITIONS.people,
      detail: `engine ${fmt(pct)} % (${fmt(estimate?.engaged ?? null)} of ${fmt(estimate?.exposed ?? null)} people), truth ${fmt(t.pct)} % (${t.engaged}/${t.exposures})${unknown}`,
      ...(t.pct === null || pct === null ? { reason: 'no exposure in the engine or the truth, or no people scale' } : {}),
    },
  ];
}
