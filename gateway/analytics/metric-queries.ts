/**
 * The plan of InfluxQL behind each metric, built only from constants of this file, ids the request
 * validation found in the store's config, and integer time literals (influxql-literals.ts); its text
 * is made in metric-statements.ts.
 *
 * A metric is a plan of parts; each part is one SELECT over one measurement. Parts of one `group`
 * fill the same series (merged by labels and definition), so figures from two WHERE clauses over one
 * measurement (exposures, and those that led to an interaction) sit side by side. Derived
 * measurements are grouped by their `definition` tag, so two definitions in one range are two series.
 */
import type { StoreConfig } from '../../config/index.js';
import type { MetricsRequest } from './metrics-request.js';
import { numberLiteral, quoteIdentifier, tagEquals } from './influxql-literals.js';

/** One figure of a part: `FN("field") AS "as"`. */
export interface Aggregate {
  /** `COUNT_DISTINCT`: COUNT(DISTINCT("field")). */
  fn: 'COUNT' | 'COUNT_DISTINCT' | 'SUM' | 'MEAN' | 'MEDIAN' | 'MAX' | 'LAST';
  field: string;
  as: string;
}

export type FieldValues = Record<string, number | null>;

export interface QueryPart {
  group: string;
  measurement: string;
  aggregates: Aggregate[];
  /** Conditions besides store and time, each already safe (tagEquals, literals). */
  where: string[];
  /** Tag keys besides time; `definition` for derived measurements. */
  groupBy: string[];
  /** Labels every series of the part carries (e.g. method=ble). */
  labels: Record<string, string>;
  /** A measurement of the experience engine: has the `definition` tag and the `params` field. */
  derived: boolean;
  /** Figures computed from the others once the group's parts are merged (the engagement rate). */
  derive?: (values: FieldValues) => FieldValues;
}

export interface Unavailable {
  labels: Record<string, string>;
  reason: string;
}

export interface QueryPlan {
  parts: QueryPart[];
  unavailable: Unavailable[];
}

const count = (field: string, as = 'count'): Aggregate => ({ fn: 'COUNT', field, as });

/** linked ÷ exposures, null without exposures: never NaN or Infinity. */
export function engagementRate(values: FieldValues): FieldValues {
  const exposures = values['exposures'] ?? 0;
  const linked = values['linked_interactions'] ?? 0;
  return { ...values, engagement_rate: exposures > 0 ? linked / exposures : null };
}

/** Visits beyond each visitor's first in the interval (or range): count − distinct visitors. */
export function repeatVisits(values: FieldValues): FieldValues {
  const visits = values['count'] ?? 0;
  const visitors = values['visitors'] ?? 0;
  return { ...values, repeat_visits: Math.max(0, visits - visitors) };
}

function derivedPart(part: Omit<QueryPart, 'derived'>): QueryPart {
  return { ...part, derived: true, groupBy: [...part.groupBy, 'definition'] };
}

/** The touchpoints' exposures and those that led to an interaction: one group, two WHERE clauses over `exposure`. */
function exposureParts(touchpoint: string[], derive?: QueryPart['derive']): QueryPart[] {
  const exposures = (as: string, where: string[]): QueryPart =>
    derivedPart({
      group: 'exposure',
      measurement: 'exposure',
      aggregates: [count('count', as)],
      where: [...where, ...touchpoint],
      groupBy: ['touchpoint'],
      labels: {},
      ...(derive === undefined ? {} : { derive }),
    });
  return [exposures('exposures', []), exposures('linked_interactions', [`${quoteIdentifier('interacted')} = true`])];
}

/** The people counters at a door: without a zone, or in a zone of kind `entrance` (the others count a zone's entries). */
export function doorCounters(store: StoreConfig): StoreConfig['devices'] {
  const entrances = new Set(store.zones.filter((z) => z.kind === 'entrance').map((z) => z.id));
  return store.devices.filter((d) => d.type === 'people_counter' && (d.zone === undefined || entrances.has(d.zone)));
}

