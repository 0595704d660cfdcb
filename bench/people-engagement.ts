/**
 * Engagement of everyone (engagement-people/1) as the metrics API computes it, in process from the
 * log records and the engine's events of an accuracy run (bench/experience-accuracy.ts): per
 * touchpoint the engine's exposures and linked interactions starting in the window's whole hours, the
 * touchpoint's interactions and those naming a beacon in the same hours, the people per BLE visit up
 * to the engine's frontier; summed over the touchpoints for `evaluation/engagement-figures.ts`.
 */
import type { StoreConfig } from '../config/index.js';
import type { PeopleEngagementTotal } from '../evaluation/engagement-figures.js';
import { interactionsPerBeaconInteraction, peopleEngagement } from '../gateway/analytics/engagement-people.js';
import { doorsAudit, peopleScale, type FootfallInputs } from '../gateway/analytics/footfall-fusion.js';
import { doorCounters } from '../gateway/analytics/metric-queries.js';
import type { ExperienceEvent } from '../gateway/log/derived-record.js';
import type { LogRecord } from '../gateway/log/log-record.js';
import { isConsentAction } from '../protocol/index.js';

interface Touchpoint {
  exposures: number;
  linked: number;
  interactions: number;
  beaconInteractions: number;
}

/** The estimate over [range.from, range.to), `settled` the footfall inputs the people scale comes from; null without a scale. */
export function peopleEngagementTotal(
  store: StoreConfig,
  records: readonly LogRecord[],
  events: readonly ExperienceEvent[],
  range: { from: number; to: number },
  settled: FootfallInputs,
): PeopleEngagementTotal | null {
  const scale = peopleScale(settled, doorsAudit(doorCounters(store)));
  if (scale === null) return null;
  const inRange = (ts: number) => ts >= range.from && ts < range.to;
  const byTouchpoint = new Map<string, Touchpoint>();
  const of = (id: string): Touchpoint => {
    const known = byTouchpoint.get(id) ?? { exposures: 0, linked: 0, interactions: 0, beaconInteractions: 0 };
    byTouchpoint.set(id, known);
    return known;
  };
  for (const e of events) {
    if (e.type !== 'exposure' || !inRange(e.at)) continue;
    const t = of(e.touchpoint);
    t.exposures += 1;
    if (e.interacted) t.linked += 1;
  }
  for (const r of records) {
    // a consent choice is not a use of the touchpoint (the metrics API leaves it out too)
    if (r.kind !== 'touchpoint' || !inRange(r.eventTime) || isConsentAction((r.message as { action: string }).action)) continue;
    const t = of(r.source.sourceId);
    t.interactions += 1;
    if ((r.message as { beacon?: string }).beacon !== undefined) t.beaconInteractions += 1;
  }
  const total: PeopleEngagementTotal = { exposed: 0, engaged: 0, unknown: 0 };
  for (const t of byTouchpoint.values()) {
    if (t.exposures === 0) continue;
    const v = peopleEngagement(t, interactionsPerBeaconInteraction(t.interactions, t.beaconInteractions), scale.peoplePerBleVisit);
    const engaged = v['people_engaged'] ?? null;
    if (engaged === null) total.unknown += 1;
    else {
      total.exposed += v['people_exposed'] ?? 0;
      total.engaged += engaged;
    }
  }
  return total;
}
