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
import { ALTBEACON_ID, beaconIdType, DEVICE_ID, EDDYSTONE_ID, IBEACON_ID, isConsentAction } from '../../../protocol/index.js';
import type { LogKind, LogRecord, LogRecordOf, LogSource } from '../../log/log-record.js';
import { EXPERIENCE_MEASUREMENTS, experiencePoint } from './normalise-experience.js';
import { intFieldValue, LineBuilder, quoteString } from './line-protocol.js';

export const MEASUREMENTS = ['sighting', 'interaction', 'consent_choice', 'telemetry', 'agent', ...EXPERIENCE_MEASUREMENTS] as const;
export type Measurement = (typeof MEASUREMENTS)[number];

export interface NormalisedPoint {
  measurement: Measurement;
  line: string;
}

const NS_PER_MS = 1_000_000n;

/** Nanosecond timestamp of item `index` of a message whose slots start at `offset`. */
export function pointTimestamp(eventTimeMs: number, offset: number, index: number): string {
  const slot = offset + index;
  // ms × 10^6 + slot, written as digits: the same string as the BigInt sum, without a BigInt per point
  if (eventTimeMs > 0 && Number.isSafeInteger(eventTimeMs) && Number.isInteger(slot) && slot >= 0 && slot < 1_000_000) {
    return `${eventTimeMs}${String(slot).padStart(6, '0')}`;
  }
  return (BigInt(eventTimeMs) * NS_PER_MS + BigInt(slot)).toString();
}

/** The id_type tag of a beacon id: the contract's check of the one format its prefix names (not all four in turn). */
const ID_FORMATS: Record<string, RegExp> = { ibeacon: IBEACON_ID, eddystone: EDDYSTONE_ID, altbeacon: ALTBEACON_ID, dev: DEVICE_ID };
function idTypeOf(id: string): string {
  const prefix = id.slice(0, id.indexOf(':'));
  const format = ID_FORMATS[prefix];
  if (format !== undefined) return format.test(id) ? prefix : 'unknown';
  return beaconIdType(id) ?? 'unknown';
}

/**
 * Sighting lines, built as strings: these are nearly every point the gateway writes, so the series key
 * (measurement and tags) is escaped once per record and id type, and the fields are written in
 * LineBuilder's sorted order (normalise.test.ts holds both paths to the same bytes).
 */
function sightingLines(
  source: LogSource,
  sourceKind: 'ble' | 'wifi',
  items: ReadonlyArray<{ id: string; rssi: number; tx?: number | undefined; randomized?: boolean }>,
  ts: (i: number) => string,
): NormalisedPoint[] {
  const keys = new Map<string, string>();
  const seriesKey = (idType: string): string => {
    let key = keys.get(idType);
    if (key === undefined) {
      key = basePoint('sighting', source).tag('sensor', source.sourceId).tag('source', sourceKind).tag('id_type', idType).seriesKey();
      keys.set(idType, key);
    }
    return key;
  };
  return items.map((item, i) => {
    const visitor = quoteString(item.id);
    const fields =
      sourceKind === 'ble'
        ? `rssi=${intFieldValue('rssi', item.rssi)}${item.tx === undefined ? '' : `,tx=${intFieldValue('tx', item.tx)}`},visitor=${visitor}`
        : `randomized=${item.randomized ? 'T' : 'F'},rssi=${intFieldValue('rssi', item.rssi)},visitor=${visitor}`;
    return { measurement: 'sighting', line: `${seriesKey(sourceKind === 'ble' ? idTypeOf(item.id) : 'wifi')} ${fields} ${ts(i)}` };
  });
}

/** The generic path for sightings (the reference the string path is tested against). */
export function sightingLinesByBuilder(record: LogRecord): NormalisedPoint[] {
  const { source, eventTime } = record;
  const ts = (i: number) => pointTimestamp(eventTime, record.slot.offset, i);
  if (record.kind === 'ble') {
    return record.message.sightings.map((s, i) => {
      const p = basePoint('sighting', source)
        .tag('sensor', source.sourceId)
        .tag('source', 'ble')
        .tag('id_type', beaconIdType(s.id) ?? 'unknown');
      p.intField('rssi', s.rssi).stringField('visitor', s.id);
      if (s.tx !== undefined) p.intField('tx', s.tx);
      return finish(p, 'sighting', ts(i));
    });
  }
  if (record.kind === 'wifi') {
    return record.message.observations.map((o, i) => {
      const p = basePoint('sighting', source).tag('sensor', source.sourceId).tag('source', 'wifi').tag('id_type', 'wifi');
      p.intField('rssi', o.rssi).stringField('visitor', o.id).booleanField('randomized', o.randomized);
      return finish(p, 'sighting', ts(i));
    });
  }
  return [];
}

