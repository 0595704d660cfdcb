/**
 * Derived records: what the gateway itself appends to the event log besides accepted messages. The
 * experience engine (gateway/experience) appends one record per final experience event (a visit, a
 * zone stay, an exposure, a passer-by, a zone's occupancy in a minute, a wifi visit), so the InfluxDB sink, the CRM sink and any
 * later sink consume them like any other record. Each has a deterministic id (its mid: the same
 * input gives the same id, and the message index drops a second append of it) and names the version
 * and parameters of the definition that produced it (docs/schema.md#derived-measurements).
 */

/** Log record kinds that no device publishes: the gateway derives them. */
export const DERIVED_KINDS = ['experience'] as const;
export type DerivedKind = (typeof DERIVED_KINDS)[number];

/** The definition an event was made under: its versioned name and its parameters (`key=value;…`). */
export interface Definition {
  definition: string;
  params: string;
}

/** A device's visit: its track from the first to the last sighting. */
export interface VisitEvent extends Definition {
  type: 'visit';
  id: string;
  /** The beacon id (as in `sighting` points' `visitor` field). */
  visitor: string;
  start: number;
  end: number;
  /** Zones in visiting order (passing stays included). */
  path: string[];
  /** Distinct zones with a stay that is not passing. */
  zones: number;
  /** Time in each zone over its stays that are not passing, summed per zone, s, in the order of the first stay; absent in events made before it was added. */
  dwell?: Array<{ zone: string; seconds: number }>;
  /**
   * The visit's zone per clock minute, from `from` (a minute start) on, one entry per minute; null for
   * a minute it spent less than half of in the store. Absent in events of older definitions.
   */
  minutes?: { from: number; zones: Array<string | null> };
}

/** A visit's stay in one zone. */
export interface ZoneStayEvent extends Definition {
  type: 'zone_stay';
  id: string;
  visitId: string;
  visitor: string;
  zone: string;
  enter: number;
  exit: number;
  /** Under the passing threshold: walked through. */
  passing: boolean;
  /** 0–1: how sure the engine is of the zone over the stay (null when the engine gives none). */
  confidence: number | null;
}

/** A visit's exposure to a touchpoint: time in its zone, and whether the visitor used it. */
export interface ExposureEvent extends Definition {
  type: 'exposure';
  id: string;
  visitId: string;
  visitor: string;
  touchpoint: string;
  zone: string;
  /** Start of the first qualifying stay (or the interaction, when the visitor used it without one). */
  at: number;
  exposedMs: number;
  interacted: boolean;
}

/** A device heard too briefly to be a visit (under the minimum visit): someone walking past the shop front. */
export interface PasserByEvent extends Definition {
  type: 'passer_by';
  id: string;
  visitor: string;
  /** First sighting, epoch ms. */
  at: number;
  /** First to last sighting, ms. */
  heardMs: number;
}

/**
 * A phone's visit seen by wifi: its track of probe requests from the first to the last observation,
 * its rotated pseudonyms linked (gateway/experience/wifi-tracks.ts). Carries no pseudonym: linking
 * them is de-randomisation, so nothing written links one pseudonym to another.
 */
export interface WifiVisitEvent extends Definition {
  type: 'wifi_visit';
  id: string;
  start: number;
  end: number;
  /** Pseudonyms linked into the visit (a count: 1 when no rotation was seen). */
  pseudonyms: number;
}

/** Tracked devices in a zone in one clock minute. */
export interface OccupancyEvent extends Definition {
  type: 'occupancy';
  id: string;
  zone: string;
  /** Minute start, epoch ms. */
  minute: number;
  devices: number;
}

export type ExperienceEvent = VisitEvent | ZoneStayEvent | ExposureEvent | OccupancyEvent | PasserByEvent | WifiVisitEvent;

/** Event time of an experience event: where its point sits on the time axis. */
export function experienceEventTime(event: ExperienceEvent): number {
  switch (event.type) {
    case 'visit':
      return event.start;
    case 'zone_stay':
      return event.enter;
    case 'exposure':
      return event.at;
    case 'occupancy':
      return event.minute;
    case 'passer_by':
      return event.at;
    case 'wifi_visit':
      return event.start;
  }
}

/** The source a derived record names: the store's experience engine. */
export const EXPERIENCE_SOURCE_ID = 'experience-engine';

/** Who appended a derived record: the gateway's engine for the store (no configured source). */
export interface DerivedSource {
  storeId: string;
  sourceId: string;
  role: 'engine';
  /** Always null for the engine; typed as a configured source's fields are. */
  type: string | null;
  zone: string | null;
}
