/**
 * The BLE sightings of a simulation as the gateway stores them, without MQTT or InfluxDB: the
 * messages it accepts (injected bad ones skipped, a well-formed message rejected as ts_in_future
 * skipped, resent copies dropped by `mid`, bad items of a batch dropped), each sighting at its
 * message's `ts` (the sensor's stamp, not the true time), with the sensor's zone, inside the window.
 */
import type { StoreConfig } from '../config/index.js';
import type { SightingRow } from '../evaluation/metrics.js';
import { decodeJson, decodeMessage } from '../protocol/index.js';
import { messageBody, type SimMessage } from '../simulators/index.js';

/** iBeacon sightings of the store's BLE sensors stamped in [startMs, endMs] (as evaluation/signals.ts reads them). */
export function acceptedBleSightings(messages: readonly SimMessage[], store: Pick<StoreConfig, 'sensors'>, startMs: number, endMs: number): SightingRow[] {
  const zoneOf = new Map(store.sensors.filter((s) => s.type === 'ble').map((s) => [s.id, s.zone]));
  const seen = new Set<string>();
  const out: SightingRow[] = [];
  for (const m of messages) {
    if (m.kind !== 'ble' || m.expectedRejection !== undefined || m.injected?.scope === 'message') continue;
    const zone = zoneOf.get(m.sourceId);
    if (zone === undefined) continue;
    const json = decodeJson(messageBody(m));
    if (!json.ok) continue;
    const decoded = decodeMessage('ble', json.value);
    if (!decoded.ok) continue;
    const { mid, ts, sightings } = decoded.message;
    if (mid !== undefined) {
      if (seen.has(mid)) continue;
      seen.add(mid);
    }
    if (ts < startMs || ts > endMs) continue;
    for (const s of sightings) if (s.id.startsWith('ibeacon:')) out.push({ ts, visitor: s.id, sensor: m.sourceId, zone, rssi: s.rssi });
  }
  return out;
}

/** One touchpoint interaction that names the visitor's beacon id, as the gateway stores it (the message's `ts`, the touchpoint's clock). */
export interface InteractionRow {
  ts: number;
  touchpoint: string;
  beacon: string;
}

/** The accepted touchpoint messages of the store's touchpoints that carry a beacon id, stamped in [startMs, endMs] (first copies only, as the gateway stores them). */
export function acceptedBeaconInteractions(
  messages: readonly SimMessage[],
  store: Pick<StoreConfig, 'touchpoints'>,
  startMs: number,
  endMs: number,
): InteractionRow[] {
  const known = new Set(store.touchpoints.map((t) => t.id));
  const seen = new Set<string>();
  const out: InteractionRow[] = [];
  for (const m of messages) {
    if (m.kind !== 'touchpoint' || m.expectedRejection !== undefined || m.injected?.scope === 'message' || !known.has(m.sourceId)) continue;
    const json = decodeJson(messageBody(m));
    if (!json.ok) continue;
    const decoded = decodeMessage('touchpoint', json.value);
    if (!decoded.ok) continue;
    const { mid, ts, beacon } = decoded.message;
    if (mid !== undefined) {
      if (seen.has(mid)) continue;
      seen.add(mid);
    }
    if (ts < startMs || ts > endMs || beacon === undefined) continue;
    out.push({ ts, touchpoint: m.sourceId, beacon });
  }
  return out;
}
