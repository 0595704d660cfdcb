/**
 * The InfluxDB sink's encoding: a log record becomes InfluxDB points (line protocol), following
 * docs/schema.md. Pure: the same record always gives the same lines, so writing it twice (a replay,
 * a redelivery after a crash) adds no points.
 *
 * Point identity in InfluxDB is measurement + tag set + timestamp. Item i of a message is stamped
 * `eventTime ms × 10^6 + slot.offset + i` nanoseconds, where the slot range was allocated when the
 * message was accepted, unique per (store, kind, source, event millisecond) (gateway/log/event-slots.ts)
 * and kept in the log record. So two distinct accepted messages never map to the same point, and the
 * same accepted message always maps to the same points.
 */
import { beaconIdType } from '../../../protocol/index.js';
import type { ResolvedSource } from '../../ingest/store-directory.js';
import type { LogRecord } from '../../log/log-record.js';
import { LineBuilder } from './line-protocol.js';

export const MEASUREMENTS = ['sighting', 'interaction', 'telemetry', 'agent'] as const;
export type Measurement = (typeof MEASUREMENTS)[number];

export interface NormalisedPoint {
  measurement: Measurement;
  line: string;
}

const NS_PER_MS = 1_000_000n;

/** Nanosecond timestamp of item `index` of a message whose slots start at `offset`. */
export function pointTimestamp(eventTimeMs: number, offset: number, index: number): string {
  return (BigInt(eventTimeMs) * NS_PER_MS + BigInt(offset + index)).toString();
}

function basePoint(measurement: Measurement, source: ResolvedSource): LineBuilder {
  const point = new LineBuilder(measurement).tag('store', source.storeId);
  if (source.zone) point.tag('zone', source.zone);
  return point;
}

function finish(point: LineBuilder, measurement: Measurement, ts: string): NormalisedPoint {
  return { measurement, line: point.line(ts) };
}

/** Turns one log record into its points. */
export function normaliseRecord(input: LogRecord): NormalisedPoint[] {
  const { source, eventTime } = input;
  const offset = input.slot.offset;
  const ts = (i: number) => pointTimestamp(eventTime, offset, i);
  switch (input.kind) {
    case 'ble': {
      const message = input.message;
      return message.sightings.map((s, i) => {
        const p = basePoint('sighting', source).tag('sensor', source.sourceId).tag('source', 'ble').tag('id_type', beaconIdType(s.id) ?? 'unknown');
        p.intField('rssi', s.rssi).stringField('visitor', s.id);
        if (s.tx !== undefined) p.intField('tx', s.tx);
        return finish(p, 'sighting', ts(i));
      });
    }
    case 'wifi': {
      const message = input.message;
      return message.observations.map((o, i) => {
        const p = basePoint('sighting', source).tag('sensor', source.sourceId).tag('source', 'wifi').tag('id_type', 'wifi');
        p.intField('rssi', o.rssi).stringField('visitor', o.id).booleanField('randomized', o.randomized);
        return finish(p, 'sighting', ts(i));
      });
    }
    case 'touchpoint': {
      const m = input.message;
      const p = basePoint('interaction', source).tag('touchpoint', source.sourceId).tag('touchpoint_type', source.type ?? 'unknown').tag('action', m.action);
      // the CRM customer id is personal data: InfluxDB keeps only the fact that the customer identified
      p.intField('count', 1).booleanField('identified', m.customerToken !== undefined);
      if (m.visitor !== undefined) p.stringField('visitor', m.visitor);
      if (m.value !== undefined) p.floatField('value', m.value);
      if (m.label !== undefined) p.stringField('label', m.label);
      return [finish(p, 'interaction', ts(0))];
    }
    case 'device': {
      const { event } = input.message;
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
      const m = input.message;
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
  throw new Error(`no normaliser for kind '${String((input as { kind: unknown }).kind)}'`);
}
