/**
 * The metrics the API answers: for each, the one-line definition an analyst reads, the figures
 * (fields) its series carry with how an empty interval shows them, and the filter it accepts.
 * The InfluxQL behind each is in metric-queries.ts; docs/metrics-api.md says the same in prose.
 */

export const METRIC_NAMES = [
  'footfall',
  'visits',
  'capture',
  'dwell',
  'dwell_distribution',
  'paths',
  'occupancy',
  'engagement',
  'funnel',
  'feedback',
  'shelf',
  'environment',
] as const;
export type MetricName = (typeof METRIC_NAMES)[number];

/** How an interval without data shows a figure: counts and sums are 0, means, medians, maxima and rates null. */
export type EmptyValue = 'zero' | 'null';

export interface MetricField {
  name: string;
  /** The measurement the figure is computed from. */
  measurement: string;
  empty: EmptyValue;
  description: string;
}

export interface MetricSpec {
  name: MetricName;
  /** One line: what the figure means, in the words of the field. */
  definition: string;
  fields: MetricField[];
  /** The one filter the metric accepts besides the store and time: zone, touchpoint, or none. */
  filter: 'zone' | 'touchpoint' | null;
}

const field = (name: string, measurement: string, empty: EmptyValue, description: string): MetricField => ({ name, measurement, empty, description });

