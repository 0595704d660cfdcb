/**
 * Staff, devices left behind, passers-by and the neighbours' beacons (staff.ts, strays.ts, street.ts),
 * checked against their documented parameters with seeded runs (docs/simulator.md, "Staff, left-behind
 * phones and the street").
 */
import { describe, expect, it } from 'vitest';

import { StoreSchema } from '../config/index.js';
import { dailyRateFactorAt } from './arrivals.js';
import { IDEAL_DELIVERY_OPTIONS } from './delivery-options.js';
import { buildSimulation, type Simulation } from './build.js';
import type { GroundTruth } from './ground-truth.js';
import { isOpenAt, openDays } from './opening.js';
import { DEFAULT_RADIO_OPTIONS } from './radio-options.js';
import { DEFAULT_SIMULATION_OPTIONS, type SimulationOptions } from './options.js';
import type { SimMessage } from './messages.js';
import { frontOf, outerLossDb, passersByPerHour } from './street.js';

const HOUR = 3_600_000;
const MIN = 60_000;
/** Thursday 15 January 2026 in Paris (UTC+1): the demo store opens 10:00-19:30. */
const THURSDAY_0700_UTC = Date.UTC(2026, 0, 15, 7);
const OPENS = Date.UTC(2026, 0, 15, 9);
const CLOSES = Date.UTC(2026, 0, 15, 18, 30);
const STORE = DEFAULT_SIMULATION_OPTIONS.store;

/** The people model is checked on its own: no clock or delivery effects (delivery.int.test.ts checks those). */
function options(overrides: Partial<SimulationOptions>): SimulationOptions {
  return { ...DEFAULT_SIMULATION_OPTIONS, seed: 21, scanIntervalMs: 60_000, delivery: IDEAL_DELIVERY_OPTIONS, ...overrides };
}

/** The whole Thursday, 08:00 to 21:00 in Paris, a quiet store (the people are what is checked). */
function thursday(overrides: Partial<SimulationOptions> = {}) {
  return buildSimulation(options({ now: THURSDAY_0700_UTC + 13 * HOUR, durationMs: 13 * HOUR, visitorsPerHour: 20, ...overrides }));
}

/** wifi observations by pseudonym: [ts, sensor, rssi]. */
function wifiHeard(messages: readonly SimMessage[]): Map<string, Array<[number, string, number]>> {
  const out = new Map<string, Array<[number, string, number]>>();
  for (const m of messages) {
    if (m.kind !== 'wifi') continue;
    for (const o of m.payload.observations) {
      const list = out.get(o.id) ?? [];
      list.push([m.ts, m.sourceId, o.rssi]);
      out.set(o.id, list);
    }
  }
  return out;
}

function inside(truth: GroundTruth, who: NonNullable<GroundTruth['staff']>[number], t: number): boolean {
  return who.path.some((s) => s.zone !== 'outside' && s.from <= t && t < s.to);
}

describe('opening hours', () => {
  it("reads the store's opening hours in its time zone, and 09:00-21:00 for a store without", () => {
    expect(isOpenAt(STORE, OPENS - 1)).toBe(false);
    expect(isOpenAt(STORE, OPENS)).toBe(true);
    expect(isOpenAt(STORE, CLOSES - 1)).toBe(true);
    expect(isOpenAt(STORE, CLOSES)).toBe(false);
    expect(isOpenAt(STORE, Date.UTC(2026, 0, 18, 12))).toBe(false); // Sunday: closed
    const days = openDays(STORE, THURSDAY_0700_UTC, THURSDAY_0700_UTC + 13 * HOUR, 0);
    expect(days.map((d) => [d.weekday, d.opens, d.closes])).toEqual([['thu', OPENS, CLOSES]]);
    // across the spring-forward night (Sunday 29 March 2026 in Paris has 23 hours) no day is skipped (sampled from 23:30 local)
    const everyDay = {
      timezone: 'Europe/Paris',
      openingHours: { mon: '09:00-18:00', tue: 'closed', wed: 'closed', thu: 'closed', fri: 'closed', sat: '09:00-24:00', sun: '09:00-18:00' },
    };
    const spring = openDays(everyDay, Date.UTC(2026, 2, 28, 22, 30), Date.UTC(2026, 2, 30, 22, 30), 0);
    expect(spring.map((d) => d.weekday)).toEqual(['sat', 'sun', 'mon']);
    expect(spring.map((d) => new Date(d.opens).toISOString())).toEqual(['2026-03-28T08:00:00.000Z', '2026-03-29T07:00:00.000Z', '2026-03-30T07:00:00.000Z']);
    const noHours = { timezone: 'Europe/Paris' };
    expect(isOpenAt(noHours, Date.UTC(2026, 0, 15, 8) - 1)).toBe(false); // 08:59:59.999 Paris
    expect(isOpenAt(noHours, Date.UTC(2026, 0, 15, 8))).toBe(true);
    expect(isOpenAt(noHours, Date.UTC(2026, 0, 18, 19, 59))).toBe(true); // every day
  });

  it('shapes the daily profile by the opening hours: nobody comes before 10:00 on a Thursday, from 09:30 on a Saturday', () => {
    expect(dailyRateFactorAt(STORE, Date.UTC(2026, 0, 15, 8, 45))).toBe(0);
    expect(dailyRateFactorAt(STORE, Date.UTC(2026, 0, 17, 8, 45))).toBeGreaterThan(0);
    // the arrivals only: the slowest scans the options allow (people are drawn before any scan)
    const early = (day: number) =>
      buildSimulation(options({ now: Date.UTC(2026, 0, day, 9), durationMs: 30 * MIN, visitorsPerHour: 600, arrivalProfile: 'daily', scanIntervalMs: 300_000 }))
        .truth;
    const thursdayEarly = early(15);
    expect(thursdayEarly.visits).toHaveLength(0); // Thursday 09:30-10:00
    expect(early(17).visits.length).toBeGreaterThan(100); // Saturday 09:30-10:00
    expect(thursdayEarly.passersBy).toHaveLength(0); // the street follows the same profile
  });
});

