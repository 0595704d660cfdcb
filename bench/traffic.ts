/**
 * The benchmark's traffic: contract v1 `ble` messages on `storeloop/<store>/ble/<sensor>`, the
 * sensors publishers use, and the message id that carries the send time for delivery latency.
 */
import { buildTopic, DEFAULT_TOPIC_PREFIX } from '../protocol/index.js';

/** The store every scenario publishes to: the built-in demo store's id. */
export const BENCH_STORE_ID = 'demo-store';
/**
 * Sensors per publisher, used in turn. The gateway gives a point the timestamp `ts` + a nanosecond
 * offset hashed from the mid (gateway/ingest/normalise.ts), so two messages of n points of one sensor
 * in one millisecond overwrite each other with probability ~2n/10^6. Spreading a publisher over many
 * sensors, each with strictly increasing `ts`, keeps every point distinct up to 16 000 messages/s per
 * publisher, so the final count is exact.
 */
export const SENSORS_PER_PUBLISHER = 16;
export const SAMPLER_SENSOR_ID = 'bench-sampler';
/** A made-up iBeacon proximity UUID (lowercase with dashes, as the contract wants). */
const BEACON_UUID = 'b9407f30-f5f8-466e-aff9-25556b57fe6d';

export function publisherSensorIds(publisher: number): string[] {
  return Array.from({ length: SENSORS_PER_PUBLISHER }, (_, s) => `bench-p${publisher}-s${s}`);
}

export function bleTopic(sensorId: string): string {
  return buildTopic(DEFAULT_TOPIC_PREFIX, { storeId: BENCH_STORE_ID, kind: 'ble', sourceId: sensorId });
}

/** `ibeacon:<uuid>:<major>:<minor>` for beacon number `n` (0 ≤ n < 65536²). */
export function beaconId(n: number): string {
  return `ibeacon:${BEACON_UUID}:${Math.floor(n / 65536) % 65536}:${n % 65536}`;
}

/** Every sighting's calibrated tx power (dBm at 1 m), so each point has the gateway's full field set: rssi, tx, visitor. */
export const BENCH_TX_POWER = -59;

/** The RSSI (dBm) of the `i`-th sighting of a set starting at beacon `firstBeacon`: varied, -40 to -94. */
export function sightingRssi(firstBeacon: number, i: number): number {
  return -40 - ((firstBeacon + i * 7) % 55);
}

/** The `sightings` array of a message as JSON: `count` beacons from `firstBeacon` on, varied RSSI. */
export function sightingsJson(firstBeacon: number, count: number): string {
  const items = Array.from({ length: count }, (_, i) => ({ id: beaconId(firstBeacon + i), rssi: sightingRssi(firstBeacon, i), tx: BENCH_TX_POWER }));
  return JSON.stringify(items);
}

/** A `ble` payload; built by hand from a prepared sightings string so the publisher stays cheap. */
export function blePayload(ts: number, mid: string, sightings: string): string {
  return `{"ts":${ts},"mid":${JSON.stringify(mid)},"sightings":${sightings}}`;
}

/** A message id unique per source that also carries the send time (epoch µs) for the subscriber. */
export function encodeMid(tag: string, seq: number, sentUs: number): string {
  return `${tag}-${seq}-${sentUs}`;
}

const SENT_US_IN_PAYLOAD = /"mid":"[^"]*-(\d+)"/;

/** The send time (epoch µs) from a benchmark payload, without parsing the whole JSON. */
export function sentMicrosOf(payload: string): number | undefined {
  const match = SENT_US_IN_PAYLOAD.exec(payload);
  return match?.[1] === undefined ? undefined : Number(match[1]);
}
