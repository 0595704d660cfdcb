/**
 * Devices left behind: a phone a visitor forgot at a rail, in a fitting room or at the till (its owner
 * or the staff collect it after a while), or a staff phone or tablet left charging in a back zone. It
 * lies still: a fixed position, no body loss, probing for wifi (and advertising the app's beacon if it
 * has the app) until it is collected or the window ends. Parameters and sources: docs/simulator.md.
 */
import type { StoreConfig } from '../config/index.js';
import { randomPointIn, type FloorPlan, type ZoneKind } from './floor-plan.js';
import { advertisingIntervals, drawRotationMs } from './phones.js';
import { createRng } from './prng.js';
import { retailerUuid, type Visitor } from './visitors.js';

/** Left-behind devices' indices start here (seeded streams apart from everyone else's). */
export const STRAY_INDEX_BASE = 2_000_000;
/** Share of left-behind devices that are a visitor's forgotten phone (the rest: staff devices charging; assumed). */
const VISITOR_PHONE_SHARE = 0.5;
/** Mean time until a forgotten visitor's phone is collected (exponential), ms (assumed). */
const VISITOR_PHONE_COLLECTED_MEAN_MS = 90 * 60_000;
/** Mean time a staff device stays charging (exponential), ms (assumed). */
const STAFF_DEVICE_COLLECTED_MEAN_MS = 4 * 3_600_000;
/** Where visitors forget phones. */
const FORGOTTEN_AT: readonly ZoneKind[] = ['aisle', 'display', 'fitting_room', 'checkout'];
/** Where staff leave a device charging, in order of preference. */
const CHARGING_AT: readonly ZoneKind[] = ['backroom', 'other', 'checkout'];

export type StrayKind = 'visitor_phone' | 'staff_device';

export interface Stray extends Visitor {
  kind: StrayKind;
  zone: string;
  /** When it is collected, epoch ms (may lie after the window's end). */
  collectedAt: number;
}

export interface StrayParams {
  seed: number;
  store: StoreConfig;
  plan: FloorPlan;
  startMs: number;
  endMs: number;
  strayDevicesPerHour: number;
  appShare: number;
  randomizedMacShare: number;
  macRotationMinMs: number;
  macRotationMaxMs: number;
  appAdvertisingDutyCycle: number;
  appAdvertisingPeriodMs: number;
}

/** The devices left behind in the window: a Poisson process at `strayDevicesPerHour`, in the order they were left. */
export function generateStrays(params: StrayParams): Stray[] {
  const { seed, plan, startMs, endMs } = params;
  if (params.strayDevicesPerHour <= 0 || plan.zones.length === 0) return [];
  const times = createRng(seed, 'strays');
  const meanGapMs = 3_600_000 / params.strayDevicesPerHour;
  const out: Stray[] = [];
  for (let t = startMs + times.exponential(meanGapMs), k = 0; t <= endMs; t += times.exponential(meanGapMs), k += 1) {
    const rng = createRng(seed, 'stray', k);
    const from = Math.max(startMs + 1, Math.ceil(t));
    const kind: StrayKind = rng.chance(VISITOR_PHONE_SHARE) ? 'visitor_phone' : 'staff_device';
    const zones = kind === 'visitor_phone' ? plan.zones.filter((z) => FORGOTTEN_AT.includes(z.kind)) : chargingZones(plan);
    const zone = rng.pick(zones.length > 0 ? zones : plan.zones);
    const at = randomPointIn(zone, rng);
    const collectedAt =
      from + Math.max(60_000, Math.round(rng.exponential(kind === 'visitor_phone' ? VISITOR_PHONE_COLLECTED_MEAN_MS : STAFF_DEVICE_COLLECTED_MEAN_MS)));
    const app = kind === 'visitor_phone' && rng.chance(params.appShare);
    // a staff device stays on the store wifi (per-network private address); a visitor's phone rotates as visitors' do
    const randomizedMac = kind === 'staff_device' || rng.chance(params.randomizedMacShare);
    const rotationMs = drawRotationMs(rng, params.macRotationMinMs, params.macRotationMaxMs);
    const leftAt = collectedAt <= endMs ? collectedAt : null;
    const stray: Stray = {
      index: STRAY_INDEX_BASE + k,
      id: `d${String(k + 1).padStart(4, '0')}`,
      role: 'stray',
      kind,
      zone: zone.id,
      collectedAt,
      app,
      phone: true,
      randomizedMac,
      ...(kind === 'staff_device' ? { stableMac: true } : {}),
      carried: false,
      rotationMs,
      rotationPhaseMs: Math.floor(rng.uniform(0, rotationMs)),
      enteredAt: from,
      leftAt,
      path: [{ zone: zone.id, from, to: Math.min(collectedAt, endMs) }],
      walk: [{ kind: 'spot', zone: zone.id, ...at, at: from, until: collectedAt }],
    };
    if (app) {
      const ids = createRng(seed, 'stray-beacon', k);
      stray.beaconId = `ibeacon:${retailerUuid(params.store.id)}:${ids.int(1, 65535)}:${ids.int(0, 65535)}`;
      stray.advertising = advertisingIntervals(
        createRng(seed, 'stray-advertising', k),
        from,
        leftAt ?? endMs,
        params.appAdvertisingDutyCycle,
        params.appAdvertisingPeriodMs,
      );
    }
    out.push(stray);
  }
  return out;
}

function chargingZones(plan: FloorPlan): FloorPlan['zones'] {
  for (const kind of CHARGING_AT) {
    const zones = plan.zones.filter((z) => z.kind === kind);
    if (zones.length > 0) return zones;
  }
  return plan.zones;
}
