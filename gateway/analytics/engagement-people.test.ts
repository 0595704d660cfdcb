import { describe, expect, it } from 'vitest';

import { interactionsPerBeaconInteraction, PEOPLE_ENGAGEMENT_DEFINITION, peopleEngagement, peopleEngagementSeries } from './engagement-people.js';
import type { MetricSeries } from './result-shaping.js';

const SCALE = { peoplePerBleVisit: 3, relVariance: 0.05 };

describe('engagement of everyone', () => {
  it("scales the app carriers' exposures by the people per BLE visit and their uses by all interactions per beacon interaction", () => {
    // 10 app carriers exposed, 4 used it; the touchpoint's 50 actions, 20 of them naming a beacon
    const ratio = interactionsPerBeaconInteraction(50, 20);
    expect(ratio).toBe(2.5);
    expect(peopleEngagement({ exposures: 10, linked: 4 }, ratio, 3)).toEqual({ people_exposed: 30, people_engaged: 10, people_engagement_rate: 10 / 30 });
    // the app carriers' rate (0.4) × 2.5 ÷ 3: lower than theirs when others use it less than they do
    expect(peopleEngagement({ exposures: 10, linked: 4 }, ratio, 3)['people_engagement_rate']).toBeCloseTo((0.4 * 2.5) / 3, 12);
  });

  it('knows no rate when no interaction named a beacon, none without exposures, and never more than 1', () => {
    expect(interactionsPerBeaconInteraction(7, 0)).toBeNull();
    expect(peopleEngagement({ exposures: 5, linked: 0 }, null, 3)).toEqual({ people_exposed: 15, people_engaged: null, people_engagement_rate: null });
    expect(peopleEngagement({ exposures: 0, linked: 0 }, 2, 3)).toEqual({ people_exposed: 0, people_engaged: 0, people_engagement_rate: null });
    expect(peopleEngagement({ exposures: 1, linked: 1 }, 6, 3)['people_engagement_rate']).toBe(1);
  });

  it('gives one people series per exposure series, its ratio from the interactions of the same touchpoint over the range', () => {
    const at = (h: number) => `2026-01-01T${String(h).padStart(2, '0')}:00:00.000Z`;
    const series: MetricSeries[] = [
      {
        measurement: 'exposure',
        labels: { touchpoint: 'kiosk-1' },
        definition: 'exposure-ble/1',
        params: ['minExposure=10s'],
        total: { exposures: 6, linked_interactions: 3, engagement_rate: 0.5 },
        points: [
          { time: at(9), values: { exposures: 4, linked_interactions: 2, engagement_rate: 0.5 } },
          { time: at(10), values: { exposures: 2, linked_interactions: 1, engagement_rate: 0.5 } },
        ],
      },
      {
        measurement: 'interaction',
        labels: { touchpoint: 'kiosk-1' },
        definition: null,
        params: [],
        total: { interactions: 12, beacon_interactions: 4 },
        points: [],
      },
    ];
    const [people, ...rest] = peopleEngagementSeries(series, SCALE, { peoplePerBleVisit: 3 });
    expect(rest).toEqual([]);
    expect(people).toMatchObject({ labels: { touchpoint: 'kiosk-1', unit: 'people' }, definition: PEOPLE_ENGAGEMENT_DEFINITION });
    expect(JSON.parse(people?.params[0] ?? '{}')).toEqual({ peoplePerBleVisit: 3, interactionsPerBeaconInteraction: 3, exposures: 'exposure-ble/1' });
    expect(people?.total).toEqual({ people_exposed: 18, people_engaged: 9, people_engagement_rate: 0.5 });
    expect(people?.points.map((p) => p.values['people_exposed'])).toEqual([12, 6]);
  });
});
