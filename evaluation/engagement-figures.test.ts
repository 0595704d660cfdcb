import { describe, expect, it } from 'vitest';

import { engagementFigures } from './engagement-figures.js';

const HOUR = 3_600_000;
const exposure = (touchpoint: string, visitor: string, from: number, interacted: boolean) => ({
  touchpoint,
  visitor,
  from,
  to: from + 20_000,
  inSightMs: 20_000,
  interacted,
});

describe('engagement of everyone against the truth', () => {
  // four exposures in the hour (one used), one before it that does not count
  const truth = {
    exposures: [
      exposure('kiosk-1', 'v1', 10_000, true),
      exposure('kiosk-1', 'v2', 20_000, false),
      exposure('mirror-1', 'v1', 30_000, false),
      exposure('mirror-1', 'v3', 40_000, false),
      exposure('kiosk-1', 'v9', -5_000, true),
    ],
  };

  it("compares the estimate summed over the touchpoints with everyone's share in the whole hours", () => {
    const [figure] = engagementFigures(truth, { from: 0, to: HOUR }, { exposed: 40, engaged: 12, unknown: 1 });
    expect(figure?.key).toBe('engine_engagement_people_error_pp');
    expect(figure?.value).toBeCloseTo(30 - 25, 12);
    expect(figure?.detail).toBe('engine 30.0 % (12.0 of 40.0 people), truth 25.0 % (1/4); 1 touchpoint(s) left out, no interaction there named a beacon');
  });

  it('is n/a, with a reason, without an estimate', () => {
    const [figure] = engagementFigures(truth, { from: 0, to: HOUR }, null);
    expect(figure).toMatchObject({ value: null, reason: 'no exposure in the engine or the truth, or no people scale' });
  });
});
