/** The `sinks` section of the config: each consumer of the event log and its settings (docs/configuration.md). */
import { z } from 'zod';

/** A webhook secret as Standard Webhooks spells it: `whsec_` and the base64 of 24 to 64 bytes. */
const WebhookSecretSchema = z
  .string()
  .regex(/^whsec_[A-Za-z0-9+/]{32,88}={0,2}$/, 'a Standard Webhooks secret: whsec_ and the base64 of 24 to 64 random bytes');

/** What every CRM destination has: its name and how it is paced, retried and given up on. */
const CrmDestinationBase = {
  /** The sink's name is `crm-<name>`: its checkpoint, metrics label and API path. */
  name: z.string().regex(/^[a-z][a-z0-9-]{0,31}$/, 'a lowercase name: a-z 0-9 -'),
  /** How long one attempt may take. */
  timeoutMs: z.number().int().min(100).max(120_000).default(15_000),
  /** Requests per second at most (the destination's rate limit). */
  ratePerSecond: z.number().min(0.01).max(1000).default(10),
  /** Attempts before an event is dead-lettered (Standard Webhooks' schedule spans about 75 h over 10 attempts). */
  maxAttempts: z.number().int().min(1).max(100).default(10),
  /** First and longest wait between attempts (exponential backoff with full jitter), unless the destination says `Retry-After`. */
  retryMinMs: z.number().int().min(10).default(5_000),
  retryMaxMs: z
    .number()
    .int()
    .min(10)
    .default(6 * 3600_000),
};

/** A generic webhook signed per Standard Webhooks 1.0. */
export const WebhookDestinationSchema = z.strictObject({
  ...CrmDestinationBase,
  type: z.literal('webhook'),
  url: z.url({ protocol: /^https?$/ }),
  /** Signing secrets, newest first: each request carries a signature by each (rotation: add the new one, remove the old one once the receiver has it). */
  secrets: z.array(WebhookSecretSchema).min(1).max(4),
});

/** A HubSpot event name without its `pe{hubId}_` prefix, as HubSpot spells internal names. */
const HubSpotNameSchema = z.string().regex(/^[a-z][a-z0-9_]{0,49}$/, 'a HubSpot internal name: a lowercase letter, then a-z 0-9 _, at most 50 characters');

/** HubSpot custom behavioral events (`POST /events/v3/send`), the erasure as a GDPR contact deletion. */
export const HubSpotDestinationSchema = z.strictObject({
  ...CrmDestinationBase,
  type: z.literal('hubspot'),
  /** HubSpot's API; a test points it at a fake. */
  baseUrl: z.url({ protocol: /^https?$/ }).default('https://api.hubapi.com'),
  /** The private app's access token (scopes analytics.behavioral_events.send, crm.objects.contacts.write); better from STORELOOP_CRM_<NAME>_TOKEN. */
  token: z.string({ error: 'the private app token is missing (token, or STORELOOP_CRM_<NAME>_TOKEN)' }).min(1, 'the private app token is empty'),
  /** The HubSpot account id: event names are `pe{hubId}_{name}`. */
  hubId: z.number().int().positive(),
  /** What the storeloop customer reference is in HubSpot: the contact's email, its record id (`objectId`), or the tracking cookie (`utk`). */
  identifyBy: z.enum(['email', 'objectId', 'utk']),
  /** The HubSpot event (its name after `pe{hubId}_`) of each storeloop event type. */
  events: z
    .strictObject({
      visit: HubSpotNameSchema.default('storeloop_visit'),
      interaction: HubSpotNameSchema.default('storeloop_interaction'),
      feedback: HubSpotNameSchema.default('storeloop_feedback'),
    })
    .prefault({}),
  /** Event data field → HubSpot property name, or null to leave it out; merged over the defaults (docs/crm.md). */
  properties: z.record(z.string(), HubSpotNameSchema.nullable()).default({}),
  /** The account's time zone (IANA): HubSpot's daily limit resets at midnight there. */
  timeZone: z
    .string()
    .refine((zone) => isTimeZone(zone), 'an IANA time zone such as Europe/Paris')
    .default('UTC'),
});

/** A Salesforce custom object API name (`Name__e`, `Name__c`). */
const SalesforceApiName = (suffix: string) =>
  z.string().regex(new RegExp(`^[A-Za-z][A-Za-z0-9_]{0,36}${suffix}$`), `a Salesforce API name ending in ${suffix}`);

/** Salesforce Platform Events (`composite/sobjects`, up to 200 per request), OAuth 2.0 client credentials. */
export const SalesforceDestinationSchema = z.strictObject({
  ...CrmDestinationBase,
  type: z.literal('salesforce'),
  /** The org's My Domain URL: the token and the events go there. */
  instanceUrl: z.url({ protocol: /^https?$/ }),
  /** The REST API version, e.g. `62.0`. */
  apiVersion: z.string().regex(/^\d{2,3}\.\d$/, 'a REST API version such as 62.0'),
  /** The external client app's consumer key and secret (client credentials flow); the secret better from STORELOOP_CRM_<NAME>_CLIENT_SECRET. */
  clientId: z.string().min(1),
  clientSecret: z
    .string({ error: 'the consumer secret is missing (clientSecret, or STORELOOP_CRM_<NAME>_CLIENT_SECRET)' })
    .min(1, 'the consumer secret is empty'),
  /** The platform event the customer events are published as, and the one an erasure is. */
  eventObject: SalesforceApiName('__e').default('Storeloop_Event__e'),
  erasureObject: SalesforceApiName('__e').default('Storeloop_Erasure__e'),
  /** Events per request at most (Salesforce takes up to 200); never two of one customer. */
  batchSize: z.number().int().min(1).max(200).default(200),
});