describe('staff', () => {
  const { truth, messages } = thursday({ staff: 3, counterGroupMiss: 0 });
  const staff = truth.staff ?? [];

  it('arrive before opening, leave after closing, and keep the floor staffed through the opening hours', () => {
    expect(staff.map((s) => s.visitor)).toEqual(['s001', 's002', 's003']);
    for (const s of staff) {
      expect(s.role).toBe('staff');
      expect(s.enteredAt).toBeGreaterThanOrEqual(OPENS - 30 * MIN);
      expect(s.enteredAt).toBeLessThanOrEqual(OPENS - 15 * MIN);
      expect(s.leftAt ?? 0).toBeGreaterThanOrEqual(CLOSES + 10 * MIN);
      const breaks = s.path.filter((seg) => seg.zone === 'outside');
      expect(breaks).toHaveLength(1);
      const length = (breaks[0]?.to ?? 0) - (breaks[0]?.from ?? 0);
      expect(length).toBeGreaterThan(25 * MIN);
      expect(length).toBeLessThan(60 * MIN);
      for (const seg of s.path) expect([...truth.floorPlan.zones.map((z) => z.id), 'outside']).toContain(seg.zone);
    }
    for (let t = OPENS; t < CLOSES; t += MIN) {
      const present = staff.filter((s) => inside(truth, s, t)).length;
      expect(present, new Date(t).toISOString()).toBeGreaterThanOrEqual(staff.length - 1);
    }
    // tills and restocking: staff spend time at the checkout and in the aisles
    const zones = new Set(staff.flatMap((s) => s.path.map((seg) => seg.zone)));
    expect(zones).toContain('checkout');
    expect([...zones].some((z) => z.startsWith('aisle-'))).toBe(true);
  });

  it('are counted by the people counter, and kept apart from the customers in the truth', () => {
    const door = truth.footfall.find((f) => f.counter === 'counter-door');
    // in at the start, back from the break; out to the break, out at the end
    expect([door?.staffIn, door?.staffOut]).toEqual([6, 6]);
    expect(door?.trueIn).toBe(truth.visits.filter((v) => v.enteredAt <= truth.windowEnd).length);
    expect(door?.in).toBe((door?.trueIn ?? 0) + 6);
    expect(door?.out).toBe((door?.trueOut ?? 0) + 6);
    expect(truth.visits.every((v) => v.role === 'visitor')).toBe(true);
  });

  it('probe under one stable pseudonym all day, heard every opening hour', () => {
    const heard = wifiHeard(messages);
    for (const s of staff) {
      expect(s.wifiPseudonyms).toHaveLength(1);
      const obs = heard.get(s.wifiPseudonyms[0] as string) ?? [];
      for (let h = OPENS; h < CLOSES; h += HOUR)
        expect(
          obs.some(([ts]) => ts >= h && ts < h + HOUR),
          `${s.visitor} ${new Date(h).toISOString()}`,
        ).toBe(true);
      for (const [ts] of obs) expect(inside(truth, s, ts), `${s.visitor} heard outside at ${ts}`).toBe(true);
    }
  });

  it('are absent while the store is closed', () => {
    const night = buildSimulation(options({ now: Date.UTC(2026, 0, 15, 2), durationMs: HOUR, arrivalProfile: 'daily' })).truth;
    expect([night.staff, night.visits, night.passersBy, night.footfall[0]?.in]).toEqual([[], [], [], 0]);
    const sunday = buildSimulation(options({ now: Date.UTC(2026, 0, 18, 14), durationMs: HOUR })).truth;
    expect(sunday.staff).toEqual([]);
  });
});

