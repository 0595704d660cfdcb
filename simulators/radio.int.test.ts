/**
 * Distribution tests of the radio model against its documented parameters (docs/simulator.md):
 * seeded, so every run draws the same numbers.
 */
import { describe, expect, it } from 'vitest';

import { buildSimulation } from './build.js';
import { carryLossDb, inPocket, phoneTxOffsetDb } from './carry.js';
import type { ZoneRect } from './floor-plan.js';
import { DEFAULT_SIMULATION_OPTIONS } from './options.js';
import { createRng } from './prng.js';
import { DEFAULT_RADIO_OPTIONS, type RadioOptions } from './radio-options.js';
import { BLE, detectionProbability, hear, linkRssi, meanRssi, type Link } from './radio.js';
import { ShadowingField } from './shadowing.js';
import { wallsBetween } from './walls.js';

const RADIO = DEFAULT_RADIO_OPTIONS;
const N = 4000;

function mean(xs: readonly number[]): number {
  return xs.reduce((s, x) => s + x, 0) / xs.length;
}

function sd(xs: readonly number[]): number {
  const m = mean(xs);
  return Math.sqrt(xs.reduce((s, x) => s + (x - m) ** 2, 0) / (xs.length - 1));
}

function autocorrelation(xs: readonly number[], lag: number): number {
  const m = mean(xs);
  let num = 0;
  let den = 0;
  for (let i = 0; i < xs.length; i += 1) {
    den += ((xs[i] as number) - m) ** 2;
    if (i + lag < xs.length) num += ((xs[i] as number) - m) * ((xs[i + lag] as number) - m);
  }
  return num / den;
}

/** N phones (each its own transmit offset), each seen once at `distanceM` on a fresh link. */
function rssiSamples(distanceM: number, link: Omit<Link, 'distanceM'> = {}, radio: RadioOptions = RADIO, label = 'samples'): number[] {
  const field = new ShadowingField({
    sigmaDb: radio.shadowingSigmaDb,
    decorrelationM: radio.shadowingDecorrelationM,
    decorrelationS: radio.shadowingDecorrelationS,
  });
  const rng = createRng(7, label, distanceM);
  return Array.from({ length: N }, (_, i) => {
    const shadowingDb = field.sample(`v${i}`, 'ble|s', 0, { x: 0, y: 0 }, rng);
    return linkRssi(BLE, radio, { ...link, distanceM, txOffsetDb: phoneTxOffsetDb(7, i, radio), shadowingDb });
  });
}

describe('radio: RSSI against distance', () => {
  // shadowing and the phones' spread add up: the stated spread of one reading
  const spread = Math.hypot(RADIO.shadowingSigmaDb, RADIO.txSpreadDb);

  it.each([1, 5, 10])('has the predicted mean and spread at %d m', (d) => {
    const samples = rssiSamples(d);
    const predicted = meanRssi(BLE, RADIO, { distanceM: d });
    expect(predicted).toBeCloseTo(-59 - 10 * RADIO.pathLossExponent * Math.log10(d), 9);
    // the mean of N readings lies within 4 standard errors of the prediction
    expect(Math.abs(mean(samples) - predicted)).toBeLessThan((4 * spread) / Math.sqrt(N));
    expect(sd(samples)).toBeGreaterThan(spread * 0.93);
    expect(sd(samples)).toBeLessThan(spread * 1.07);
  });

  it("shifts a scanner's readings by its calibration gain and draws the same numbers", () => {
    for (const d of [0.3, 1, 4, 12]) {
      const nominal = linkRssi(BLE, RADIO, { distanceM: d, shadowingDb: 1.7 });
      expect(linkRssi(BLE, RADIO, { distanceM: d, shadowingDb: 1.7, gainDb: -3 })).toBe(nominal - 3);
    }
    const heard = Array.from({ length: 50 }, (_, i) => hear(BLE, { ...RADIO, detectionMax: 1 }, { distanceM: 3, shadowingDb: i % 7 }, createRng(7, 'hear', i)));
    const quieter = Array.from({ length: 50 }, (_, i) =>
      hear(BLE, { ...RADIO, detectionMax: 1 }, { distanceM: 3, shadowingDb: i % 7, gainDb: -3 }, createRng(7, 'hear', i)),
    );
    expect(quieter.filter((r) => r !== undefined).length).toBeLessThanOrEqual(heard.filter((r) => r !== undefined).length);
    quieter.forEach((rssi, i) => {
      if (rssi !== undefined) expect(rssi).toBe((heard[i] as number) - 3);
    });
  });

  it('lowers a phone in a pocket by the pocket loss and a phone in the hand by the hand loss, in the stated share of zone stays', () => {
    const pockets = Array.from({ length: N }, (_, i) => inPocket(7, i, i % 5, RADIO));
    const share = pockets.filter(Boolean).length / N;
    expect(Math.abs(share - RADIO.pocketShare)).toBeLessThan(4 * Math.sqrt((RADIO.pocketShare * (1 - RADIO.pocketShare)) / N));
    pockets.forEach((pocket, i) => expect(carryLossDb(7, i, i % 5, RADIO)).toBe(pocket ? RADIO.pocketLossDb : RADIO.handLossDb));
    const spread = Math.hypot(RADIO.shadowingSigmaDb, RADIO.txSpreadDb);
    const hand = rssiSamples(4, { carryLossDb: RADIO.handLossDb }, RADIO, 'hand');
    const pocket = rssiSamples(4, { carryLossDb: RADIO.pocketLossDb }, RADIO, 'pocket');
    expect(Math.abs(mean(hand) - mean(pocket) - (RADIO.pocketLossDb - RADIO.handLossDb))).toBeLessThan((4 * spread * Math.SQRT2) / Math.sqrt(N));
  });

  it('spreads phones’ transmit power by the stated standard deviation, one draw per phone', () => {
    const offsets = Array.from({ length: N }, (_, i) => phoneTxOffsetDb(3, i, RADIO));
    expect(Math.abs(mean(offsets))).toBeLessThan((4 * RADIO.txSpreadDb) / Math.sqrt(N));
    expect(sd(offsets)).toBeGreaterThan(RADIO.txSpreadDb * 0.93);
    expect(sd(offsets)).toBeLessThan(RADIO.txSpreadDb * 1.07);
    expect(phoneTxOffsetDb(3, 17, RADIO)).toBe(offsets[17]);
  });
});

