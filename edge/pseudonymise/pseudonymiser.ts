/**
 * Keyed hashing of device addresses and user ids at the source: the only maker of `Pseudonym`s.
 *
 * pseudonym = base64url(first 16 bytes of HMAC-SHA256(periodKey, kind + "\n" + normalised id))
 * periodKey = HMAC-SHA256(secret, "storeloop/pseudonym-key/v1/" + period id)
 *
 * The period id comes from the mode (modes.ts) and the event time, so the same device gives the same
 * pseudonym within a period on every agent of the retailer, and an unrelated one in the next period.
 * The kind is hashed in, so a wifi MAC and a BLE address with equal bytes do not collide.
 *
 * What rotation does and does not give: period keys live in memory only and are zeroed when their
 * period is over, and nothing downstream (gateway, InfluxDB, dashboards) can link pseudonyms of two
 * periods. The retailer secret is the root of every key: its holder can recompute any period's key
 * and test candidate MACs (a vendor prefix leaves 2^24 of them) against stored pseudonyms. Keep the
 * secret on the edge boxes only (never in the gateway, its backups or a log), and rotate it to make
 * past periods unrecoverable.
 */
import { createHmac } from 'node:crypto';

import { PseudonymSchema, containsMacAddress, type Pseudonym } from '../../protocol/index.js';
import { PseudonymiseError } from './errors.js';
import { normaliseMac } from './mac.js';
import {
  DEFAULT_PSEUDONYMISE_MODE,
  DEFAULT_ROTATION_MINUTES,
  MAX_ROTATION_MINUTES,
  PSEUDONYMISE_MODES,
  consentedPeriodOf,
  dailyPeriodOf,
  describeConsented,
  describeDaily,
  describeShortLived,
  shortLivedPeriodOf,
  systemTimezone,
  type ModeDescription,
  type PeriodOf,
  type PseudonymiseMode,
} from './modes.js';

export const IDENTIFIER_KINDS = ['wifi-mac', 'ble-address', 'user-id'] as const;
export type IdentifierKind = (typeof IDENTIFIER_KINDS)[number];

/** Secrets shorter than this are refused; 32 random bytes are recommended (`openssl rand -base64 32`). */
export const MIN_SECRET_BYTES = 16;
/** 128 bits of the HMAC: 22 base64url characters, inside the contract's 16-64. */
export const PSEUDONYM_BYTES = 16;
const KEY_LABEL = 'storeloop/pseudonym-key/v1/';
const MAX_USER_ID_LENGTH = 1024;

export interface PseudonymiserOptions {
  /** Default `daily` (DEFAULT_PSEUDONYMISE_MODE). */
  mode?: PseudonymiseMode;
  /** The per-retailer HMAC secret, at least 16 bytes. Copied; never logged. */
  secret: Buffer | string;
  /** `short-lived` only: window length, 1-60 minutes, default 15. */
  rotationMinutes?: number;
  /** `daily` only: IANA timezone whose midnight rotates the key; default the process's timezone. */
  timezone?: string;
  /** Clock for calls without an event time (epoch ms); default Date.now. */
  now?: () => number;
}

export interface Pseudonymiser {
  readonly mode: PseudonymiseMode;
  /** The pseudonym of an identifier at event time `at` (epoch ms, default now). Throws PseudonymiseError on bad input. */
  pseudonymise(kind: IdentifierKind, raw: string, at?: number): Pseudonym;
  /** The mode's rotation, what it keeps, how long it links and what analytics it allows. */
  describe(): ModeDescription;
}

/** Builds a pseudonymiser; throws PseudonymiseError (SL_ERR_PSEUDONYMISE_CONFIG) on unsafe options. */
export function createPseudonymiser(options: PseudonymiserOptions): Pseudonymiser {
  const mode = options.mode ?? DEFAULT_PSEUDONYMISE_MODE;
  const secret = readSecret(options.secret);
  const { periodOf, description } = periodsOf(mode, options);
  const keys = new PeriodKeys(secret);
  const now = options.now ?? Date.now;

  return {
    mode,
    pseudonymise(kind, raw, at) {
      const eventMs = at ?? now();
      if (!Number.isFinite(eventMs)) throw new PseudonymiseError('SL_ERR_PSEUDONYMISE_INPUT', 'event time must be a finite epoch ms', { context: { kind } });
      if (mode === 'consented' && kind === 'wifi-mac') {
        throw new PseudonymiseError(
          'SL_ERR_PSEUDONYMISE_NOT_ALLOWED',
          "consented mode keeps pseudonyms across days: it must not hash wifi MACs of passers-by (use 'daily' or 'short-lived')",
          { context: { kind, mode } },
        );
      }
      const period = periodOf(eventMs);
      const key = keys.keyFor(period, periodOf(now()));
      return hashIdentifier(key, kind, normaliseIdentifier(kind, raw));
    },
    describe: () => ({ ...description }),
  };
}