describe('devices left behind', () => {
  const { truth, messages } = buildSimulation(
    options({ now: THURSDAY_0700_UTC + 8 * HOUR, durationMs: 6 * HOUR, visitorsPerHour: 20, strayDevicesPerHour: 2 }),
  );
  const strays = truth.strayDevices ?? [];

  it('come at the stated rate, lie still in a zone of the right kind, and stop when collected', () => {
    // Poisson: 12 expected in 6 h
    expect(strays.length).toBeGreaterThan(12 - 4 * Math.sqrt(12));
    expect(strays.length).toBeLessThan(12 + 4 * Math.sqrt(12));
    const kinds = new Map(truth.floorPlan.zones.map((z) => [z.id, z.kind]));
    for (const d of strays) {
      const zone = truth.floorPlan.zones.find((z) => z.id === d.zone);
      expect(zone).toBeDefined();
      expect(d.x).toBeGreaterThanOrEqual(zone?.x ?? 0);
      expect(d.x).toBeLessThanOrEqual((zone?.x ?? 0) + (zone?.width ?? 0));
      if (d.kind === 'staff_device')
        expect(['checkout', 'backroom', 'other']).toContain(kinds.get(d.zone)); // the demo store has no back zone
      else expect(['aisle', 'display', 'fitting_room', 'checkout']).toContain(kinds.get(d.zone));
    }
  });

  it('show in the wifi observations as one still phone for hours: a staff device under one pseudonym, at a steady RSSI', () => {
    const heard = wifiHeard(messages);
    const long = strays.filter((d) => d.kind === 'staff_device' && (d.to ?? truth.windowEnd) - d.from > 2 * HOUR);
    expect(long.length).toBeGreaterThan(0);
    for (const d of long) {
      expect(d.wifiPseudonyms).toHaveLength(1);
      const obs = heard.get(d.wifiPseudonyms[0] as string) ?? [];
      for (const [ts] of obs) expect(ts >= d.from && ts < (d.to ?? Infinity)).toBe(true);
      const end = d.to ?? truth.windowEnd;
      expect(obs.some(([ts]) => ts > end - 30 * MIN)).toBe(true);
      // still: the mean RSSI at its loudest sensor is the same in the first and the second half (shadowing only)
      const bySensor = new Map<string, number[][]>();
      const mid = (d.from + end) / 2;
      for (const [ts, sensor, rssi] of obs) {
        const halves = bySensor.get(sensor) ?? [[], []];
        (halves[ts < mid ? 0 : 1] as number[]).push(rssi);
        bySensor.set(sensor, halves);
      }
      const [first, second] = [...bySensor.values()].sort((a, b) => b.flat().length - a.flat().length)[0] ?? [[], []];
      const mean = (xs: number[] = []) => xs.reduce((a, b) => a + b, 0) / xs.length;
      expect(Math.abs(mean(first) - mean(second))).toBeLessThan(4);
    }
  });
});

