/** Phones on their own: MAC rotation and intermittent app advertising, against their documented parameters (seeded). */
import { describe, expect, it } from 'vitest';

import { IBEACON_ID } from '../protocol/index.js';
import { buildSimulation, type Simulation } from './build.js';
import { DEFAULT_SIMULATION_OPTIONS, type SimulationOptions } from './options.js';
import { advertisingIntervals, drawRotationMs, within, type Interval } from './phones.js';
import { IDEAL_DELIVERY_OPTIONS } from './delivery-options.js';
import { createRng } from './prng.js';

const NOW = Date.UTC(2025, 5, 14, 15, 30, 0);
const MIN = 60_000;

function options(over: Partial<SimulationOptions> = {}): SimulationOptions {
  return { ...DEFAULT_SIMULATION_OPTIONS, seed: 11, now: NOW, durationMs: 3_600_000, ...over };
}

/**
 * For the tests that read only the visitors' truth: no street (passers-by and the neighbours' beacons
 * are streams of their own, they do not change the visitors) and the slowest scans the options allow
 * (the visitors are drawn before any scan, from streams of their own). The runs stay the same people.
 */
const VISITORS_ONLY = { captureRate: 1, neighbourBeacons: 0, scanIntervalMs: 300_000 } as const;

function meanAndSd(xs: readonly number[]): { mean: number; sd: number } {
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  const sd = Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (xs.length - 1));
  return { mean, sd };
}

function onTime(intervals: readonly Interval[]): number {
  return intervals.reduce((a, i) => a + i.to - i.from, 0);
}

describe('MAC rotation', () => {
  it('draws rotation intervals uniformly within the stated bounds', () => {
    const rng = createRng(3, 'rotation-test');
    const [lo, hi] = [3 * MIN, 10 * MIN];
    const draws = Array.from({ length: 20_000 }, () => drawRotationMs(rng, lo, hi));
    expect(Math.min(...draws)).toBeGreaterThanOrEqual(lo);
    expect(Math.max(...draws)).toBeLessThanOrEqual(hi);
    const { mean, sd } = meanAndSd(draws);
    const uniformSd = (hi - lo) / Math.sqrt(12);
    expect(Math.abs(mean - (lo + hi) / 2)).toBeLessThan((4 * uniformSd) / Math.sqrt(draws.length));
    expect(Math.abs(sd / uniformSd - 1)).toBeLessThan(0.03);
    // each tenth of the range holds a tenth of the draws (within 4 standard errors)
    const se = Math.sqrt(0.1 * 0.9 * draws.length);
    for (let d = 0; d < 10; d += 1) {
      const n = draws.filter((x) => x >= lo + (d * (hi - lo)) / 10 && x < lo + ((d + 1) * (hi - lo)) / 10 + (d === 9 ? 1 : 0)).length;
      expect(Math.abs(n - draws.length / 10)).toBeLessThan(4 * se);
    }
  });

  it('puts each randomised phone of a run within the flags’ bounds, listing a pseudonym per rotation', () => {
    const { truth } = buildSimulation(options({ macRotationMinMs: 2 * MIN, macRotationMaxMs: 4 * MIN, visitorsPerHour: 600, ...VISITORS_ONLY }));
    const randomised = truth.visits.filter((v) => v.randomizedMac);
    expect(randomised.length).toBeGreaterThan(200);
    for (const v of randomised) {
      const rotation = v.macRotationMs ?? 0;
      expect(rotation).toBeGreaterThanOrEqual(2 * MIN);
      expect(rotation).toBeLessThanOrEqual(4 * MIN);
      const inside = (v.leftAt ?? truth.windowEnd) - v.enteredAt;
      // the first pseudonym, then one per rotation while inside
      expect(v.wifiPseudonyms.length).toBeGreaterThanOrEqual(Math.floor(inside / rotation));
      expect(v.wifiPseudonyms.length).toBeLessThanOrEqual(Math.floor(inside / rotation) + 2);
      expect(new Set(v.wifiPseudonyms).size).toBe(v.wifiPseudonyms.length);
    }
    for (const v of truth.visits.filter((x) => !x.randomizedMac)) {
      expect(v.macRotationMs).toBeUndefined();
      expect(v.wifiPseudonyms.length).toBe(v.phone ? 1 : 0);
    }
  });

  it('rejects bounds the wrong way round', () => {
    expect(() => buildSimulation(options({ macRotationMinMs: 10 * MIN, macRotationMaxMs: 5 * MIN }))).toThrow(
      /macRotationMinMs: expected at most macRotationMaxMs/,
    );
  });
});

