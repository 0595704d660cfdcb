/** The `sinks` section of the config: each consumer of the event log and its settings (docs/configuration.md). */
import { z } from 'zod';

/** A webhook secret as Standard Webhooks spells it: `whsec_` and the base64 of 24 to 64 bytes. */
const WebhookSecretSchema = z
  .string()
  .regex(/^whsec_[A-Za-z0-9+/]{32,88}={0,2}$/, 'a Standard Webhooks secret: whsec_ and the base64 of 24 to 64 random bytes');

/** One CRM destination: a generic webhook signed per Standard Webhooks 1.0. */
export const CrmDestinationSchema = z.strictObject({
  /** The sink's name is `crm-<name>`: its checkpoint, metrics label and API path. */
  name: z.string().regex(/^[a-z][a-z0-9-]{0,31}$/, 'a lowercase name: a-z 0-9 -'),
  type: z.literal('webhook'),
  url: z.url({ protocol: /^https?$/ }),
  /** Signing secrets, newest first: each request carries a signature by each (rotation: add the new one, remove the old one once the receiver has it). */
  secrets: z.array(WebhookSecretSchema).min(1).max(4),
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
});

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
