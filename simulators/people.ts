/**
 * Everyone in or around the store who is not a customer: staff (staff.ts), devices left behind
 * (strays.ts), passers-by and the neighbours' beacons (street.ts); what the scans hear of them and
 * what the truth says about them. Each comes from seeded streams of its own, so adding them leaves
 * every visitor as they were.
 */
import type { FixedBeacon, FloorPlan } from './floor-plan.js';
import type { GroundTruth, PasserByTruth, StaffTruth, StrayDeviceTruth, VisitTruth } from './ground-truth.js';
import type { ResolvedSimulationOptions } from './options.js';
import { generateStaff, staffPath, type StaffShift } from './staff.js';
import { generateStrays, type Stray } from './strays.js';
import { generatePassersBy, neighbourBeacons, streetWalks, type StreetWalk } from './street.js';
import { pathTruth } from './truth-minutes.js';
import { wifiPseudonymAt, wifiPseudonymsDuring, type Visitor } from './visitors.js';

export interface OtherPeople {
  staff: StaffShift[];
  /** Staff's stretches inside (what the people counter sees). */
  staffStints: Visitor[];
  strays: Stray[];
  passersBy: Visitor[];
  /** Visitors' walks on the street to the door and away from it. */
  streetWalks: StreetWalk[];
  beacons: FixedBeacon[];
  /** Everyone of them with a phone, in `enteredAt` order (what the scanners may hear). */
  scanned: Visitor[];
}

export function otherPeople(options: ResolvedSimulationOptions, plan: FloorPlan, startMs: number, endMs: number, visitors: readonly Visitor[]): OtherPeople {
  const { seed, store } = options;
  const phones = {
    appShare: options.appShare,
    randomizedMacShare: options.randomizedMacShare,
    macRotationMinMs: options.macRotationMinMs,
    macRotationMaxMs: options.macRotationMaxMs,
    appAdvertisingDutyCycle: options.appAdvertisingDutyCycle,
    appAdvertisingPeriodMs: options.appAdvertisingPeriodMs,
  };
  const staff = generateStaff({ seed, store, plan, startMs, endMs, staff: options.staff, walkingSpeedMps: options.walkingSpeedMps });
  const staffStints = staff.flatMap((s) => s.stints);
  const strays = generateStrays({ seed, store, plan, startMs, endMs, strayDevicesPerHour: options.strayDevicesPerHour, ...phones });
  const passersBy = generatePassersBy({
    seed,
    store,
    plan,
    startMs,
    endMs,
    visitorsPerHour: options.visitorsPerHour,
    captureRate: options.captureRate,
    profile: options.arrivalProfile,
    phoneShare: options.phoneShare,
    ...phones,
  });
  const beacons = neighbourBeacons(plan, store.id, options.neighbourBeacons);
  const walks = streetWalks(seed, plan, visitors, startMs, endMs);
  const scanned = [...staffStints, ...strays, ...passersBy, ...walks]
    .filter((p) => p.phone || p.app)
    .sort((a, b) => a.enteredAt - b.enteredAt || a.index - b.index);
  return { staff, staffStints, strays, passersBy, streetWalks: walks, beacons, scanned };
}

/**
 * Adds each visitor's walks on the street to their visit: `street` [{ leg, from, to }] (clipped to the
 * window) and `streetPseudonyms`, the wifi pseudonyms their phone used on the street that it did not use
 * inside (a rotation on the way in or out).
 */
export function withStreetWalks(seed: number, visits: VisitTruth[], walks: readonly StreetWalk[]): VisitTruth[] {
  const byVisitor = new Map<string, StreetWalk[]>();
  for (const w of walks) byVisitor.set(w.id, [...(byVisitor.get(w.id) ?? []), w]);
  return visits.map((v) => {
    const legs = byVisitor.get(v.visitor);
    if (!legs) return v;
    const inside = new Set(v.wifiPseudonyms);
    const outside = [...new Set(legs.flatMap((w) => wifiPseudonymsDuring(seed, w)))].filter((p) => !inside.has(p));
    const street = legs.map((w) => ({ leg: w.leg, from: (w.path[0] as { from: number }).from, to: (w.path[0] as { to: number }).to }));
    return { ...v, street, ...(outside.length > 0 ? { streetPseudonyms: outside } : {}) };
  });
}

