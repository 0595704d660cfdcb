/**
 * BLE sighting points in the line protocol the gateway writes (gateway/ingest/normalise.ts, through
 * the client's Point: tags and fields in key order, nanosecond timestamps), built straight from
 * strings for the influx-raw scenario:
 *
 *   sighting,id_type=ibeacon,sensor=<id>,source=ble,store=<store>,zone=<zone> rssi=<n>i,tx=<n>i,visitor="<beacon>" <ns>
 *
 * Every point gets its own timestamp, so none overwrites another and the stored count is exact.
 */
import { beaconId, BENCH_STORE_ID, BENCH_TX_POWER, sightingRssi } from './traffic.js';

/** Beacon numbers the visitors cycle through. */
const VISITORS = 100_000;
/** Points per millisecond of timestamps: consecutive points are 1 µs apart. */
const POINTS_PER_MS = 1_000;
const NS_PER_POINT = 1_000_000 / POINTS_PER_MS;
/** Sensor ids, zones and the store are plain [a-z0-9-]: nothing the line protocol would escape. */
const PLAIN = /^[a-z0-9-]+$/;

export class SightingLines {
  private readonly prefixes: string[];
  private next = 0;

  /** Points rotate over `sensors`; timestamps start at `startMs` and rise by 1 µs per point. */
  constructor(
    sensors: ReadonlyArray<{ id: string; zone: string }>,
    private readonly startMs: number,
  ) {
    if (sensors.length === 0) throw new Error('no sensors to write sightings for');
    for (const value of [BENCH_STORE_ID, ...sensors.flatMap((s) => [s.id, s.zone])]) {
      if (!PLAIN.test(value)) throw new Error(`'${value}' would need line-protocol escaping; SightingLines only writes plain ids`);
    }
    this.prefixes = sensors.map((s) => `sighting,id_type=ibeacon,sensor=${s.id},source=ble,store=${BENCH_STORE_ID},zone=${s.zone} `);
  }

  /** Points handed out so far. */
  get count(): number {
    return this.next;
  }

  /** The next `n` points, one line each, joined by newlines (a /write body). */
  batch(n: number): string {
    const lines = new Array<string>(n);
    for (let i = 0; i < n; i++) lines[i] = this.line(this.next++);
    return lines.join('\n');
  }

  private line(k: number): string {
    const prefix = this.prefixes[k % this.prefixes.length] as string; // index < length
    const beacon = k % VISITORS;
    return `${prefix}rssi=${sightingRssi(beacon, 0)}i,tx=${BENCH_TX_POWER}i,visitor="${beaconId(beacon)}" ${this.timestampNs(k)}`;
  }

  /** startMs + k µs in ns, as digits (beyond 2^53, so built from the ms and the ns within it). */
  private timestampNs(k: number): string {
    const ms = this.startMs + Math.floor(k / POINTS_PER_MS);
    const ns = (k % POINTS_PER_MS) * NS_PER_POINT;
    return `${ms}${String(ns).padStart(6, '0')}`;
  }
}
