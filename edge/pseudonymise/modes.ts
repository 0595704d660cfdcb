/**
 * The named pseudonymisation modes: how long a pseudonym stays linkable, and so which analytics it
 * allows. Each mode maps an event time to a period id; the period key is HMAC(secret, period id).
 *
 * The lines they follow: CNIL's 2018 guidance on footfall measurement (data anonymised within
 * minutes; or pseudonymised, then anonymised or deleted within 24 hours; or else prior consent) and
 * the Conseil d'État's 2017 decision that a truncated, salted hash of a MAC address is not anonymous,
 * so every mode here produces pseudonymous, not anonymous, data while the retailer secret exists.
 */
import { PseudonymiseError } from './errors.js';

export const PSEUDONYMISE_MODES = ['short-lived', 'daily', 'consented'] as const;
export type PseudonymiseMode = (typeof PSEUDONYMISE_MODES)[number];

/**
 * `daily` is the default: the strictest mode that still counts visits and dwell. `short-lived`
 * windows (15 min) cut every longer visit into several pseudonyms, so visits are over-counted and
 * dwell stops at the window; a day covers any store visit and still forgets the visitor overnight.
 */
export const DEFAULT_PSEUDONYMISE_MODE: PseudonymiseMode = 'daily';
export const DEFAULT_ROTATION_MINUTES = 15;
/** Longer windows are not "anonymised within minutes": that is what `daily` is for. */
export const MAX_ROTATION_MINUTES = 60;

/** What a mode does, in words for docs/edge.md, the agent's status and an installer. */
export interface ModeDescription {
  mode: PseudonymiseMode;
  /** When the key changes. */
  rotation: string;
  /** What is kept, and where the key lives. */
  keeps: string;
  /** How long two sightings of one device can be linked. */
  linkableFor: string;
  /** What the data can and cannot answer. */
  analytics: string;
  /** The regulator's line the mode follows, and what else it needs. */
  basis: string;
}

/** Maps an event time (epoch ms) to the id of the key period it falls in. */
export type PeriodOf = (atMs: number) => string;

const KEEPS =
  'a 128-bit HMAC-SHA256 pseudonym (22 base64url characters) per identifier and period; the raw identifier is dropped on receipt; period keys are derived from the secret, held in memory only and zeroed when their period is over';

export function describeShortLived(rotationMinutes: number): ModeDescription {
  return {
    mode: 'short-lived',
    rotation: `every ${rotationMinutes} min (windows aligned to the Unix epoch, UTC)`,
    keeps: KEEPS,
    linkableFor: `at most ${rotationMinutes} min (one window)`,
    analytics: `presence, occupancy and unique devices per ${rotationMinutes}-min window; dwell only up to the window (a visit across a boundary becomes two pseudonyms); no visit linking across windows, no repeat visitors`,
    basis: `CNIL 2018 "anonymised within minutes": holds for whoever lacks the secret; the secret holder can recompute any window's key (Conseil d'État 2017), so keep the secret on the edge boxes only`,
  };
}

export function describeDaily(timezone: string): ModeDescription {
  return {
    mode: 'daily',
    rotation: `daily at local midnight (${timezone})`,
    keeps: KEEPS,
    linkableFor: 'one local calendar day (at most 24 h; 23 or 25 h on DST change days)',
    analytics: 'visits, dwell time and paths within the day; no repeat visitors and no visit frequency across days',
    basis:
      'CNIL 2018 "pseudonymised, then anonymised or deleted within 24 h": the key rotation stops linking at midnight; per-visitor rows must also be aggregated or deleted within 24 h downstream',
  };
}

export function describeConsented(): ModeDescription {
  return {
    mode: 'consented',
    rotation: 'never (one key for as long as the retailer secret is kept)',
    keeps: 'a 128-bit HMAC-SHA256 pseudonym per identifier, stable across days; the raw identifier is dropped on receipt',
    linkableFor: 'as long as the secret is kept (until the visitor withdraws consent and their data is deleted)',
    analytics: 'repeat visits, visit frequency and loyalty across days, for visitors who opted in through the retailer app',
    basis:
      'prior consent: only for identifiers of visitors who consented in the retailer app (app user ids, app-advertised ids); never for wifi MACs or device addresses of passers-by',
  };
}

/** Period ids of `short-lived`: the window index, with the window length so lengths never share ids. */
export function shortLivedPeriodOf(rotationMinutes: number): PeriodOf {
  const windowMs = rotationMinutes * 60_000;
  return (atMs) => `short-lived/${rotationMinutes}m/${Math.floor(atMs / windowMs)}`;
}

/** Period ids of `daily`: the local calendar date (YYYY-MM-DD) in the timezone, DST included. */
export function dailyPeriodOf(timezone: string): PeriodOf {
  let format: Intl.DateTimeFormat;
  try {
    format = new Intl.DateTimeFormat('en-US', { timeZone: timezone, year: 'numeric', month: '2-digit', day: '2-digit' });
  } catch (err) {
    throw new PseudonymiseError('SL_ERR_PSEUDONYMISE_CONFIG', `unknown timezone '${timezone}': expected an IANA name such as Europe/Paris`, {
      cause: err,
      context: { timezone },
    });
  }
  // today's UTC offsets are whole minutes (only pre-1970s local mean times had seconds), so the
  // local date is constant within a UTC minute: a few memoised minutes spare Intl ~5 µs per call
  const memo = new Map<number, string>();
  return (atMs) => {
    const minute = Math.floor(atMs / 60_000);
    const known = memo.get(minute);
    if (known !== undefined) return known;
    const parts = format.formatToParts(atMs);
    const part = (type: Intl.DateTimeFormatPartTypes) => parts.find((p) => p.type === type)?.value ?? '';
    const id = `daily/${part('year')}-${part('month')}-${part('day')}`;
    if (memo.size >= 4) memo.clear();
    memo.set(minute, id);
    return id;
  };
}

export const consentedPeriodOf: PeriodOf = () => 'consented';

/** The timezone of the process (TZ or /etc/localtime), the default for `daily`. */
export function systemTimezone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone;
}