export const METRICS: Record<MetricName, MetricSpec> = {
  footfall: {
    name: 'footfall',
    definition:
      'People entering the store per interval. `fused` (footfall-fused/1) is the figure to read: the door counters\' entries corrected by their audit (config devices[].audit), an interval without counter reports estimated from the BLE visits scaled by the people per BLE visit of the range where those are final, with its 95 % range. The methods apart: `counter` is the door counters\' SUM("in") as reported (people_count telemetry), `ble` the BLE visits started (app carriers only, not all people), `wifi` the wifi visits started (visit-wifi/1: phones that probe for wifi, their rotated MAC pseudonyms linked; most people carry one, not all, and staff phones and passers-by are left out by rule). The wifi count is right on average only because its linking errors balance, with parameters tuned on the demo store in the simulator (docs/analytics.md#wifi-footfall): read it as an indication, not a measurement.',
    fields: [
      field(
        'count',
        'telemetry | visit',
        'zero',
        'method fused: people who entered, estimated (one decimal); method counter: people the door counters counted in; method ble: visits of BLE app carriers that started in the interval',
      ),
      field(
        'reports',
        'telemetry',
        'zero',
        "method counter: the door counters' messages in the interval (0: they said nothing, and the fused figure is estimated from BLE)",
      ),
      field('low', 'telemetry | visit', 'null', 'method fused: lower end of the 95 % range; null when a door counter has no audit (its bias is unknown)'),
      field('high', 'telemetry | visit', 'null', 'method fused: upper end of the 95 % range; null when a door counter has no audit'),
      field('estimated', 'telemetry | visit', 'zero', 'method fused: 1 when the interval had no counter report and is estimated from BLE visits'),
      field('ble_share', 'telemetry | visit', 'null', 'method fused: BLE visits ÷ the estimate, the share of the people the engine tracked'),
    ],
    filter: null,
  },
  visits: {
    name: 'visits',
    definition:
      "Visits that started in the interval (a device's track from first to last sighting, split at long gaps), their mean duration, the distinct visitors (device pseudonyms: the app's beacon id) who made them, and the repeat visits: visits beyond each visitor's first in the interval. Over a range (`total`) the repeat visits are those of visitors who came back within the range, as far as their pseudonym stayed the same.",
    fields: [
      field('count', 'visit', 'zero', 'visits started in the interval'),
      field('mean_duration_s', 'visit', 'null', 'mean duration of those visits, seconds'),
      field('visitors', 'visit', 'zero', 'distinct visitors (pseudonyms) among those visits'),
      field('repeat_visits', 'visit', 'zero', 'count − visitors: visits of a visitor who had already come in the interval'),
    ],
    filter: null,
  },
  capture: {
    name: 'capture',
    definition:
      "Of the app carriers heard at the shop front, the share who came in: BLE visits ÷ (BLE visits + BLE passers-by, tracks heard for under a minute, or under two minutes mostly at the entrance) per interval. App carriers only: an estimate of everyone's capture rate only as far as they walk and carry the app like everyone else.",
    fields: [
      field('visits', 'visit', 'zero', 'BLE visits that started in the interval'),
      field(
        'passers_by',
        'passer_by',
        'zero',
        'BLE passers-by heard in the interval (tracks heard for under a minute, or under two minutes mostly at the entrance)',
      ),
      field('capture_rate', 'visit | passer_by', 'null', 'visits ÷ (visits + passers_by); null when there was neither'),
    ],
    filter: null,
  },
  dwell: {
    name: 'dwell',
    definition: 'Time visitors stayed in a zone, from the zone stays that began in the interval, passing stays (under 30 s, walked through) left out.',
    fields: [
      field('count', 'zone_stay', 'zero', 'non-passing stays that began in the interval'),
      field('mean_dwell_s', 'zone_stay', 'null', 'mean dwell of those stays, seconds'),
      field('median_dwell_s', 'zone_stay', 'null', 'median dwell of those stays, seconds'),
    ],
    filter: 'zone',
  },
  dwell_distribution: {
    name: 'dwell_distribution',
    definition:
      'Non-passing zone stays (30 s or more) that began in the interval, per zone and dwell band (label `band`: 0.5-1, 1-2, 2-5, 5-10, 10-20 and 20+ minutes, each band from its lower bound inclusive to its upper bound exclusive): one series per zone, band and definition.',
    fields: [field('count', 'zone_stay', 'zero', 'non-passing stays of this dwell band that began in the interval')],
    filter: 'zone',
  },
  paths: {
    name: 'paths',
    definition:
      "The most common zone sequences of the final BLE visits that started in the range (the `visit` points' `path`, zones in the order visited): the top 20 paths over the whole range, one series per path (label `path`) and definition, ordered by their count; each interval counts that path's visits started in it and their share of all visits started in it.",
    fields: [
      field('count', 'visit', 'zero', 'visits with this path that started in the interval'),
      field('share', 'visit', 'null', 'count ÷ all visits (of the definition) that started in the interval; null when none started'),
    ],
    filter: null,
  },
  occupancy: {
    name: 'occupancy',
    definition:
      "Tracked app carriers (devices) in a zone, from the per-minute occupancy counts: their mean and maximum over the minutes of the interval that have a point; and people (occupancy-people/1, one series per zone with unit=people): the mean devices times the people per BLE visit of the range up to the engine's frontier, where its BLE visits are final (the fused footfall ÷ the BLE visits; params: scaleTo), with a 95 % range.",
    fields: [
      field('mean_devices', 'occupancy', 'null', 'mean of the per-minute device counts in the interval'),
      field('max_devices', 'occupancy', 'null', 'highest per-minute device count in the interval'),
      field('people_mean', 'occupancy | telemetry | visit', 'null', 'unit people: mean people in the zone, the mean devices scaled'),
      field('people_low', 'occupancy | telemetry | visit', 'null', 'unit people: lower end of the 95 % range'),
      field('people_high', 'occupancy | telemetry | visit', 'null', 'unit people: upper end of the 95 % range'),
    ],
    filter: 'zone',
  },
  engagement: {
    name: 'engagement',
    definition:
      "Per touchpoint: visitors exposed to it (exposures), how many of those chose to use it (linked interactions), the engagement rate linked ÷ exposures — app carriers only, the visitors the engine tracks — and all its interactions, anonymous ones included; and everyone estimated (engagement-people/1, one series per touchpoint with unit=people): the exposures scaled by the people per BLE visit of the range up to the engine's frontier, the uses by the touchpoint's interactions per interaction that names a beacon, and their ratio.",
    fields: [
      field('exposures', 'exposure', 'zero', 'visits exposed to the touchpoint (at least 10 s in its zone in all, walking through included, or used it)'),
      field('linked_interactions', 'exposure', 'zero', 'exposures whose visitor interacted with the touchpoint during the visit'),
      field('engagement_rate', 'exposure', 'null', 'linked_interactions ÷ exposures; null when there was no exposure'),
      field('interactions', 'interaction', 'zero', 'every interaction with the touchpoint (SUM of "count"), linked or anonymous'),
      field('beacon_interactions', 'interaction', 'zero', 'the interactions that name the visitor\'s beacon (app carriers\'; COUNT of "beacon")'),
      field(
        'people_exposed',
        'exposure | interaction | telemetry | visit',
        'null',
        'unit people: people exposed, the exposures scaled by the people per BLE visit',
      ),
      field(
        'people_engaged',
        'exposure | interaction | telemetry | visit',
        'null',
        'unit people: people who used it, the linked interactions × all interactions ÷ those naming a beacon; null when none named one in the range',
      ),
      field(
        'people_engagement_rate',
        'exposure | interaction | telemetry | visit',
        'null',
        'unit people: people_engaged ÷ people_exposed, at most 1; null without either',
      ),
    ],
    filter: 'touchpoint',
  },
  funnel: {
    name: 'funnel',
    definition:
      'Per touchpoint, the engagement funnel as far as it has a data source: visits exposed to it (exposures; app carriers only), the exposures whose visitor used it (linked_interactions), and its interactions by a customer who identified themselves there (identified_interactions; all of them, app carrier or not, so not a subset of the linked ones). Forwarded to the CRM is not a stage here: the CRM outbox deletes an event once delivered and keeps no delivered history per touchpoint (see unavailable).',
    fields: [
      field('exposures', 'exposure', 'zero', 'visits exposed to the touchpoint (at least 10 s in its zone in all, or used it)'),
      field('linked_interactions', 'exposure', 'zero', 'exposures whose visitor interacted with the touchpoint during the visit'),
      field('identified_interactions', 'interaction', 'zero', 'interactions with the touchpoint by a customer who identified themselves (identified = true)'),
    ],
    filter: 'touchpoint',
  },
  feedback: {
    name: 'feedback',
    definition: 'The distribution of feedback scores per touchpoint: how many feedback interactions gave each score.',
    fields: [field('count', 'interaction', 'zero', 'feedback interactions with this score')],
    filter: 'touchpoint',
  },
  shelf: {
    name: 'shelf',
    definition: "Per smart-shelf device, the items picked up and put back in the interval: the SUM of the shelf events' qty, by action.",
    fields: [
      field('pick_ups', 'telemetry', 'zero', 'items picked up (SUM of qty of the pick_up events)'),
      field('put_backs', 'telemetry', 'zero', 'items put back (SUM of qty of the put_back events)'),
    ],
    filter: null,
  },
  environment: {
    name: 'environment',
    definition: 'Per environment device, the mean of its temperature, humidity and CO2 readings in the interval and its latest battery level.',
    fields: [
      field('mean_temperature_c', 'telemetry', 'null', 'mean temperature, °C'),
      field('mean_humidity_pct', 'telemetry', 'null', 'mean relative humidity, %'),
      field('mean_co2_ppm', 'telemetry', 'null', 'mean CO2, ppm'),
      field('last_battery_pct', 'telemetry', 'null', 'the latest battery level reported in the interval, %'),
    ],
    filter: null,
  },
};

/** How empty intervals are answered, stated in every response. */
export const EMPTY_BUCKETS_RULE =
  'An interval without data has counts and sums 0 and means, medians, maxima and rates null; a series exists only for what the data holds in the range (a zone, touchpoint, method or definition without any point in the range has no series).';
