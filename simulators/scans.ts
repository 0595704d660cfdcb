/**
 * BLE and wifi scans: every scan interval each BLE sensor reports the beacons it heard (the retailer's
 * app on visitors' phones, the store's fixed Eddystone beacons) and each wifi sensor the phones whose
 * probe requests it caught, under the phone's current pseudonym. A sensor publishes every interval,
 * with an empty list when it heard nothing.
 */
import { DEFAULT_RSSI_AT_1M_DBM } from '../config/index.js';
import { MAX_ITEMS_PER_MESSAGE } from '../protocol/index.js';
import { distanceM, type FixedBeacon, type FloorPlan, type PlacedSensor, type Point } from './floor-plan.js';
import { RANK_NORMAL, type DraftMessage, type PayloadByKind } from './messages.js';
import { carryLossDb, phoneTxOffsetDb } from './carry.js';
import { createRng, type Rng } from './prng.js';
import type { RadioOptions } from './radio-options.js';
import { BLE, WIFI, hear, type Link, type Technology } from './radio.js';
import { ShadowingField } from './shadowing.js';
import { wallsBetween } from './walls.js';
import { within } from './phones.js';
import { outerLossDb } from './street.js';
import { positionAt, wifiPseudonymAt, type Visitor } from './visitors.js';

export interface ScanParams {
  seed: number;
  plan: FloorPlan;
  /** Visitors in arrival order. */
  visitors: readonly Visitor[];
  startMs: number;
  endMs: number;
  scanIntervalMs: number;
  /** A phone sends a burst of probe requests this often on average, ms (Poisson; docs/simulator.md). */
  probeIntervalMs: number;
  radio: RadioOptions;
  /**
   * Everyone else with a phone (staff.ts, strays.ts, street.ts), in `enteredAt` order: heard like visitors but drawn
   * from streams of their own, so adding them leaves every visitor's sightings as they were.
   */
  others?: readonly Visitor[];
  /** Neighbouring shops' beacons outside the store (street.ts), heard through its outer walls. */
  neighbourBeacons?: readonly FixedBeacon[];
}

type BleSightingInput = PayloadByKind['ble']['sightings'][number];
type WifiObservationInput = PayloadByKind['wifi']['observations'][number];

interface Present {
  visitor: Visitor;
  segIndex: number;
  at: Point;
  /** The phone's transmit offset, dB. */
  txOffsetDb: number;
}

/** Everything one scan needs to turn a transmitter's position into what a scanner reports. */
class Receiver {
  private readonly shadowing: ShadowingField;
  private readonly shadowingRng: Rng;
  private readonly fixedWalls = new Map<string, number>();

  constructor(
    private readonly params: ScanParams,
    private readonly rng: Rng,
    shadowingLabel = 'shadowing',
  ) {
    const { radio } = params;
    this.shadowing = new ShadowingField({
      sigmaDb: radio.shadowingSigmaDb,
      decorrelationM: radio.shadowingDecorrelationM,
      decorrelationS: radio.shadowingDecorrelationS,
    });
    this.shadowingRng = createRng(params.seed, shadowingLabel);
  }

  /** A fixed beacon heard by a scanner (calibrated hardware on a wall: no offset, no carrier). */
  beacon(sensor: PlacedSensor, beacon: FixedBeacon, ts: number): number | undefined {
    const key = `${beacon.id}|${sensor.id}`;
    let walls = this.fixedWalls.get(key);
    if (walls === undefined) {
      walls = wallsBetween(this.params.plan.zones, beacon, sensor);
      this.fixedWalls.set(key, walls);
    }
    const shadowingDb = this.shadowing.sample('fixed', key, ts, beacon, this.shadowingRng);
    const outer = outerLossDb(this.params.plan, beacon, sensor, this.params.radio);
    return this.hear(BLE, { distanceM: distanceM(sensor, beacon), gainDb: calibrationGainDb(sensor), walls, shadowingDb, outerLossDb: outer });
  }