describe('passers-by and the capture rate', () => {
  // an hour of a Thursday morning, street and 5 s scans, without staff: built once, read by the two tests below
  let morning: Simulation | undefined;
  const morningRun = (): Simulation =>
    (morning ??= buildSimulation(options({ now: THURSDAY_0700_UTC + 4 * HOUR, durationMs: HOUR, scanIntervalMs: 5000, staff: 0 })));

  it('walk past at visitorsPerHour × (1 − c)/c: the capture rate within binomial bounds over a long window', () => {
    expect(passersByPerHour(120, 0.15)).toBeCloseTo(680, 6);
    for (const captureRate of [0.15, 0.3]) {
      // the people only: the slowest scans the options allow (visitors and passers-by are drawn before any scan)
      const { truth } = buildSimulation(
        options({
          now: THURSDAY_0700_UTC + 8 * HOUR,
          durationMs: 8 * HOUR,
          visitorsPerHour: 120,
          groupShare: 0,
          captureRate,
          neighbourBeacons: 0,
          staff: 0,
          scanIntervalMs: 300_000,
        }),
      );
      const c = truth.captureRate;
      const n = (c?.entered ?? 0) + (c?.passersBy ?? 0);
      expect(c?.entered).toBe(truth.visits.length);
      expect(c?.passersBy).toBe(truth.passersBy?.length);
      expect(n).toBeGreaterThan(2500);
      expect(Math.abs((c?.rate ?? 0) - captureRate)).toBeLessThan(4 * Math.sqrt((captureRate * (1 - captureRate)) / n));
    }
  });

  it('stay outside, are heard only weakly through the shop front, and never count in visits or footfall', () => {
    const { truth, messages } = morningRun();
    const passers = truth.passersBy ?? [];
    expect(passers.length).toBeGreaterThan(400);
    const visitorIds = new Set(truth.visits.map((v) => v.visitor));
    for (const p of passers) {
      expect(p.role).toBe('passer_by');
      expect(visitorIds.has(p.visitor)).toBe(false);
      expect(p.path.map((s) => s.zone)).toEqual(['outside']);
      expect([p.walk.from.y, p.walk.to.y].every((y) => y < 0)).toBe(true); // the demo store's front is y = 0
    }
    const door = truth.footfall.find((f) => f.counter === 'counter-door');
    expect(door?.trueIn).toBe(truth.visits.filter((v) => v.enteredAt <= truth.windowEnd).length);
    const heard = wifiHeard(messages);
    const rssiOf = (ids: string[], sensor: string) => ids.flatMap((id) => (heard.get(id) ?? []).filter(([, s]) => s === sensor).map(([, , r]) => r));
    const passerRssi = rssiOf(
      passers.flatMap((p) => p.wifiPseudonyms),
      'wifi-front',
    );
    const visitorRssi = rssiOf(
      truth.visits.flatMap((v) => v.wifiPseudonyms),
      'wifi-front',
    );
    expect(passerRssi.length).toBeGreaterThan(100);
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    // on the pavement 1-4 m out, mostly well beyond the door, behind the glass: weaker than the visitors inside, all over the store
    expect(mean(passerRssi)).toBeLessThan(-75);
    expect(mean(passerRssi)).toBeLessThan(mean(visitorRssi) - 3);
    // the back of the store hears the street weaker than the front
    expect(
      mean(
        rssiOf(
          passers.flatMap((p) => p.wifiPseudonyms),
          'wifi-back',
        ),
      ),
    ).toBeLessThan(mean(passerRssi));
    // the neighbours' beacons: heard, weakly, other shops' UUIDs
    const neighbours = new Set((truth.neighbourBeacons ?? []).map((b) => b.id));
    expect(neighbours.size).toBe(3);
    const retailer = truth.visits.find((v) => v.beacon)?.beacon?.split(':')[1];
    for (const id of neighbours) expect(id.split(':')[1]).not.toBe(retailer);
    const neighbourRssi: number[] = [];
    for (const m of messages) if (m.kind === 'ble') for (const s of m.payload.sightings) if (neighbours.has(s.id)) neighbourRssi.push(s.rssi);
    expect(neighbourRssi.length).toBeGreaterThan(0);
    expect(Math.max(...neighbourRssi)).toBeLessThan(-65);
  });

  it('has visitors with a phone walk along the street to the door before entering and away after leaving, heard there', () => {
    // staff cannot change a visitor (determinism below): the morning without them
    const { truth, messages } = morningRun();
    const heard = wifiHeard(messages);
    let heardOutside = 0;
    for (const v of truth.visits.filter((x) => x.enteredAt <= truth.windowEnd)) {
      if (!v.phone) {
        expect(v.street).toBeUndefined();
        continue;
      }
      const approach = v.street?.find((l) => l.leg === 'approach');
      expect(approach?.to, v.visitor).toBe(v.enteredAt);
      // 25 m beyond the front's end to the door, at 0.7-2.2 m/s (unless clipped at the window's start)
      if (approach?.from !== truth.windowStart) expect(v.enteredAt - (approach?.from ?? 0)).toBeGreaterThan(10_000);
      expect(v.enteredAt - (approach?.from ?? 0)).toBeLessThan(60_000);
      const departure = v.street?.find((l) => l.leg === 'departure');
      if (v.leftAt !== null && v.leftAt < truth.windowEnd) expect(departure?.from).toBe(v.leftAt);
      for (const id of [...v.wifiPseudonyms, ...(v.streetPseudonyms ?? [])])
        heardOutside += (heard.get(id) ?? []).filter(([ts]) => ts < v.enteredAt || (v.leftAt !== null && ts >= v.leftAt)).length;
    }
    expect(heardOutside).toBeGreaterThan(20);
  });

  it('loses the shop front (glass) or an outer wall between the street and a scanner inside', () => {
    const plan = { doors: [{ x: 11, y: 0, zone: 'entrance' }], widthM: 24, depthM: 18 };
    const radio = { ...DEFAULT_RADIO_OPTIONS };
    expect(frontOf(plan)).toBe('south');
    expect(outerLossDb(plan, { x: 11, y: 2 }, { x: 12, y: 3 }, radio)).toBe(0);
    expect(outerLossDb(plan, { x: 11, y: -3 }, { x: 12, y: 3 }, radio)).toBe(radio.shopFrontLossDb);
    expect(outerLossDb(plan, { x: -3, y: 10 }, { x: 12, y: 3 }, radio)).toBe(radio.outerWallLossDb);
    expect(outerLossDb(plan, { x: 30, y: 10 }, { x: 12, y: 3 }, radio)).toBe(radio.outerWallLossDb);
    expect(radio.shopFrontLossDb).toBeLessThan(radio.outerWallLossDb);
  });
});

