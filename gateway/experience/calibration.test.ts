import { describe, expect, it } from 'vitest';

import { confidentSteps, evenlySpaced, fitRadio, type RadioFit } from './calibration.js';
import { GEOMETRY, STORE, synthetic } from './calibration.fixtures.js';
import { samplePoints } from './emission.js';
import { DEFAULT_PRESENCE_PARAMS } from './params.js';
import type { Rect } from '../../config/index.js';

describe('fitRadio', () => {
  const truth: RadioFit = { pathLossExponent: 2.6, wallLossDb: 5, gainOffsetDb: 2, shadowingSigmaDb: 5, detectionMidpointDbm: -86 };
  // the first 20 of the recovery test's 400 steps (calibration-recovery.int.test.ts): same seed, same order
  const steps = synthetic(truth, 20, 7);

  it('is deterministic and keeps the start when there is nothing to fit', () => {
    // 20 steps already move every parameter from the start
    const some = steps;
    expect(fitRadio(GEOMETRY, some, DEFAULT_PRESENCE_PARAMS)).toEqual(fitRadio(GEOMETRY, some, DEFAULT_PRESENCE_PARAMS));
    expect(fitRadio(GEOMETRY, [], DEFAULT_PRESENCE_PARAMS)).toEqual({
      pathLossExponent: 2,
      wallLossDb: 3,
      gainOffsetDb: 0,
      shadowingSigmaDb: 6,
      detectionMidpointDbm: -90,
    });
  }, 60_000);

  it('the geometry has every zone sampled', () => {
    for (const [i, zone] of STORE.zones.entries())
      expect(GEOMETRY.zones[i]?.points).toBe(samplePoints(STORE.rects.get(zone) as Rect, DEFAULT_PRESENCE_PARAMS.sampleSpacingM).length);
  });
});

describe('confidentSteps', () => {
  it('takes heard steps inside long runs, not their first or last step', () => {
    const path = [0, 0, 0, 0, 0, 0, 1, 1, 2, 2, 2, 2, 2, 2, 2];
    const heard = path.map((_, i) => i !== 3);
    expect(confidentSteps(path, heard, 6)).toEqual([1, 2, 4, 9, 10, 11, 12, 13]);
    expect(confidentSteps(path, heard, 7)).toEqual([9, 10, 11, 12, 13]);
  });

  it('evenlySpaced keeps at most the number asked', () => {
    expect(evenlySpaced([1, 2, 3], 5)).toEqual([1, 2, 3]);
    expect(evenlySpaced([0, 1, 2, 3, 4, 5, 6, 7, 8, 9], 2)).toEqual([2, 7]);
  });
});