/** The truth's lists of staff, passers-by, devices left behind and neighbours' beacons, and the window's capture rate. */
export function peopleTruth(
  seed: number,
  others: OtherPeople,
  visitors: readonly Visitor[],
  startMs: number,
  endMs: number,
): Required<Pick<GroundTruth, 'staff' | 'passersBy' | 'strayDevices' | 'neighbourBeacons' | 'captureRate'>> {
  const entered = visitors.filter((v) => v.enteredAt > startMs && v.enteredAt <= endMs).length;
  const passersBy = others.passersBy.length;
  return {
    staff: others.staff.map((s) => staffTruth(seed, s, startMs, endMs)),
    passersBy: others.passersBy.map((p) => passerTruth(seed, p)),
    strayDevices: others.strays.map((d) => strayTruth(seed, d, endMs)),
    neighbourBeacons: others.beacons.map((b) => ({ id: b.id, x: round2(b.x), y: round2(b.y) })),
    captureRate: { entered, passersBy, rate: entered + passersBy > 0 ? entered / (entered + passersBy) : null },
  };
}

function phoneTruth(seed: number, v: Visitor): Omit<VisitTruth, 'visitor' | 'enteredAt' | 'leftAt' | 'path' | 'role' | 'minutes' | 'stays' | 'route'> {
  return {
    app: v.app,
    ...(v.beaconId !== undefined ? { beacon: v.beaconId } : {}),
    ...(v.advertising !== undefined ? { advertising: v.advertising.map((i) => ({ ...i })) } : {}),
    phone: v.phone,
    randomizedMac: v.randomizedMac,
    wifiPseudonyms: wifiPseudonymsDuring(seed, v),
    ...(v.randomizedMac && v.stableMac !== true ? { macRotationMs: v.rotationMs } : {}),
  };
}

function staffTruth(seed: number, s: StaffShift, startMs: number, endMs: number): StaffTruth {
  const first = s.stints[0] as Visitor;
  const path = staffPath(s, startMs, endMs);
  return {
    visitor: s.id,
    role: 'staff',
    app: false,
    phone: true,
    randomizedMac: true,
    wifiPseudonyms: [wifiPseudonymAt(seed, first, first.enteredAt)],
    enteredAt: s.before?.enteredAt ?? s.shift.from,
    leftAt: s.after ? s.after.leftAt : (s.before?.leftAt ?? null),
    path,
    ...pathTruth(path),
    break: { ...s.break },
  };
}

function passerTruth(seed: number, p: Visitor): PasserByTruth {
  const [from, to] = p.walk;
  return {
    visitor: p.id,
    ...phoneTruth(seed, p),
    role: 'passer_by',
    enteredAt: p.enteredAt,
    leftAt: p.leftAt,
    path: p.path.map((s) => ({ ...s })),
    ...pathTruth(p.path),
    walk: { from: { x: round2(from?.x ?? 0), y: round2(from?.y ?? 0) }, to: { x: round2(to?.x ?? 0), y: round2(to?.y ?? 0) } },
  };
}

function strayTruth(seed: number, d: Stray, endMs: number): StrayDeviceTruth {
  const spot = d.walk[0];
  const phone = phoneTruth(seed, d);
  return {
    device: d.id,
    kind: d.kind,
    zone: d.zone,
    x: round2(spot?.x ?? 0),
    y: round2(spot?.y ?? 0),
    from: d.enteredAt,
    to: d.collectedAt <= endMs ? d.collectedAt : null,
    app: d.app,
    ...(phone.beacon !== undefined ? { beacon: phone.beacon } : {}),
    ...(phone.advertising !== undefined ? { advertising: phone.advertising } : {}),
    randomizedMac: d.randomizedMac,
    wifiPseudonyms: phone.wifiPseudonyms,
  };
}

function round2(x: number): number {
  return Math.round(x * 100) / 100;
}