describe('determinism', () => {
  // staff, devices left behind and the street: built once, read by both tests (the second builds the run without them)
  const opts = options({ now: THURSDAY_0700_UTC + 3 * HOUR, durationMs: HOUR, scanIntervalMs: 5000, strayDevicesPerHour: 3 });
  let first: Simulation | undefined;
  const firstRun = (): Simulation => (first ??= buildSimulation(opts));

  it('gives byte-identical messages and truth for the same seed, staff, devices left behind and street', () => {
    const a = firstRun();
    const b = buildSimulation(opts);
    expect(JSON.stringify(b.messages)).toBe(JSON.stringify(a.messages));
    expect(JSON.stringify(b.truth)).toBe(JSON.stringify(a.truth));
    expect([a.truth.staff?.length, (a.truth.passersBy?.length ?? 0) > 0]).toEqual([3, true]);
  });

  it("leaves every visitor as they were: the visits and each visitor's sightings do not depend on the people around them", () => {
    const full = firstRun();
    const alone = buildSimulation({ ...opts, staff: 0, captureRate: 1, strayDevicesPerHour: 0, neighbourBeacons: 0 });
    expect(JSON.stringify(full.truth.visits)).toBe(JSON.stringify(alone.truth.visits));
    // each visitor's ids while inside (on the street before and after, the same phone is heard too)
    const insideOf = new Map(full.truth.visits.flatMap((v) => [...v.wifiPseudonyms, ...(v.beacon ? [v.beacon] : [])].map((id) => [id, v] as const)));
    const ids = {
      has: (id: string, ts: number) => {
        const v = insideOf.get(id);
        return v !== undefined && ts >= v.enteredAt && (v.leftAt === null || ts < v.leftAt);
      },
    };
    const visitorsOnly = (messages: readonly SimMessage[]) =>
      messages.flatMap((m) =>
        m.kind === 'ble'
          ? m.payload.sightings.filter((s) => ids.has(s.id, m.trueTs)).map((s) => `${m.payload.mid}|${s.id}|${s.rssi}`)
          : m.kind === 'wifi'
            ? m.payload.observations.filter((o) => ids.has(o.id, m.trueTs)).map((o) => `${m.payload.mid}|${o.id}|${o.rssi}`)
            : [],
      );
    expect(visitorsOnly(full.messages)).toEqual(visitorsOnly(alone.messages));
  });
});

// the grid store (no layout, no opening hours) gets staff and a street too
describe('a store without layout or opening hours', () => {
  it('has staff from 09:00 to 21:00 and a street along its front', () => {
    const store = StoreSchema.parse({
      id: 'grid-store',
      timezone: 'Europe/Paris',
      zones: [
        { id: 'in', kind: 'entrance' },
        { id: 'a', kind: 'aisle' },
        { id: 'till', kind: 'checkout' },
        { id: 'back', kind: 'backroom' },
      ],
      sensors: [{ id: 'wifi-1', type: 'wifi', zone: 'in' }],
    });
    const { truth } = buildSimulation(options({ store, now: Date.UTC(2026, 0, 15, 12), durationMs: HOUR, strayDevicesPerHour: 5 }));
    expect(truth.staff).toHaveLength(3);
    expect((truth.passersBy ?? []).length).toBeGreaterThan(300);
    for (const d of truth.strayDevices ?? []) if (d.kind === 'staff_device') expect(d.zone).toBe('back');
    expect(truth.staff?.some((s) => s.path.some((seg) => seg.zone === 'back'))).toBe(true);
  });
});