/** One CRM destination, by `type`. */
export const CrmDestinationSchema = z.discriminatedUnion('type', [WebhookDestinationSchema, HubSpotDestinationSchema, SalesforceDestinationSchema]);

function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/**
 * The secrets of CRM destinations from the environment: `STORELOOP_CRM_<NAME>_TOKEN` (HubSpot) and
 * `STORELOOP_CRM_<NAME>_CLIENT_SECRET` (Salesforce), `<NAME>` the destination's name in capitals with
 * `-` as `_`. Applied to the raw config before validation, so a secret need not be in the file.
 */
/** The environment variable of a CRM destination's secret: `STORELOOP_CRM_HUB_SPOT_TOKEN` for `hub-spot`. */
export function crmSecretEnvName(destination: string, secret: 'TOKEN' | 'CLIENT_SECRET'): string {
  return `STORELOOP_CRM_${destination.toUpperCase().replace(/-/g, '_')}_${secret}`;
}

export function applyCrmSecretsFromEnv(input: Record<string, unknown>, env: Record<string, string | undefined>): string[] {
  const destinations = (input.sinks as { crm?: { destinations?: unknown } } | undefined)?.crm?.destinations;
  if (!Array.isArray(destinations)) return [];
  const applied: string[] = [];
  for (const destination of destinations as unknown[]) {
    if (typeof destination !== 'object' || destination === null) continue;
    const d = destination as Record<string, unknown>;
    if (typeof d.name !== 'string') continue;
    for (const [secret, key] of [
      ['TOKEN', 'token'],
      ['CLIENT_SECRET', 'clientSecret'],
    ] as const) {
      const name = crmSecretEnvName(d.name, secret);
      const value = env[name];
      if (value === undefined || value === '') continue;
      d[key] = value;
      applied.push(name);
    }
  }
  return applied;
}

export const SinksSchema = z
  .strictObject({
    /** The InfluxDB sink: holds back ingest (the log keeps what it has not written). */
    influx: z
      .strictObject({
        /** Log records per batch handed to the InfluxDB writer. */
        batchRecords: z.number().int().min(1).max(100_000).default(2000),
        /** First and longest wait before a failed batch is retried (exponential backoff with jitter). */
        retryMinMs: z.number().int().min(1).default(100),
        retryMaxMs: z.number().int().min(1).default(2_000),
        /** How often the sink's checkpoint is made durable while it writes. */
        checkpointIntervalMs: z.number().int().min(0).default(200),
        /** Batches on the wire at once: the next is read and encoded while the previous is written. */
        maxInFlightBatches: z.number().int().min(1).max(16).default(4),
        /** Decode and encode batches in a worker thread (the compiled gateway; from sources, always in-thread). */
        encodeInWorker: z.boolean().default(true),
      })
      .prefault({}),
    /**
     * The experience engine (gateway/experience): visits, zone stays, exposures and occupancy from the
     * BLE sightings of stores with a layout, appended to the log as derived records. It never holds
     * back ingest: records past its lag budget are expired for it (counted).
     */
    experience: z
      .strictObject({
        enabled: z.boolean().default(true),
        /** Event-time boundaries at which visits that have closed are made final. */
        finalizeEveryMinutes: z.number().int().min(1).max(60).default(5),
        /** A source further behind the store's newest event time than this stops holding the watermark back (an edge offline longer replays late). */
        maxSourceLagMinutes: z
          .number()
          .int()
          .min(1)
          .max(24 * 60)
          .default(30),
        /** A boundary is processed once every reporting source is this far past it (room for ordinary delays, touchpoints and devices). */
        lateToleranceSeconds: z.number().int().min(0).max(3600).default(60),
        /** A device heard for longer than this without a gap is static (store equipment, a phone left behind, staff): no visit. */
        maxVisitMinutes: z
          .number()
          .int()
          .min(10)
          .max(24 * 60)
          .default(180),
        /** A device whose track starts while the store is closed (stores[].openingHours, 5 min margin) is staff for the rest of that day: no visit. */
        closedHoursAreStaff: z.boolean().default(true),
        /** Occupancy of a minute is made final at most this long after it (a device open longer stops holding it back). */
        occupancyHoldMinutes: z
          .number()
          .int()
          .min(5)
          .max(24 * 60)
          .default(60),
        /** At most this many devices open at once per store (BLE ids and wifi pseudonyms each): a flood of ids (advertising spam, random-MAC probes) beyond it is dropped and counted, not held. */
        maxOpenDevices: z.number().int().min(100).max(1_000_000).default(10_000),
        /** Self-calibrate the radio model per finalisation (costly; off: the engine's textbook values). */
        calibrate: z.boolean().default(false),
        /** How often its state and checkpoint are made durable while it consumes. */
        checkpointIntervalMs: z.number().int().min(0).default(5_000),
        /** Records older than this (append time) that it has not consumed are expired for it. */
        lagBudgetSeconds: z
          .number()
          .int()
          .min(60)
          .default(6 * 3600),
      })
      .prefault({}),
    /**
     * CRM destinations (gateway/crm, docs/crm.md): each is a sink of its own with its own checkpoint,
     * outbox and dead letters, forwarding only the events of customers who granted `crm` at the event's time.
     */
    crm: z
      .strictObject({
        destinations: z.array(CrmDestinationSchema).default([]),
      })
      .prefault({})
      .refine((crm) => new Set(crm.destinations.map((d) => d.name)).size === crm.destinations.length, 'two CRM destinations have the same name'),
  })
  .prefault({});
