/**
 * The one schema of the edge agent's YAML file (`storeloop edge --config edge.yaml`). Defaults live
 * here; `loadEdgeConfig` applies the STORELOOP_EDGE_* overrides and validates through this schema.
 * The field schemas that remote config may change are exported, so both places share one set of limits.
 */
import { z } from 'zod';

import { DEFAULT_TOPIC_PREFIX, EntityIdSchema } from '../../protocol/index.js';
import { DEFAULT_PSEUDONYMISE_MODE, MAX_ROTATION_MINUTES, MIN_SECRET_BYTES, PSEUDONYMISE_MODES } from '../pseudonymise/index.js';

const PortSchema = z.number().int().min(0).max(65535);
const KIB = 1024;
const MIB = 1024 * KIB;

/** The gateway accepts event times up to 7 days old by default (ingest.maxPastSeconds): stay inside it. */
export const DEFAULT_QUEUE_MAX_AGE_S = 6 * 24 * 3600;

// ---- fields remote config may change (edge/agent/remote-config.ts) ----------------------------
export const StatusIntervalSchema = z.number().int().min(5).max(3600);
export const ShedRawAbovePctSchema = z.number().min(1).max(100);
export const MaxAgeSecondsSchema = z
  .number()
  .int()
  .min(60)
  .max(30 * 24 * 3600);
export const InflightWindowSchema = z.number().int().min(1).max(1000);
export const ReplayRateSchema = z.number().int().min(1).max(100_000);
export const SourceIdListSchema = z.array(EntityIdSchema).max(1000);