describe('intermittent app advertising', () => {
  it('advertises the duty cycle of the time over a long run, in cycles of the stated mean length', () => {
    for (const [duty, periodMs] of [
      [0.6, 4 * MIN],
      [0.3, 2 * MIN],
    ] as const) {
      // 2,000 phones of 30 minutes each
      const shares: number[] = [];
      let onPeriods = 0;
      for (let phone = 0; phone < 2000; phone += 1) {
        const intervals = advertisingIntervals(createRng(5, 'duty-test', phone), 0, 30 * MIN, duty, periodMs);
        shares.push(onTime(intervals) / (30 * MIN));
        onPeriods += intervals.length;
        for (let i = 1; i < intervals.length; i += 1) expect((intervals[i] as Interval).from).toBeGreaterThan((intervals[i - 1] as Interval).to);
      }
      const { mean, sd } = meanAndSd(shares);
      expect(Math.abs(mean - duty)).toBeLessThan((4 * sd) / Math.sqrt(shares.length));
      // one on period per cycle: about 30 min / period per phone (plus the one a phone may start in)
      const cyclesPerPhone = onPeriods / 2000;
      expect(cyclesPerPhone).toBeGreaterThan((30 * MIN) / periodMs - 0.5);
      expect(cyclesPerPhone).toBeLessThan((30 * MIN) / periodMs + 1.5);
    }
  });

  it('advertises always at duty 1 and never at duty 0', () => {
    expect(advertisingIntervals(createRng(1), 100, 5000, 1, MIN)).toEqual([{ from: 100, to: 5000 }]);
    expect(advertisingIntervals(createRng(1), 100, 5000, 0, MIN)).toEqual([]);
    expect(within([{ from: 10, to: 20 }], 10)).toBe(true);
    expect(within([{ from: 10, to: 20 }], 20)).toBe(false);
  });

  it('records each app user’s advertising in the truth, and no scanner hears a beacon while its phone is silent', () => {
    // a scan every 15 s: still some 10,000 app beacons heard (31,000 at 5 s), each checked against its phone's advertising
    const sim = buildSimulation(options({ visitorsPerHour: 300, appShare: 0.5, scanIntervalMs: 15_000 }));
    const apps = sim.truth.visits.filter((v) => v.app);
    expect(apps.length).toBeGreaterThan(100);
    // passers-by and forgotten phones with the app advertise too; the neighbours' beacons are other shops'
    const others = [...(sim.truth.passersBy ?? []), ...(sim.truth.strayDevices ?? [])].filter((v) => v.app);
    const byBeacon = new Map([...apps, ...others].map((v) => [v.beacon ?? '', v.advertising ?? []]));
    const neighbours = new Set((sim.truth.neighbourBeacons ?? []).map((b) => b.id));
    for (const v of apps) {
      const until = v.leftAt ?? sim.truth.windowEnd;
      for (const i of v.advertising ?? []) {
        expect(i.from).toBeGreaterThanOrEqual(v.enteredAt);
        expect(i.to).toBeLessThanOrEqual(until);
      }
    }
    for (const v of sim.truth.visits.filter((x) => !x.app)) expect(v.advertising).toBeUndefined();
    let heard = 0;
    for (const m of sim.messages) {
      if (m.kind !== 'ble') continue;
      for (const s of m.payload.sightings) {
        if (!IBEACON_ID.test(s.id) || neighbours.has(s.id)) continue;
        heard += 1;
        expect(within(byBeacon.get(s.id) ?? [], m.trueTs), `${s.id} at ${m.trueTs}`).toBe(true);
      }
    }
    expect(heard).toBeGreaterThan(1000);
    // the measured share of app users' time advertising is near the duty cycle
    const total = apps.reduce((a, v) => a + (v.leftAt ?? sim.truth.windowEnd) - v.enteredAt, 0);
    const on = apps.reduce((a, v) => a + onTime(v.advertising ?? []), 0);
    expect(Math.abs(on / total - DEFAULT_SIMULATION_OPTIONS.appAdvertisingDutyCycle)).toBeLessThan(0.06);
  });

  it('hears fewer app beacons at a lower duty cycle, the rest of the run unchanged', () => {
    const sightings = (sim: Simulation) =>
      sim.messages.reduce((a, m) => a + (m.kind === 'ble' ? m.payload.sightings.filter((s) => IBEACON_ID.test(s.id)).length : 0), 0);
    // one run at duty 1 for both the count and the truth; a scan every 15 s (thousands of app beacons heard at duty 1)
    const fullSim = buildSimulation(options({ appAdvertisingDutyCycle: 1, scanIntervalMs: 15_000 }));
    const [always, half] = [sightings(fullSim), sightings(buildSimulation(options({ appAdvertisingDutyCycle: 0.5, scanIntervalMs: 15_000 })))];
    expect(half).toBeGreaterThan(0.35 * always);
    expect(half).toBeLessThan(0.65 * always);
    const full = fullSim.truth;
    for (const v of full.visits.filter((x) => x.app)) expect(v.advertising).toEqual([{ from: v.enteredAt, to: v.leftAt ?? full.windowEnd }]);
  });
});