  /** A visitor's phone heard by a scanner over one technology. */
  phone(tech: Technology, sensor: PlacedSensor, p: Present, ts: number): number | undefined {
    const { seed, plan, radio } = this.params;
    const owner = `v${p.visitor.index}`;
    const shadowingDb = this.shadowing.sample(owner, `${tech === BLE ? 'ble' : 'wifi'}|${sensor.id}`, ts, p.at, this.shadowingRng);
    return this.hear(tech, {
      distanceM: distanceM(sensor, p.at),
      gainDb: calibrationGainDb(sensor),
      txOffsetDb: p.txOffsetDb,
      walls: wallsBetween(plan.zones, p.at, sensor),
      carryLossDb: p.visitor.carried === false ? 0 : carryLossDb(seed, p.visitor.index, p.segIndex, radio),
      shadowingDb,
      outerLossDb: outerLossDb(plan, p.at, sensor, radio),
    });
  }

  /** Forgets the links of visitors who left. */
  departed(visitors: readonly Visitor[]): void {
    for (const v of visitors) this.shadowing.forget(`v${v.index}`);
  }

  private hear(tech: Technology, link: Link): number | undefined {
    return hear(tech, this.params.radio, link, this.rng);
  }
}

/** Every ble and wifi message of the window, in time order. */
export function scanMessages(params: ScanParams, rng: Rng): DraftMessage[] {
  return [...scanDrafts(params, rng)];
}

/** The messages of scanMessages, made one scan instant at a time as they are taken (only one instant's are held). */
export function* scanDrafts(params: ScanParams, rng: Rng): Generator<DraftMessage> {
  const { plan, scanIntervalMs } = params;
  const bleSensors = plan.sensors.filter((s) => s.type === 'ble');
  const wifiSensors = plan.sensors.filter((s) => s.type === 'wifi');
  const probeChance = 1 - Math.exp(-scanIntervalMs / params.probeIntervalMs);
  const tracker = new PresenceTracker(params);
  const receiver = new Receiver(params, rng);
  // everyone else and the neighbours' beacons: streams of their own (see ScanParams.others)
  const othersTracker = new PresenceTracker({ ...params, visitors: params.others ?? [] });
  const othersRng = createRng(params.seed, 'radio-others');
  const othersReceiver = new Receiver(params, othersRng, 'shadowing-others');
  const neighbours = params.neighbourBeacons ?? [];
  for (let ts = params.startMs + scanIntervalMs; ts <= params.endMs; ts += scanIntervalMs) {
    const out: DraftMessage[] = [];
    const present = tracker.at(ts);
    receiver.departed(tracker.takeDeparted());
    const others = othersTracker.at(ts);
    othersReceiver.departed(othersTracker.takeDeparted());
    for (const sensor of bleSensors) {
      const sightings: BleSightingInput[] = [];
      for (const beacon of plan.beacons) addSighting(sightings, beacon.id, receiver.beacon(sensor, beacon, ts));
      for (const p of present)
        if (p.visitor.beaconId && advertises(p.visitor, ts)) addSighting(sightings, p.visitor.beaconId, receiver.phone(BLE, sensor, p, ts));
      for (const beacon of neighbours) addSighting(sightings, beacon.id, othersReceiver.beacon(sensor, beacon, ts));
      for (const p of others)
        if (p.visitor.beaconId && advertises(p.visitor, ts)) addSighting(sightings, p.visitor.beaconId, othersReceiver.phone(BLE, sensor, p, ts));
      for (const batch of batches(sightings))
        out.push({ kind: 'ble', sourceId: sensor.id, ts, rank: RANK_NORMAL, retain: false, payload: { ts, sightings: batch } });
    }
    const observations = new Map<string, WifiObservationInput[]>(wifiSensors.map((s) => [s.id, []]));
    for (const p of present) {
      if (!p.visitor.phone || !rng.chance(probeChance)) continue;
      const id = wifiPseudonymAt(params.seed, p.visitor, ts);
      for (const sensor of wifiSensors) {
        const rssi = receiver.phone(WIFI, sensor, p, ts);
        if (rssi !== undefined) observations.get(sensor.id)?.push({ id, rssi, randomized: p.visitor.randomizedMac });
      }
    }
    for (const p of others) {
      if (!p.visitor.phone || !othersRng.chance(probeChance)) continue;
      const id = wifiPseudonymAt(params.seed, p.visitor, ts);
      for (const sensor of wifiSensors) {
        const rssi = othersReceiver.phone(WIFI, sensor, p, ts);
        if (rssi !== undefined) observations.get(sensor.id)?.push({ id, rssi, randomized: p.visitor.randomizedMac });
      }
    }
    for (const sensor of wifiSensors) {
      for (const batch of batches(observations.get(sensor.id) ?? [])) {
        out.push({ kind: 'wifi', sourceId: sensor.id, ts, rank: RANK_NORMAL, retain: false, payload: { ts, observations: batch } });
      }
    }
    yield* out;
  }
}