function readSecret(secret: Buffer | string): Buffer {
  const bytes = typeof secret === 'string' ? Buffer.from(secret, 'utf8') : Buffer.from(secret);
  if (bytes.length < MIN_SECRET_BYTES) {
    throw new PseudonymiseError(
      'SL_ERR_PSEUDONYMISE_CONFIG',
      `the pseudonymisation secret has ${bytes.length} bytes, at least ${MIN_SECRET_BYTES} are needed (32 random bytes recommended)`,
      { context: { bytes: bytes.length } },
    );
  }
  return bytes;
}

function periodsOf(mode: PseudonymiseMode, options: PseudonymiserOptions): { periodOf: PeriodOf; description: ModeDescription } {
  if (!(PSEUDONYMISE_MODES as readonly string[]).includes(mode)) {
    throw new PseudonymiseError(
      'SL_ERR_PSEUDONYMISE_CONFIG',
      `unknown pseudonymisation mode '${String(mode)}': expected one of ${PSEUDONYMISE_MODES.join(', ')}`,
      { context: { mode } },
    );
  }
  if (options.rotationMinutes !== undefined && mode !== 'short-lived') {
    throw new PseudonymiseError('SL_ERR_PSEUDONYMISE_CONFIG', `rotationMinutes applies to mode 'short-lived' only, not '${mode}'`, { context: { mode } });
  }
  if (options.timezone !== undefined && mode !== 'daily') {
    throw new PseudonymiseError('SL_ERR_PSEUDONYMISE_CONFIG', `timezone applies to mode 'daily' only, not '${mode}'`, { context: { mode } });
  }
  if (mode === 'short-lived') {
    const minutes = options.rotationMinutes ?? DEFAULT_ROTATION_MINUTES;
    if (!Number.isInteger(minutes) || minutes < 1 || minutes > MAX_ROTATION_MINUTES) {
      throw new PseudonymiseError(
        'SL_ERR_PSEUDONYMISE_CONFIG',
        `rotationMinutes must be an integer from 1 to ${MAX_ROTATION_MINUTES} (longer windows: use mode 'daily')`,
        { context: { rotationMinutes: minutes } },
      );
    }
    return { periodOf: shortLivedPeriodOf(minutes), description: describeShortLived(minutes) };
  }
  if (mode === 'daily') {
    const timezone = options.timezone ?? systemTimezone();
    return { periodOf: dailyPeriodOf(timezone), description: describeDaily(timezone) };
  }
  return { periodOf: consentedPeriodOf, description: describeConsented() };
}

/**
 * Period keys, derived on first use and zeroed once neither the period of the event being hashed nor
 * the current period needs them (at most two are held).
 */
class PeriodKeys {
  private readonly keys = new Map<string, Buffer>();

  constructor(private readonly secret: Buffer) {}

  keyFor(period: string, currentPeriod: string): Buffer {
    for (const [held, key] of this.keys) {
      if (held !== period && held !== currentPeriod) {
        key.fill(0);
        this.keys.delete(held);
      }
    }
    let key = this.keys.get(period);
    if (key === undefined) {
      key = createHmac('sha256', this.secret)
        .update(KEY_LABEL + period)
        .digest();
      this.keys.set(period, key);
    }
    return key;
  }
}

function normaliseIdentifier(kind: IdentifierKind, raw: string): string {
  if (kind === 'user-id') {
    // emails and user names compare case-insensitively; NFKC folds look-alike Unicode spellings
    const text = raw.normalize('NFKC').trim().toLowerCase();
    if (text.length === 0 || text.length > MAX_USER_ID_LENGTH) {
      throw new PseudonymiseError('SL_ERR_PSEUDONYMISE_INPUT', `a user-id must have 1-${MAX_USER_ID_LENGTH} characters`, {
        context: { kind, length: text.length },
      });
    }
    return text;
  }
  const mac = normaliseMac(raw);
  if (mac === undefined) {
    // the value itself stays out of the error: it may be an address in a spelling we do not know
    throw new PseudonymiseError(
      'SL_ERR_PSEUDONYMISE_INPUT',
      `a ${kind} must be a MAC-48 address (aa:bb:cc:dd:ee:ff, aa-bb-…, aabb.ccdd.eeff or 12 hex digits)`,
      { context: { kind, length: raw.length } },
    );
  }
  return mac;
}

function hashIdentifier(key: Buffer, kind: IdentifierKind, normalised: string): Pseudonym {
  for (let attempt = 0; ; attempt += 1) {
    const hmac = createHmac('sha256', key).update(`${kind}\n${normalised}`);
    if (attempt > 0) hmac.update(`\n${attempt}`);
    const text = hmac.digest().subarray(0, PSEUDONYM_BYTES).toString('base64url');
    // base64url has '-': once in ~10^15 hashes the text could hold an aa-bb-cc-dd-ee-ff shape,
    // which the contract refuses; rehashing with a counter keeps the result deterministic
    if (!containsMacAddress(text)) return PseudonymSchema.parse(text);
  }
}
