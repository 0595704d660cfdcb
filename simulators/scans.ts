/**
 * BLE and wifi scans: every scan interval each BLE sensor reports the beacons it heard (the retailer's
 * app on visitors' phones, the store's fixed Eddystone beacons) and each wifi sensor the phones whose
 * probe requests it caught, under the phone's current pseudonym. A sensor publishes every interval,
 * with an empty list when it heard nothing.
 */
import { DEFAULT_RSSI_AT_1M_DBM } from '../config/index.js';
import { MAX_ITEMS_PER_MESSAGE } from '../protocol/index.js';
import { distanceM, type FloorPlan, type PlacedSensor, type Point } from './floor-plan.js';
import { RANK_NORMAL, type DraftMessage, type PayloadByKind } from './messages.js';
import type { Rng } from './prng.js';
import { BLE_RADIO, WIFI_RADIO, hear } from './radio.js';
import { intervalTicks } from './schedule.js';
import { positionAt, wifiPseudonymAt, type Visitor } from './visitors.js';

/** A phone sends a burst of probe requests about every 20 s on average. */
const MEAN_PROBE_GAP_MS = 20_000;

export interface ScanParams {
  seed: number;
  plan: FloorPlan;
  /** Visitors in arrival order. */
  visitors: readonly Visitor[];
  startMs: number;
  endMs: number;
  scanIntervalMs: number;
}

type BleSightingInput = PayloadByKind['ble']['sightings'][number];
type WifiObservationInput = PayloadByKind['wifi']['observations'][number];

interface Present {
  visitor: Visitor;
  segIndex: number;
  at: Point;
}

/** Every ble and wifi message of the window, in time order. */
export function scanMessages(params: ScanParams, rng: Rng): DraftMessage[] {
  const { plan, scanIntervalMs } = params;
  const bleSensors = plan.sensors.filter((s) => s.type === 'ble');
  const wifiSensors = plan.sensors.filter((s) => s.type === 'wifi');
  const probeChance = 1 - Math.exp(-scanIntervalMs / MEAN_PROBE_GAP_MS);
  const tracker = new PresenceTracker(params);
  const out: DraftMessage[] = [];
  for (const ts of intervalTicks(params.startMs, params.endMs, scanIntervalMs)) {
    const present = tracker.at(ts);
    for (const sensor of bleSensors) {
      const sightings: BleSightingInput[] = [];
      const gainDb = calibrationGainDb(sensor);
      for (const beacon of plan.beacons) addSighting(sightings, beacon.id, distanceM(sensor, beacon), rng, gainDb);
      for (const p of present) if (p.visitor.beaconId) addSighting(sightings, p.visitor.beaconId, distanceM(sensor, p.at), rng, gainDb);
      for (const batch of batches(sightings))
        out.push({ kind: 'ble', sourceId: sensor.id, ts, rank: RANK_NORMAL, retain: false, payload: { ts, sightings: batch } });
    }
    const observations = new Map<string, WifiObservationInput[]>(wifiSensors.map((s) => [s.id, []]));
    for (const p of present) {
      if (!p.visitor.phone || !rng.chance(probeChance)) continue;
      const id = wifiPseudonymAt(params.seed, p.visitor, ts);
      for (const sensor of wifiSensors) {
        const rssi = hear(WIFI_RADIO, distanceM(sensor, p.at), rng, calibrationGainDb(sensor));
        if (rssi !== undefined) observations.get(sensor.id)?.push({ id, rssi, randomized: p.visitor.randomizedMac });
      }
    }
    for (const sensor of wifiSensors) {
      for (const batch of batches(observations.get(sensor.id) ?? [])) {
        out.push({ kind: 'wifi', sourceId: sensor.id, ts, rank: RANK_NORMAL, retain: false, payload: { ts, observations: batch } });
      }
    }
  }
  return out;
}

/** How much louder than a nominal scanner of its type this one reads, from its calibration (dB). */
function calibrationGainDb(sensor: PlacedSensor): number {
  return sensor.rssiAt1m - DEFAULT_RSSI_AT_1M_DBM[sensor.type];
}

function addSighting(into: BleSightingInput[], id: string, d: number, rng: Rng, gainDb: number): void {
  const rssi = hear(BLE_RADIO, d, rng, gainDb);
  if (rssi !== undefined) into.push({ id, rssi, tx: BLE_RADIO.txAt1mDbm });
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
  private active: Array<{ visitor: Visitor; segIndex: number }> = [];

  constructor(private readonly params: ScanParams) {}

  at(ts: number): Present[] {
    const { visitors, plan, seed } = this.params;
    while (this.next < visitors.length && (visitors[this.next] as Visitor).enteredAt <= ts) {
      this.active.push({ visitor: visitors[this.next] as Visitor, segIndex: 0 });
      this.next += 1;
    }
    const present: Present[] = [];
    this.active = this.active.filter((a) => {
      const path = a.visitor.path;
      // a visitor still inside at the window's end stays in their last (clipped) segment
      const open = (i: number) => i === path.length - 1 && a.visitor.leftAt === null;
      while (a.segIndex < path.length && !open(a.segIndex) && (path[a.segIndex] as { to: number }).to <= ts) a.segIndex += 1;
      if (a.segIndex >= path.length) return false;
      if (a.visitor.app || a.visitor.phone) present.push({ ...a, at: positionAt(plan, seed, a.visitor, a.segIndex, ts) });
      return true;
    });
    return present;
  }
}