describe('radio: correlated shadowing', () => {
  const STEP_MS = 5000;
  const series = (radio: RadioOptions, move: (i: number) => { x: number; y: number }) => {
    const field = new ShadowingField({
      sigmaDb: radio.shadowingSigmaDb,
      decorrelationM: radio.shadowingDecorrelationM,
      decorrelationS: radio.shadowingDecorrelationS,
    });
    const rng = createRng(5, 'shadowing-series');
    return Array.from({ length: 20_000 }, (_, i) => field.sample('v1', 'ble|s', i * STEP_MS, move(i), rng));
  };

  it('is strongly correlated from one scan to the next on a still phone and falls with the lag as exp(−Δt/τ)', () => {
    const xs = series(RADIO, () => ({ x: 1, y: 1 }));
    const lags = [1, 2, 5, 10, 30].map((lag) => autocorrelation(xs, lag));
    expect(lags[0]).toBeGreaterThan(0.8);
    for (let i = 1; i < lags.length; i += 1) expect(lags[i]).toBeLessThan(lags[i - 1] as number);
    [1, 2, 5, 10].forEach((lag, i) => expect(lags[i]).toBeCloseTo(Math.exp((-lag * STEP_MS) / 1000 / RADIO.shadowingDecorrelationS), 1));
    expect(sd(xs)).toBeGreaterThan(RADIO.shadowingSigmaDb * 0.9);
    expect(sd(xs)).toBeLessThan(RADIO.shadowingSigmaDb * 1.1);
  });

  it('decorrelates faster on a moving phone (Gudmundson: exp(−Δx/d_c))', () => {
    const still = autocorrelation(
      series(RADIO, () => ({ x: 0, y: 0 })),
      1,
    );
    // one metre per scan
    const walking = autocorrelation(
      series(RADIO, (i) => ({ x: i % 2, y: 0 })),
      1,
    );
    const expected = Math.exp(-1 / RADIO.shadowingDecorrelationM - STEP_MS / 1000 / RADIO.shadowingDecorrelationS);
    expect(walking).toBeLessThan(still);
    expect(walking).toBeCloseTo(expected, 1);
  });
});

