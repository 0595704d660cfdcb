/**
 * The points of the experience engine's derived records (docs/schema.md#derived-measurements): one
 * point per experience event, in the measurement of its type. Every point names the definition it
 * was made under (tag `definition`, field `params`), so figures of two definitions never mix.
 */
import type { ExperienceEvent } from '../../log/derived-record.js';
import { LineBuilder } from './line-protocol.js';

export const EXPERIENCE_MEASUREMENTS = ['visit', 'zone_stay', 'exposure', 'occupancy', 'passer_by', 'wifi_visit'] as const;
export type ExperienceMeasurement = (typeof EXPERIENCE_MEASUREMENTS)[number];

/** How the engine saw what it derived: BLE app beacons heard by the store's scanners (wifi visits: phones' probe requests). */
const METHOD = 'ble';
const WIFI_METHOD = 'wifi';

/** The point of one experience event, stamped `ts` (ns). */
export function experiencePoint(storeId: string, event: ExperienceEvent, ts: string): { measurement: ExperienceMeasurement; line: string } {
  const p = new LineBuilder(event.type).tag('store', storeId).tag('definition', event.definition).stringField('params', event.params);
  switch (event.type) {
    case 'visit':
      p.tag('method', METHOD)
        .stringField('visit_id', event.id)
        .stringField('visitor', event.visitor)
        .intField('end_ms', event.end)
        .floatField('duration_s', (event.end - event.start) / 1000)
        .stringField('path', event.path.join(' > '))
        .intField('zones', event.zones)
        .intField('count', 1);
      if (event.minutes !== undefined) p.intField('minutes_from', event.minutes.from).stringField('minutes', event.minutes.zones.map((z) => z ?? '').join(','));
      break;
    case 'zone_stay':
      p.tag('zone', event.zone)
        .tag('method', METHOD)
        .tag('passing', event.passing ? 'true' : 'false')
        .stringField('visit_id', event.visitId)
        .stringField('visitor', event.visitor)
        .intField('exit_ms', event.exit)
        .floatField('dwell_s', (event.exit - event.enter) / 1000)
        .intField('count', 1);
      if (event.confidence !== null) p.floatField('confidence', event.confidence);
      break;
    case 'exposure':
      p.tag('zone', event.zone)
        .tag('touchpoint', event.touchpoint)
        .tag('method', METHOD)
        .stringField('visit_id', event.visitId)
        .stringField('visitor', event.visitor)
        .floatField('exposed_s', event.exposedMs / 1000)
        .booleanField('interacted', event.interacted)
        .intField('count', 1);
      break;
    case 'occupancy':
      p.tag('zone', event.zone).tag('method', METHOD).intField('devices', event.devices);
      break;
    case 'passer_by':
      p.tag('method', METHOD)
        .stringField('visitor', event.visitor)
        .floatField('heard_s', event.heardMs / 1000)
        .intField('count', 1);
      break;
    case 'wifi_visit':
      // no pseudonym: one would tie the visit to the raw observations, and a list would link them (docs/analytics.md#privacy)
      p.tag('method', WIFI_METHOD)
        .stringField('visit_id', event.id)
        .intField('end_ms', event.end)
        .floatField('duration_s', (event.end - event.start) / 1000)
        .intField('pseudonyms', event.pseudonyms)
        .intField('count', 1);
      break;
  }
  return { measurement: event.type, line: p.line(ts) };
}
