/**
 * The consent model's parameters (consents.ts) in one object, their defaults and their checks. Each
 * default and where it comes from is in docs/simulator.md ("Consents and the CRM"); each is a flag of
 * `storeloop simulate`.
 */
import { z } from 'zod';

export interface ConsentOptions {
  /** Chance that a known customer who opens the consent screen (a kiosk or mirror use, or the app through a QR code) grants `crm`. */
  crmShare: number;
  /** The same for `personalisation`, drawn on its own. */
  personalisationShare: number;
  /** The same for `analytics`, drawn on its own. */
  analyticsShare: number;
  /** Chance that a customer who granted `crm` withdraws it at a later kiosk, mirror or QR use of the visit (none later: no withdrawal). */
  withdrawShare: number;
}

export const DEFAULT_CONSENT_OPTIONS: Readonly<ConsentOptions> = Object.freeze({
  crmShare: 0.3,
  personalisationShare: 0.3,
  analyticsShare: 0.4,
  withdrawShare: 0.1,
});

/** Every purpose at 0: no consent message at all (the traffic of a run before consents were modelled). */
export const NO_CONSENT_OPTIONS: Readonly<ConsentOptions> = Object.freeze({ crmShare: 0, personalisationShare: 0, analyticsShare: 0, withdrawShare: 0 });

const share = z.number().min(0).max(1);

export const ConsentOptionsSchema = z
  .object({
    crmShare: share,
    personalisationShare: share,
    analyticsShare: share,
    withdrawShare: share,
  })
  .strict();

/** Flag of `storeloop simulate` → option, with the range the flag accepts (the schema's). */
export const CONSENT_FLAGS = [
  { flag: 'consent-crm-share', key: 'crmShare', min: 0, max: 1, help: 'chance a known customer at a kiosk, mirror or QR code grants crm (0-1)' },
  {
    flag: 'consent-personalisation-share',
    key: 'personalisationShare',
    min: 0,
    max: 1,
    help: 'chance a known customer at a kiosk, mirror or QR code grants personalisation (0-1)',
  },
  {
    flag: 'consent-analytics-share',
    key: 'analyticsShare',
    min: 0,
    max: 1,
    help: 'chance a known customer at a kiosk, mirror or QR code grants analytics (0-1)',
  },
  {
    flag: 'consent-withdraw-share',
    key: 'withdrawShare',
    min: 0,
    max: 1,
    help: 'chance a customer who granted crm withdraws it at a later kiosk, mirror or QR use (0-1)',
  },
] as const satisfies ReadonlyArray<{ flag: string; key: keyof ConsentOptions; min: number; max: number; help: string }>;