describe('determinism', () => {
  it('gives byte-identical messages and truth for the same seed and phone options', () => {
    // half an hour: some ten rotations and advertising cycles per phone
    const opts = options({
      durationMs: 30 * MIN,
      randomizedMacShare: 0.8,
      macRotationMinMs: MIN,
      macRotationMaxMs: 5 * MIN,
      appAdvertisingDutyCycle: 0.4,
      appAdvertisingPeriodMs: 3 * MIN,
    });
    const [a, b] = [buildSimulation(opts), buildSimulation(opts)];
    expect(JSON.stringify(b.truth)).toBe(JSON.stringify(a.truth));
    expect(JSON.stringify(b.messages)).toBe(JSON.stringify(a.messages));
    expect(JSON.stringify(buildSimulation({ ...opts, seed: 12 }).truth)).not.toBe(JSON.stringify(a.truth));
  });
});

describe('wifi probes', () => {
  /** Share of a visitor's scan ticks inside the store in which some wifi sensor heard one of their pseudonyms. */
  function heardShare(probeIntervalMs: number): { share: number; ticks: number } {
    const opts = options({
      probeIntervalMs,
      visitorsPerHour: 200,
      staff: 0,
      captureRate: 1,
      strayDevicesPerHour: 0,
      delivery: IDEAL_DELIVERY_OPTIONS,
      // every probe that reaches a sensor above its sensitivity is caught: what is left is the probing
      radio: { detectionMax: 1, detectionMidpointDbm: -127, pocketShare: 0 },
    });
    const { messages, truth } = buildSimulation(opts);
    const owner = new Map(truth.visits.flatMap((v) => v.wifiPseudonyms.map((id) => [id, v.visitor] as const)));
    const heard = new Set<string>();
    for (const m of messages) if (m.kind === 'wifi') for (const o of m.payload.observations) heard.add(`${owner.get(o.id)} ${m.trueTs}`);
    const tickTimes = [...new Set(messages.filter((m) => m.kind === 'wifi').map((m) => m.trueTs))];
    let ticks = 0;
    for (const v of truth.visits.filter((x) => x.phone)) for (const t of tickTimes) if (t >= v.enteredAt && (v.leftAt === null || t < v.leftAt)) ticks += 1;
    return { share: heard.size / ticks, ticks };
  }

  it('probes as often as --probe-interval says: the chance per scan is 1 − exp(−scan interval / probe interval)', () => {
    const every20 = heardShare(20_000);
    const every60 = heardShare(60_000);
    expect(every20.ticks).toBeGreaterThan(5000);
    // a tick's probe chance: 1 − e^(−5/20) = 0.221 and 1 − e^(−5/60) = 0.080, each a little less once the radio misses one
    expect(every20.share).toBeGreaterThan(0.17);
    expect(every20.share).toBeLessThan(0.2212 + 0.02);
    expect(every60.share / every20.share).toBeGreaterThan((0.08 / 0.2212) * 0.85);
    expect(every60.share / every20.share).toBeLessThan((0.08 / 0.2212) * 1.15);
  });

  it('gives a phone to the share --phone-share says, within binomial bounds', () => {
    const { truth } = buildSimulation(options({ visitorsPerHour: 600, phoneShare: 0.5, appShare: 0, ...VISITORS_ONLY }));
    const n = truth.visits.length;
    const phones = truth.visits.filter((v) => v.phone).length;
    expect(Math.abs(phones - n / 2)).toBeLessThan(4 * Math.sqrt(n / 4));
  });
});