export const GatewayLinkSchema = z
  .strictObject({
    /** mqtt://host:1883, mqtts://…, or MQTT over WebSocket: ws://host:8083/mqtt, wss://… */
    url: z
      .string()
      .url()
      .refine((url) => /^(mqtts?|wss?):\/\//.test(url), 'expected an mqtt://, mqtts://, ws:// or wss:// URL'),
    topicPrefix: z
      .string()
      .regex(/^[A-Za-z0-9_-]+(\/[A-Za-z0-9_-]+)*$/)
      .default(DEFAULT_TOPIC_PREFIX),
    /** The agent's MQTT identity (an `agent` identity of its store, made with `storeloop credentials add --role agent`). */
    username: z.string().min(1).optional(),
    password: z.string().optional(),
    /**
     * mqtts:// and wss://: the CA that signed the gateway's certificate (PEM file; default: the system's
     * trust store), and the agent's own client certificate and key when the gateway asks for one.
     */
    caFile: z.string().min(1).optional(),
    certFile: z.string().min(1).optional(),
    keyFile: z.string().min(1).optional(),
    /** The files' PEM contents, read by the loader (or given inline). */
    ca: z.string().min(1).optional(),
    cert: z.string().min(1).optional(),
    key: z.string().min(1).optional(),
    keepaliveS: z.number().int().min(5).max(3600).default(30),
    connectTimeoutMs: z.number().int().min(100).max(120_000).default(10_000),
    /** First reconnect delay; doubled after every failed attempt up to reconnectMaxMs. */
    reconnectMinMs: z.number().int().min(50).max(600_000).default(500),
    reconnectMaxMs: z.number().int().min(50).max(600_000).default(30_000),
    /** QoS 1 publishes awaiting their PUBACK at most. */
    inflightWindow: InflightWindowSchema.default(32),
    /** Publishes per second at most (token bucket, burst = inflightWindow): bounds a backlog replay after a reconnect. */
    replayRatePerS: ReplayRateSchema.default(200),
  })
  .refine((link) => (link.certFile === undefined) === (link.keyFile === undefined), {
    message: 'certFile and keyFile go together (the client certificate and its key)',
    path: ['certFile'],
  });

export const QueueSchema = z
  .strictObject({
    dir: z.string().min(1).default('.storeloop/edge-queue'),
    /** Bytes of queued, not yet acknowledged records (28-byte headers included). */
    quotaBytes: z
      .number()
      .int()
      .min(64 * KIB)
      .default(512 * MIB),
    /** Older records (by event time) are dropped at replay, counted: keep it below the gateway's ingest.maxPastSeconds. */
    maxAgeSeconds: MaxAgeSecondsSchema.default(DEFAULT_QUEUE_MAX_AGE_S),
    /** Segment file size; default 16 MiB, or an eighth of a smaller quota. */
    segmentBytes: z
      .number()
      .int()
      .min(4 * KIB)
      .optional(),
    /** Above this fill level (% of quotaBytes) raw sightings (ble, wifi) are shed; interactions and devices are kept until 100 %. */
    shedRawAbovePct: ShedRawAbovePctSchema.default(80),
  })
  .transform((q) => ({ ...q, segmentBytes: q.segmentBytes ?? Math.max(4 * KIB, Math.min(16 * MIB, Math.floor(q.quotaBytes / 8))) }))
  .refine((q) => q.segmentBytes <= q.quotaBytes, { message: 'segmentBytes must not exceed quotaBytes', path: ['segmentBytes'] });

export const PseudonymiseSchema = z
  .strictObject({
    /** A named mode of edge/pseudonymise: `daily` (default), `short-lived` or `consented` (docs/edge.md). */
    mode: z.enum(PSEUDONYMISE_MODES).default(DEFAULT_PSEUDONYMISE_MODE),
    /** The per-retailer HMAC key; prefer secretFile or STORELOOP_EDGE_SECRET over the YAML file. */
    secret: z.string().min(MIN_SECRET_BYTES, `the secret must have at least ${MIN_SECRET_BYTES} characters`).optional(),
    /** A file holding the secret (trailing newline ignored); read once at startup. */
    secretFile: z.string().min(1).optional(),
    /** `short-lived` only: window length in minutes (default 15). */
    rotationMinutes: z.number().int().min(1).max(MAX_ROTATION_MINUTES).optional(),
    /** `daily` only: IANA timezone whose midnight rotates the key (default: the box's timezone). */
    timezone: z.string().min(1).optional(),
  })
  .refine((p) => (p.secret === undefined) !== (p.secretFile === undefined), { message: 'set exactly one of secret and secretFile', path: ['secret'] })
  .refine((p) => p.rotationMinutes === undefined || p.mode === 'short-lived', {
    message: 'only the short-lived mode rotates by minutes',
    path: ['rotationMinutes'],
  });

export const IngressSchema = z.strictObject({
  host: z.string().min(1).default('127.0.0.1'),
  port: PortSchema.default(8090),
  /** When set, POSTs need `Authorization: Bearer <token>`. */
  token: z.string().min(16, 'the token must have at least 16 characters').optional(),
  /** When set, only these touchpoint and device ids are accepted (404 for others). */
  sourceIds: SourceIdListSchema.optional(),
  bodyLimitBytes: z
    .number()
    .int()
    .min(1024)
    .max(1024 * KIB)
    .default(64 * KIB),
});

/** A source block is validated by its source's constructor; here only its shape and the switch. */
const SourceBlockSchema = z.looseObject({ enabled: z.boolean().default(true) });

export const SourcesSchema = z
  .strictObject({
    ble: SourceBlockSchema.optional(),
    meraki: SourceBlockSchema.optional(),
    probes: SourceBlockSchema.optional(),
    ingress: IngressSchema.optional(),
  })
  .prefault({});

export const CLOCK_CHECKS = ['auto', 'timedatectl', 'year', 'off'] as const;

export const EdgeConfigSchema = z
  .strictObject({
    agent: z.strictObject({ id: EntityIdSchema, storeId: EntityIdSchema }),
    gateway: GatewayLinkSchema,
    queue: QueueSchema.prefault({}),
    pseudonymise: PseudonymiseSchema.optional(),
    sources: SourcesSchema,
    status: z
      .strictObject({
        intervalS: StatusIntervalSchema.default(30),
        /**
         * How the agent decides whether its clock is synchronised: `timedatectl` (systemd's
         * NTPSynchronized), `year` (a year before 2024 means no RTC and no sync yet), `auto` (the
         * first, else the second), `off` (trust the clock).
         */
        clockCheck: z.enum(CLOCK_CHECKS).default('auto'),
      })
      .prefault({}),
    remoteConfig: z.strictObject({ enabled: z.boolean().default(true) }).prefault({}),
    log: z.strictObject({ level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info') }).prefault({}),
  })
  .superRefine((config, ctx) => {
    if (config.gateway.reconnectMaxMs < config.gateway.reconnectMinMs) {
      ctx.addIssue({ code: 'custom', path: ['gateway', 'reconnectMaxMs'], message: 'must be at least gateway.reconnectMinMs' });
    }
    const radio = (['ble', 'meraki', 'probes'] as const).filter((name) => config.sources[name]?.enabled === true);
    if (radio.length > 0 && config.pseudonymise === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['pseudonymise'],
        message: `required when sources.${radio.join(', sources.')} is enabled: addresses are hashed before they are queued`,
      });
    }
  });

export type EdgeConfig = z.infer<typeof EdgeConfigSchema>;
export type EdgeConfigInput = z.input<typeof EdgeConfigSchema>;
export type GatewayLinkConfig = z.infer<typeof GatewayLinkSchema>;
export type QueueConfig = z.infer<typeof QueueSchema>;
export type IngressConfig = z.infer<typeof IngressSchema>;
export type ClockCheck = (typeof CLOCK_CHECKS)[number];