function basePoint(measurement: Measurement, source: LogSource): LineBuilder {
  const point = new LineBuilder(measurement).tag('store', source.storeId);
  if (source.zone) point.tag('zone', source.zone);
  return point;
}

function finish(point: LineBuilder, measurement: Measurement, ts: string): NormalisedPoint {
  return { measurement, line: point.line(ts) };
}

/** A kind's points from one record; `ts(i)` is the timestamp of item i. */
type KindNormaliser<K extends LogKind> = (record: LogRecordOf<K>, ts: (i: number) => string) => NormalisedPoint[];

/** Each kind's points (docs/schema.md): a new kind is an entry here the compiler demands. */
const NORMALISERS: { [K in LogKind]: KindNormaliser<K> } = {
  ble: (record, ts) => sightingLines(record.source, 'ble', record.message.sightings, ts),
  wifi: (record, ts) => sightingLines(record.source, 'wifi', record.message.observations, ts),
  touchpoint: interactionPoints,
  device: telemetryPoints,
  status: agentPoints,
  experience: (record, ts) => [experiencePoint(record.source.storeId, record.message, ts(0))],
};

/** Turns one log record into its points. */
export function normaliseRecord<K extends LogKind>(input: LogRecord<K>): NormalisedPoint[] {
  const { eventTime } = input;
  const offset = input.slot.offset;
  const ts = (i: number) => pointTimestamp(eventTime, offset, i);
  // a record written by a newer gateway may carry a kind this one does not know
  const normalise: KindNormaliser<K> | undefined = NORMALISERS[input.kind];
  if (normalise === undefined) throw new Error(`no normaliser for kind '${String(input.kind)}'`);
  return normalise(input, ts);
}

function interactionPoints(record: LogRecordOf<'touchpoint'>, ts: (i: number) => string): NormalisedPoint[] {
  const { source, message: m } = record;
  if (isConsentAction(m.action)) return [consentChoicePoint(record, m.action, ts(0))];
  const p = basePoint('interaction', source)
    .tag('touchpoint', source.sourceId)
    .tag('touchpoint_type', source.type ?? 'unknown')
    .tag('action', m.action);
  // the CRM customer id is personal data: InfluxDB keeps only the fact that the customer identified
  p.intField('count', 1).booleanField('identified', m.customerToken !== undefined);
  if (m.visitor !== undefined) p.stringField('visitor', m.visitor);
  // a field, as the sightings' visitor it joins with: a tag per beacon id would be a series per visitor
  if (m.beacon !== undefined) p.stringField('beacon', m.beacon);
  if (m.value !== undefined) p.floatField('value', m.value);
  if (m.label !== undefined) p.stringField('label', m.label);
  return [finish(p, 'interaction', ts(0))];
}

/**
 * A consent choice at a touchpoint is not a use of it: its own measurement, so no query of
 * `interaction` counts it. What was chosen where (touchpoint, purpose, grant or withdrawal, the notice
 * shown) and nothing about who: no customer id, and no visitor or beacon pseudonym either, which would
 * tie a person's consent choices to their track through the store.
 */
function consentChoicePoint(record: LogRecordOf<'touchpoint'>, action: string, ts: string): NormalisedPoint {
  const { source, message: m } = record;
  const p = basePoint('consent_choice', source)
    .tag('touchpoint', source.sourceId)
    .tag('touchpoint_type', source.type ?? 'unknown')
    .tag('action', action)
    .tag('purpose', m.purpose ?? 'unknown');
  p.intField('count', 1);
  if (m.notice !== undefined) p.stringField('notice', m.notice);
  return finish(p, 'consent_choice', ts);
}

function telemetryPoints(record: LogRecordOf<'device'>, ts: (i: number) => string): NormalisedPoint[] {
  const { source } = record;
  const { event } = record.message;
  const p = basePoint('telemetry', source)
    .tag('device', source.sourceId)
    .tag('device_type', source.type ?? 'unknown')
    .tag('event', event.type);
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

function agentPoints(record: LogRecordOf<'status'>, ts: (i: number) => string): NormalisedPoint[] {
  const { source, message: m } = record;
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
