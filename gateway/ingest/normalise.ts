/**
 * Normalises a validated message into InfluxDB points (line protocol), following docs/schema.md.
 * Pure: the same message always gives the same lines, so writing it twice adds no points.
 *
 * Point identity in InfluxDB is measurement + tag set + timestamp, and many items of one message
 * share their tags and `ts`. Each point's timestamp is therefore `ts` in ms plus a nanosecond offset
 * inside that millisecond: `base + item index`, where `base = hash(mid or payload) mod (10^6 - n + 1)`
 * for a message of n items. Items of one message never collide. Two different messages of one source
 * stamped with the same millisecond collide only if their ranges overlap: probability about 2n/10^6
 * (2 in a million for single-point messages), and a source sends one message per event or interval.
 */
import { createHash } from 'node:crypto';

import { Point } from '@influxdata/influxdb-client';

import { beaconIdType, MAX_ITEMS_PER_MESSAGE, type MessageByKind, type MessageKind } from '../../protocol/index.js';
import type { ResolvedSource } from './store-directory.js';

export const MEASUREMENTS = ['sighting', 'interaction', 'telemetry', 'agent'] as const;
export type Measurement = (typeof MEASUREMENTS)[number];

export interface NormalisedPoint {
  measurement: Measurement;
  line: string;
}

export interface NormaliseInput<K extends MessageKind> {
  kind: K;
  message: MessageByKind[K];
  source: ResolvedSource;
  /** Event time to use (ms): the message's `ts`, or the receive time for an offline status. */
  eventTimeMs: number;
  /** Identity of the message for the timestamp offset: its mid, else its payload bytes. */
  identity: string | Buffer;
}

const NS_PER_MS = 1_000_000;

/** The first nanosecond offset of a message of `itemCount` items inside its millisecond, from its identity. */
export function messageOffset(identity: string | Buffer, itemCount: number): number {
  if (itemCount > MAX_ITEMS_PER_MESSAGE) throw new RangeError(`${itemCount} items over ${MAX_ITEMS_PER_MESSAGE}`);
  const hash = createHash('sha1').update(identity).digest().readUInt32BE(0);
  return hash % (NS_PER_MS - Math.max(1, itemCount) + 1);
}

/** Nanosecond timestamp of item `index` of a message whose items start at `offset`. */
export function pointTimestamp(eventTimeMs: number, offset: number, index: number): string {
  return (BigInt(eventTimeMs) * BigInt(NS_PER_MS) + BigInt(offset + index)).toString();
}

function basePoint(measurement: Measurement, source: ResolvedSource): Point {
  const point = new Point(measurement).tag('store', source.storeId);
  if (source.zone) point.tag('zone', source.zone);
  return point;
}

function finish(point: Point, measurement: Measurement, ts: string): NormalisedPoint {
  const line = point.timestamp(ts).toLineProtocol();
  // toLineProtocol answers undefined only for a point without fields; every point here has one
  if (line === undefined) throw new Error(`point of ${measurement} has no fields`);
  return { measurement, line };
}

/** Turns one validated message into its points. */
export function normaliseMessage<K extends MessageKind>(input: NormaliseInput<K>): NormalisedPoint[] {
  const { source, eventTimeMs, identity } = input;
  const itemCount = input.kind === 'ble' ? (input.message as MessageByKind['ble']).sightings.length : input.kind === 'wifi' ? (input.message as MessageByKind['wifi']).observations.length : 1;
  const offset = messageOffset(identity, itemCount); // once per message, not per item
  const ts = (i: number) => pointTimestamp(eventTimeMs, offset, i);
  switch (input.kind) {
    case 'ble': {
      const message = input.message as MessageByKind['ble'];
      return message.sightings.map((s, i) => {
        const p = basePoint('sighting', source).tag('sensor', source.sourceId).tag('source', 'ble').tag('id_type', beaconIdType(s.id) ?? 'unknown');
        p.intField('rssi', s.rssi).stringField('visitor', s.id);
        if (s.tx !== undefined) p.intField('tx', s.tx);
        return finish(p, 'sighting', ts(i));
      });
    }
    case 'wifi': {
      const message = input.message as MessageByKind['wifi'];
      return message.observations.map((o, i) => {
        const p = basePoint('sighting', source).tag('sensor', source.sourceId).tag('source', 'wifi').tag('id_type', 'wifi');
        p.intField('rssi', o.rssi).stringField('visitor', o.id).booleanField('randomized', o.randomized);
        return finish(p, 'sighting', ts(i));
      });
    }
    case 'touchpoint': {
      const m = input.message as MessageByKind['touchpoint'];
      const p = basePoint('interaction', source).tag('touchpoint', source.sourceId).tag('touchpoint_type', source.type ?? 'unknown').tag('action', m.action);
      // the CRM customer id is personal data: InfluxDB keeps only the fact that the customer identified
      p.intField('count', 1).booleanField('identified', m.customer !== undefined);
      if (m.visitor !== undefined) p.stringField('visitor', m.visitor);
      if (m.value !== undefined) p.floatField('value', m.value);
      if (m.label !== undefined) p.stringField('label', m.label);
      return [finish(p, 'interaction', ts(0))];
    }
    case 'device': {
      const { event } = input.message as MessageByKind['device'];
      const p = basePoint('telemetry', source).tag('device', source.sourceId).tag('device_type', source.type ?? 'unknown').tag('event', event.type);
      if (event.type === 'people_count') p.intField('in', event.in).intField('out', event.out);
      else if (event.type === 'shelf') p.tag('action', event.action).stringField('sku', event.sku).intField('qty', event.qty);
      else {
        for (const key of ['temperature_c', 'humidity_pct', 'co2_ppm', 'battery_pct'] as const) {
          const value = event[key];
          if (value !== undefined) p.floatField(key, value);
        }
        if (event.battery_mv !== undefined) p.intField('battery_mv', event.battery_mv);
      }
      return [finish(p, 'telemetry', ts(0))];
    }
    case 'status': {
      const m = input.message as MessageByKind['status'];
      const p = basePoint('agent', source).tag('agent', source.sourceId).tag('role', source.role).tag('state', m.state);
      p.booleanField('online', m.state !== 'offline');
      if (m.version !== undefined) p.stringField('version', m.version);
      if (m.uptime_s !== undefined) p.floatField('uptime_s', m.uptime_s);
      if (m.queue_depth !== undefined) p.intField('queue_depth', m.queue_depth);
      if (m.queue_bytes !== undefined) p.intField('queue_bytes', m.queue_bytes);
      if (m.clock_synced !== undefined) p.booleanField('clock_synced', m.clock_synced);
      if (m.detail !== undefined) p.stringField('detail', m.detail);
      return [finish(p, 'agent', ts(0))];
    }
  }
  throw new Error(`no normaliser for kind '${String(input.kind)}'`);
}