/** Whether an app user's phone advertises its beacon at `ts` (intermittent advertising, phones.ts). */
function advertises(visitor: Visitor, ts: number): boolean {
  return visitor.advertising === undefined || within(visitor.advertising, ts);
}

/** How much louder than a nominal scanner of its type this one reads, from its calibration (dB). */
function calibrationGainDb(sensor: PlacedSensor): number {
  return sensor.rssiAt1m - DEFAULT_RSSI_AT_1M_DBM[sensor.type];
}

/** A sighting advertises the nominal power at 1 m (what iBeacon calibrates to), whatever the phone really sends. */
function addSighting(into: BleSightingInput[], id: string, rssi: number | undefined): void {
  if (rssi !== undefined) into.push({ id, rssi, tx: BLE.txAt1mDbm });
}

/** Splits a long list into messages of at most MAX_ITEMS_PER_MESSAGE items (one empty message for none). */
function batches<T>(items: T[]): T[][] {
  if (items.length <= MAX_ITEMS_PER_MESSAGE) return [items];
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += MAX_ITEMS_PER_MESSAGE) out.push(items.slice(i, i + MAX_ITEMS_PER_MESSAGE));
  return out;
}

/** Who is inside at each scan instant (instants ascending) and where they stand. */
class PresenceTracker {
  private next = 0;
  private active: Array<{ visitor: Visitor; segIndex: number; txOffsetDb: number }> = [];
  private departed: Visitor[] = [];

  constructor(private readonly params: ScanParams) {}

  /** The visitors who left since the last call. */
  takeDeparted(): Visitor[] {
    const out = this.departed;
    this.departed = [];
    return out;
  }

  at(ts: number): Present[] {
    const { visitors, seed, radio } = this.params;
    while (this.next < visitors.length && (visitors[this.next] as Visitor).enteredAt <= ts) {
      const visitor = visitors[this.next] as Visitor;
      this.active.push({ visitor, segIndex: 0, txOffsetDb: phoneTxOffsetDb(seed, visitor.index, radio) });
      this.next += 1;
    }
    const present: Present[] = [];
    this.active = this.active.filter((a) => {
      const path = a.visitor.path;
      // a visitor still inside at the window's end stays in their last (clipped) segment
      const open = (i: number) => i === path.length - 1 && a.visitor.leftAt === null;
      while (a.segIndex < path.length && !open(a.segIndex) && (path[a.segIndex] as { to: number }).to <= ts) a.segIndex += 1;
      if (a.segIndex >= path.length) {
        this.departed.push(a.visitor);
        return false;
      }
      if (a.visitor.app || a.visitor.phone) present.push({ ...a, at: positionAt(a.visitor, ts) });
      return true;
    });
    return present;
  }
}
