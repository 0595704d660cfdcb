import { describe, expect, it } from 'vitest';

import { DEMO_STORE, StoreSchema } from '../../config/index.js';
import { anchorLogLikelihoods, anchorSteps, touchpointAnchors } from './anchors.js';

const STORE = StoreSchema.parse(DEMO_STORE);
const T0 = 1_750_000_000_000;
const BEACON = 'ibeacon:f7826da6-4fa2-4e98-8024-bc5b71e0893e:100:7';

describe('touchpointAnchors', () => {
  it("places an interaction that names a beacon id in its touchpoint's zone; anonymous ones and unknown touchpoints are left out", () => {
    const anchors = touchpointAnchors(STORE, [
      { ts: T0, touchpoint: 'feedback-1', beacon: BEACON },
      { ts: T0 + 1000, touchpoint: 'mirror-1' },
      { ts: T0 + 2000, touchpoint: 'kiosk-9', beacon: BEACON },
    ]);
    expect(anchors).toEqual([{ ts: T0, device: BEACON, zone: 'checkout', source: 'feedback-1' }]);
  });
});

describe('anchorSteps', () => {
  const clock = { stepMs: 5000, phaseMs: 0, offsets: new Map<string, number>() };
  it('buckets anchors per device per step with their zone indices, after the source clock offset', () => {
    const zones = ['entrance', 'checkout'];
    const steps = anchorSteps(
      [
        { ts: 10_000, device: 'a', zone: 'checkout', source: 'feedback-1' },
        { ts: 11_000, device: 'a', zone: 'checkout', source: 'feedback-1' },
        { ts: 11_000, device: 'a', zone: 'entrance', source: 'kiosk-1' },
        { ts: 30_000, device: 'b', zone: 'nowhere', source: 'kiosk-1' },
      ],
      zones,
      clock,
      new Map([['kiosk-1', 5000]]),
    );
    expect([...steps.keys()]).toEqual(['a']);
    expect([...(steps.get('a') ?? new Map())].sort((x, y) => x[0] - y[0])).toEqual([
      [1, [0]],
      [2, [1]],
    ]);
  });

  it('gives the anchored zone 0 and every other the miss log-likelihood', () => {
    expect([...anchorLogLikelihoods([1], 3, -12)]).toEqual([-12, 0, -12]);
  });
});