describe('radio: detection', () => {
  it('catches a strong signal with detectionMax, half as often at the midpoint, and almost never far below it', () => {
    expect(detectionProbability(RADIO, -40)).toBeCloseTo(RADIO.detectionMax, 6);
    expect(detectionProbability(RADIO, RADIO.detectionMidpointDbm)).toBeCloseTo(RADIO.detectionMax / 2, 9);
    expect(detectionProbability(RADIO, RADIO.detectionMidpointDbm - 6 * RADIO.detectionSlopeDb)).toBeLessThan(0.01);
  });

  it('misses more often the farther the scanner', () => {
    const rates = [1, 5, 10, 20, 30].map((d) => {
      const field = new ShadowingField({
        sigmaDb: RADIO.shadowingSigmaDb,
        decorrelationM: RADIO.shadowingDecorrelationM,
        decorrelationS: RADIO.shadowingDecorrelationS,
      });
      const shadowRng = createRng(9, 'det-shadow', d);
      const rng = createRng(9, 'det', d);
      let caught = 0;
      for (let i = 0; i < N; i += 1) {
        const shadowingDb = field.sample(`v${i}`, 'ble|s', 0, { x: 0, y: 0 }, shadowRng);
        if (hear(BLE, RADIO, { distanceM: d, carryLossDb: RADIO.pocketLossDb, shadowingDb }, rng) !== undefined) caught += 1;
      }
      return caught / N;
    });
    expect(rates[0]).toBeGreaterThan(RADIO.detectionMax - 0.03);
    for (let i = 1; i < rates.length; i += 1) expect(rates[i]).toBeLessThan(rates[i - 1] as number);
    expect(rates[4]).toBeLessThan(0.5);
  });
});

describe('radio: walls', () => {
  const zones: ZoneRect[] = [
    { id: 'a', kind: 'aisle', x: 0, y: 0, width: 10, height: 10 },
    { id: 'b', kind: 'aisle', x: 10, y: 0, width: 10, height: 10 },
    { id: 'c', kind: 'aisle', x: 22, y: 0, width: 10, height: 10 },
  ];

  it('counts a wall where the line leaves one zone rectangle and enters another', () => {
    expect(wallsBetween(zones, { x: 2, y: 5 }, { x: 8, y: 3 })).toBe(0);
    expect(wallsBetween(zones, { x: 2, y: 5 }, { x: 12, y: 5 })).toBe(1);
    // a gap between b and c is still one wall; a to c crosses two
    expect(wallsBetween(zones, { x: 12, y: 5 }, { x: 25, y: 5 })).toBe(1);
    expect(wallsBetween(zones, { x: 2, y: 5 }, { x: 25, y: 9 })).toBe(2);
    expect(wallsBetween(zones, { x: 25, y: 9 }, { x: 2, y: 5 })).toBe(2);
    // on the wall itself: not across it
    expect(wallsBetween(zones, { x: 10, y: 2 }, { x: 10, y: 8 })).toBe(0);
  });

  it('lowers the RSSI by the stated attenuation on average for a phone across a wall', () => {
    const scanner = { x: 8, y: 5 };
    const sameZone = { x: 4, y: 5 };
    const acrossWall = { x: 12, y: 5 };
    const near = rssiSamples(4, { walls: wallsBetween(zones, sameZone, scanner) }, RADIO, 'near');
    const across = rssiSamples(4, { walls: wallsBetween(zones, acrossWall, scanner) }, RADIO, 'across');
    const spread = Math.hypot(RADIO.shadowingSigmaDb, RADIO.txSpreadDb);
    expect(Math.abs(mean(near) - mean(across) - RADIO.wallLossDb)).toBeLessThan((4 * spread * Math.SQRT2) / Math.sqrt(N));
  });
});

describe('radio: in a whole simulation', () => {
  const options = { ...DEFAULT_SIMULATION_OPTIONS, now: Date.UTC(2026, 0, 15, 12), durationMs: 10 * 60_000, seed: 4 };

  it('gives byte-identical messages and truth for the same seed and radio options', () => {
    const radio = { pocketShare: 0.3, wallLossDb: 5 };
    const a = buildSimulation({ ...options, radio });
    const b = buildSimulation({ ...options, radio });
    expect(JSON.stringify(a.messages)).toBe(JSON.stringify(b.messages));
    expect(JSON.stringify(a.truth)).toBe(JSON.stringify(b.truth));
    expect(a.truth.options.radio).toEqual({ ...DEFAULT_RADIO_OPTIONS, ...radio });
  });

  it('hears fewer sightings with more loss, with the same visitors and message count', () => {
    const base = buildSimulation(options);
    const lossy = buildSimulation({ ...options, radio: { pocketShare: 1, pocketLossDb: 20 } });
    expect(lossy.truth.visits).toEqual(base.truth.visits);
    expect(lossy.truth.published.messages).toEqual(base.truth.published.messages);
    expect(lossy.truth.published.points.sighting).toBeLessThan(base.truth.published.points.sighting);
  });

  it('rejects radio options out of range, naming them', () => {
    expect(() => buildSimulation({ ...options, radio: { pocketShare: 1.5 } })).toThrow(/radio\.pocketShare/);
    expect(() => buildSimulation({ ...options, radio: { bogus: 1 } as never })).toThrow(/radio/);
  });
});
