import { describe, expect, it } from 'vitest';

import { DEMO_STORE, StoreSchema } from '../../config/index.js';
import { CalibrationGeometry, confidentSteps, evenlySpaced, fitRadio, type CalibrationStep, type RadioFit } from './calibration.js';
import { samplePoints, wallsBetween } from './emission.js';
import { DEFAULT_PRESENCE_PARAMS } from './params.js';
import { presenceStore } from './store-model.js';
import type { Rect } from '../../config/index.js';

const STORE = presenceStore(StoreSchema.parse(DEMO_STORE));
const GEOMETRY = new CalibrationGeometry(STORE, DEFAULT_PRESENCE_PARAMS.sampleSpacingM);

/** A small deterministic PRNG (mulberry32). */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Steps of phones at random points of random zones, read through a log-distance radio with parameters `truth`. */
function synthetic(truth: RadioFit, count: number, seed: number): CalibrationStep[] {
  const rand = prng(seed);
  const gauss = () => Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
  const all = new Set(STORE.scanners.keys());
  const out: CalibrationStep[] = [];
  while (out.length < count) {
    const zone = Math.floor(rand() * STORE.zones.length);
    const rect = STORE.rects.get(STORE.zones[zone] as string) as Rect;
    const p = { x: rect.x + rand() * rect.width, y: rect.y + rand() * rect.height };
    const carry = DEFAULT_PRESENCE_PARAMS.carryOffsetsDb[Math.floor(rand() * DEFAULT_PRESENCE_PARAMS.carryOffsetsDb.length)] as number;
    const heard = new Map<string, number>();
    for (const s of STORE.scanners.values()) {
      const d = Math.max(0.5, Math.hypot(p.x - s.x, p.y - s.y));
      const mu = s.rssiAt1m + truth.gainOffsetDb + carry - 10 * truth.pathLossExponent * Math.log10(d) - wallsBetween(STORE, p, s) * truth.wallLossDb;
      // the receiver catches the power it receives: detection acts on the reading
      const reading = mu + truth.shadowingSigmaDb * gauss();
      const det = DEFAULT_PRESENCE_PARAMS.detectionMax / (1 + Math.exp((truth.detectionMidpointDbm - reading) / DEFAULT_PRESENCE_PARAMS.detectionSlopeDb));
      if (rand() < det) heard.set(s.id, Math.round(reading));
    }
    if (heard.size > 0) out.push({ heard, reporting: all, zone });
  }
  return out;
}

describe('fitRadio', () => {
  const truth: RadioFit = { pathLossExponent: 2.6, wallLossDb: 5, gainOffsetDb: 2, shadowingSigmaDb: 5, detectionMidpointDbm: -86 };
  const steps = synthetic(truth, 400, 7);

  it("recovers the radio parameters a synthetic store was generated with (the layout's rssiAt1m right), from the textbook start", () => {
    const exact = { ...truth, gainOffsetDb: 0 };
    const fit = fitRadio(GEOMETRY, synthetic(exact, 400, 11), DEFAULT_PRESENCE_PARAMS);
    expect(fit.gainOffsetDb).toBe(0); // not fitted by default
    // n and the wall loss trade off along a ridge (walls grow with distance) that the coordinate-wise
    // search stops on early: measured n 2.25 and 7.75 dB for 2.6 and 5 dB (README.md, known limitation)
    expect(Math.abs(fit.pathLossExponent - exact.pathLossExponent)).toBeLessThanOrEqual(0.4);
    expect(Math.abs(fit.wallLossDb - exact.wallLossDb)).toBeLessThanOrEqual(3);
    // still much closer to the truth than the textbook start in what matters: the expected RSSI 10 m away through 2 walls
    const at = (f: RadioFit) => -10 * f.pathLossExponent - 2 * f.wallLossDb;
    expect(Math.abs(at(fit) - at(exact))).toBeLessThan(Math.abs(at(DEFAULT_PRESENCE_PARAMS) - at(exact)) / 3);
    expect(Math.abs(fit.shadowingSigmaDb - exact.shadowingSigmaDb)).toBeLessThanOrEqual(1);
    expect(Math.abs(fit.detectionMidpointDbm - exact.detectionMidpointDbm)).toBeLessThanOrEqual(2);
  }, 120_000);

  it('with calibrationFitGain, also a common gain offset', () => {
    const fit = fitRadio(GEOMETRY, steps, { ...DEFAULT_PRESENCE_PARAMS, calibrationFitGain: true });
    expect(Math.abs(fit.pathLossExponent - truth.pathLossExponent)).toBeLessThanOrEqual(0.25);
    expect(Math.abs(fit.wallLossDb - truth.wallLossDb)).toBeLessThanOrEqual(1.5);
    expect(Math.abs(fit.gainOffsetDb - truth.gainOffsetDb)).toBeLessThanOrEqual(2.5);
    expect(Math.abs(fit.shadowingSigmaDb - truth.shadowingSigmaDb)).toBeLessThanOrEqual(1);
    expect(Math.abs(fit.detectionMidpointDbm - truth.detectionMidpointDbm)).toBeLessThanOrEqual(2);
  }, 120_000);

  it('is deterministic and keeps the start when there is nothing to fit', () => {
    // 20 steps already move every parameter from the start
    const some = steps.slice(0, 20);
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