/** The dwell bands of `dwell_distribution`: label, lower bound (inclusive) and upper bound (exclusive), seconds. */
export const DWELL_BANDS: ReadonlyArray<{ band: string; fromS: number; toS: number | null }> = [
  { band: '0.5-1', fromS: 30, toS: 60 },
  { band: '1-2', fromS: 60, toS: 120 },
  { band: '2-5', fromS: 120, toS: 300 },
  { band: '5-10', fromS: 300, toS: 600 },
  { band: '10-20', fromS: 600, toS: 1200 },
  { band: '20+', fromS: 1200, toS: null },
];

/** Why the funnel has no CRM stage (metric-catalogue.ts says the same in its definition). */
export const FUNNEL_CRM_UNAVAILABLE =
  'forwarded to the CRM: the CRM outbox (gateway/crm/crm-outbox.ts) deletes an event once its destination accepted it, and the delivery counters are per destination, not per touchpoint, so there is no per-touchpoint count of forwarded interactions to show';

/** The parts of every metric but feedback (its parts depend on the scores found: feedback-queries.ts) and paths (visit-paths.ts). */
export function planQueries(req: MetricsRequest): QueryPlan {
  const zone = req.zone === undefined ? [] : [tagEquals('zone', req.zone)];
  const touchpoint = req.touchpoint === undefined ? [] : [tagEquals('touchpoint', req.touchpoint)];
  switch (req.metric) {
    case 'footfall': {
      const doors = doorCounters(req.store);
      const counter: QueryPart = {
        group: 'counter',
        measurement: 'telemetry',
        aggregates: [
          { fn: 'SUM', field: 'in', as: 'count' },
          { fn: 'COUNT', field: 'in', as: 'reports' },
        ],
        where: [tagEquals('event', 'people_count'), `(${doors.map((d) => tagEquals('device', d.id)).join(' OR ')})`],
        groupBy: [],
        labels: { method: 'counter' },
        derived: false,
      };
      const ble = derivedPart({
        group: 'ble',
        measurement: 'visit',
        aggregates: [count('count')],
        where: [tagEquals('method', 'ble')],
        groupBy: [],
        labels: { method: 'ble' },
      });
      // phones that probe for wifi (most people carry one, not all), their rotated pseudonyms linked (visit-wifi/1)
      const wifi = derivedPart({
        group: 'wifi',
        measurement: 'wifi_visit',
        aggregates: [count('count')],
        where: [tagEquals('method', 'wifi')],
        groupBy: [],
        labels: { method: 'wifi' },
      });
      const unavailable: Unavailable[] = [];
      if (doors.length === 0) {
        unavailable.push({
          labels: { method: 'counter' },
          reason: `the store '${req.store.id}' has no people_counter at a door (one without a zone, or in a zone of kind entrance) in its config`,
        });
      }
      return { parts: doors.length > 0 ? [counter, ble, wifi] : [ble, wifi], unavailable };
    }
    case 'visits':
      return {
        parts: [
          derivedPart({
            group: 'visit',
            measurement: 'visit',
            aggregates: [
              count('count'),
              { fn: 'MEAN', field: 'duration_s', as: 'mean_duration_s' },
              { fn: 'COUNT_DISTINCT', field: 'visitor', as: 'visitors' },
            ],
            where: [],
            groupBy: ['method'],
            labels: {},
            derive: repeatVisits,
          }),
        ],
        unavailable: [],
      };
    case 'capture':
      // two series (each measurement by its definition); capture-rate.ts adds the rate from them
      return {
        parts: [
          derivedPart({
            group: 'visits',
            measurement: 'visit',
            aggregates: [count('count', 'visits')],
            where: [tagEquals('method', 'ble')],
            groupBy: [],
            labels: { method: 'ble' },
          }),
          derivedPart({
            group: 'passers_by',
            measurement: 'passer_by',
            aggregates: [count('count', 'passers_by')],
            where: [tagEquals('method', 'ble')],
            groupBy: [],
            labels: { method: 'ble' },
          }),
        ],
        unavailable: [],
      };
    case 'dwell':
      return {
        parts: [
          derivedPart({
            group: 'zone_stay',
            measurement: 'zone_stay',
            aggregates: [count('dwell_s'), { fn: 'MEAN', field: 'dwell_s', as: 'mean_dwell_s' }, { fn: 'MEDIAN', field: 'dwell_s', as: 'median_dwell_s' }],
            where: [tagEquals('passing', 'false'), ...zone],
            groupBy: ['zone'],
            labels: {},
          }),
        ],
        unavailable: [],
      };
    case 'occupancy':
      return {
        parts: [
          derivedPart({
            group: 'occupancy',
            measurement: 'occupancy',
            aggregates: [
              { fn: 'MEAN', field: 'devices', as: 'mean_devices' },
              { fn: 'MAX', field: 'devices', as: 'max_devices' },
            ],
            where: zone,
            groupBy: ['zone'],
            labels: {},
          }),
        ],
        unavailable: [],
      };
    case 'engagement':
      return {
        parts: [
          ...exposureParts(touchpoint, engagementRate),
          {
            group: 'interaction',
            measurement: 'interaction',
            aggregates: [
              { fn: 'SUM', field: 'count', as: 'interactions' },
              // the interactions that name the visitor's beacon (app carriers'): COUNT counts the points that have the field
              { fn: 'COUNT', field: 'beacon', as: 'beacon_interactions' },
            ],
            // consent choices are not in `interaction`: the InfluxDB sink writes them to `consent_choice`
            where: touchpoint,
            groupBy: ['touchpoint'],
            labels: {},
            derived: false,
          },
        ],
        unavailable: [],
      };
    case 'funnel':
      return {
        parts: [
          ...exposureParts(touchpoint),
          {
            group: 'interaction',
            measurement: 'interaction',
            aggregates: [count('count', 'identified_interactions')],
            where: [`${quoteIdentifier('identified')} = true`, ...touchpoint],
            groupBy: ['touchpoint'],
            labels: {},
            derived: false,
          },
        ],
        unavailable: [{ labels: { stage: 'crm_forwarded' }, reason: FUNNEL_CRM_UNAVAILABLE }],
      };
    case 'dwell_distribution':
      return {
        parts: DWELL_BANDS.map(({ band, fromS, toS }) =>
          derivedPart({
            group: `band:${band}`,
            measurement: 'zone_stay',
            aggregates: [count('dwell_s')],
            where: [
              tagEquals('passing', 'false'),
              `${quoteIdentifier('dwell_s')} >= ${numberLiteral(fromS)}`,
              ...(toS === null ? [] : [`${quoteIdentifier('dwell_s')} < ${numberLiteral(toS)}`]),
              ...zone,
            ],
            groupBy: ['zone'],
            labels: { band },
          }),
        ),
        unavailable: [],
      };
    case 'shelf':
      return {
        parts: (['pick_up', 'put_back'] as const).map((action) => ({
          group: 'shelf',
          measurement: 'telemetry',
          aggregates: [{ fn: 'SUM', field: 'qty', as: action === 'pick_up' ? 'pick_ups' : 'put_backs' }],
          where: [tagEquals('event', 'shelf'), tagEquals('action', action)],
          groupBy: ['device'],
          labels: {},
          derived: false,
        })),
        unavailable: [],
      };
    case 'environment':
      return {
        parts: [
          {
            group: 'environment',
            measurement: 'telemetry',
            aggregates: [
              { fn: 'MEAN', field: 'temperature_c', as: 'mean_temperature_c' },
              { fn: 'MEAN', field: 'humidity_pct', as: 'mean_humidity_pct' },
              { fn: 'MEAN', field: 'co2_ppm', as: 'mean_co2_ppm' },
              { fn: 'LAST', field: 'battery_pct', as: 'last_battery_pct' },
            ],
            where: [tagEquals('event', 'environment')],
            groupBy: ['device'],
            labels: {},
            derived: false,
          },
        ],
        unavailable: [],
      };
    case 'paths':
    case 'feedback':
      return { parts: [], unavailable: [] };
  }
}
