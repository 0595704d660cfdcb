/**
 * The one schema of storeloop's YAML config file. Defaults live here; `loadConfig` applies the
 * STORELOOP_* environment overrides and validates the result through this schema.
 */
import { z } from 'zod';

import { containsMacAddress, DEFAULT_TOPIC_PREFIX, EntityIdSchema as ContractIdSchema } from '../protocol/index.js';
import { checkLayout, LayoutSchema, OpeningHoursSchema } from './layout-schema.js';
import { SinksSchema } from './sinks-schema.js';

/**
 * Ids of stores, zones and sources: the contract's id format, and never a MAC address in any
 * spelling (the gateway refuses such an id in a topic, so a device named so could never publish).
 */
const EntityIdSchema = ContractIdSchema.refine(
  (id) => !containsMacAddress(id),
  'a MAC address is not an id: device addresses are personal data; name the device instead (e.g. counter-door)',
);

/** An IANA time zone name the runtime knows (e.g. Europe/Paris). */
function isTimeZone(name: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

const PortSchema = z.number().int().min(0).max(65535);

export const ZONE_KINDS = ['entrance', 'aisle', 'fitting_room', 'checkout', 'display', 'backroom', 'other'] as const;
export const SENSOR_TYPES = ['ble', 'wifi'] as const;
export const TOUCHPOINT_TYPES = ['kiosk', 'mirror', 'qr', 'feedback'] as const;
export const DEVICE_TYPES = ['people_counter', 'smart_shelf', 'environment'] as const;

export const ZoneSchema = z.strictObject({
  id: EntityIdSchema,
  name: z.string().min(1).max(100).optional(),
  kind: z.enum(ZONE_KINDS).default('other'),
});
export const SensorSchema = z.strictObject({ id: EntityIdSchema, type: z.enum(SENSOR_TYPES), zone: EntityIdSchema });
export const TouchpointSchema = z.strictObject({
  id: EntityIdSchema,
  type: z.enum(TOUCHPOINT_TYPES),
  zone: EntityIdSchema,
  name: z.string().max(100).optional(),
});
/**
 * A people counter's accuracy audit: for a stretch of time someone counted by hand the people who
 * truly entered (`actual`) while the counter ran (`counted`: what it reported in the same stretch).
 * The fused footfall corrects the counter by counted ÷ actual and states the range this audit allows
 * (gateway/analytics/footfall-fusion.ts, docs/analytics.md#footfall).
 */
export const CounterAuditSchema = z.strictObject({
  /** At least 1: a counter that counted nobody in the audit is broken, not biased. */
  counted: z.number().int().min(1),
  actual: z.number().int().min(1),
  /** When the audit was made (ISO date), for the record. */
  on: z
    .string()
    .regex(/^\d{4}-\d{2}-\d{2}$/, 'an ISO date such as 2026-11-02')
    .optional(),
});
export const DeviceSchema = z
  .strictObject({ id: EntityIdSchema, type: z.enum(DEVICE_TYPES), zone: EntityIdSchema.optional(), audit: CounterAuditSchema.optional() })
  .refine((d) => d.audit === undefined || d.type === 'people_counter', { message: 'only a people_counter takes an audit', path: ['audit'] });
/** An edge agent: publishes `status` for itself (and on behalf of the sensors it reads). */
export const AgentSchema = z.strictObject({ id: EntityIdSchema, zone: EntityIdSchema.optional() });

export const StoreSchema = z
  .strictObject({
    id: EntityIdSchema,
    name: z.string().min(1).max(100).optional(),
    timezone: z.string().refine(isTimeZone, 'unknown time zone: use an IANA name such as Europe/Paris').default('UTC'),
    zones: z.array(ZoneSchema).min(1),
    sensors: z.array(SensorSchema).default([]),
    touchpoints: z.array(TouchpointSchema).default([]),
    devices: z.array(DeviceSchema).default([]),
    agents: z.array(AgentSchema).default([]),
    /** Opening hours per weekday in `timezone` (config/layout-schema.ts); absent: not known. */
    openingHours: OpeningHoursSchema.optional(),
    /** The floor plan in metres (config/layout-schema.ts); absent: the simulator lays the zones out on a grid. */
    layout: LayoutSchema.optional(),
  })
  .superRefine((store, ctx) => {
    const zoneIds = new Set(store.zones.map((z) => z.id));
    const seen = new Map<string, string>();
    const check = (list: 'zones' | 'sensors' | 'touchpoints' | 'devices' | 'agents') => {
      store[list].forEach((item, i) => {
        if (list !== 'zones') {
          if (seen.has(item.id))
            ctx.addIssue({ code: 'custom', path: [list, i, 'id'], message: `duplicate source id '${item.id}' (also under ${seen.get(item.id)})` });
          seen.set(item.id, list);
          const zone = (item as { zone?: string }).zone;
          if (zone !== undefined && !zoneIds.has(zone)) {
            ctx.addIssue({ code: 'custom', path: [list, i, 'zone'], message: `unknown zone '${zone}' (zones: ${[...zoneIds].join(', ')})` });
          }
        }
      });
    };
    (['sensors', 'touchpoints', 'devices', 'agents'] as const).forEach(check);
    if (zoneIds.size !== store.zones.length) ctx.addIssue({ code: 'custom', path: ['zones'], message: 'zone ids must be unique' });
    for (const issue of checkLayout(store)) ctx.addIssue({ code: 'custom', ...issue });
  });

export const InfluxSchema = z.strictObject({
  url: z.string().url().default('http://127.0.0.1:8086'),
  /** `v1`: POST /write?db= (every 1.x); `v2`: POST /api/v2/write (2.x, Cloud, 1.8+, 3.x). */
  api: z.enum(['v1', 'v2']).default('v1'),
  database: z.string().min(1).default('storeloop'),
  retentionPolicy: z.string().optional(),
  username: z.string().optional(),
  password: z.string().optional(),
  bucket: z.string().min(1).default('storeloop'),
  org: z.string().default(''),
  token: z.string().optional(),
  /** Create the v1 database at start (InfluxQL CREATE DATABASE; harmless when it exists). */
  createDatabase: z.boolean().default(true),
  batchSize: z.number().int().min(1).max(100000).default(5000),
  /**
   * Deprecated, ignored since the event log (the sink writes each batch at once and retries it
   * itself): still accepted so older files load, warned about (`configWarnings`); to be refused later.
   */
  flushIntervalMs: z.number().int().min(1).max(60000).optional(),
  maxRetries: z.number().int().min(0).max(100).optional(),
  maxRetryDelayMs: z.number().int().min(1).optional(),
  timeoutMs: z.number().int().min(100).default(10000),
  /** Request bodies at least this big are sent gzip-compressed. */
  gzipThreshold: z.number().int().min(0).default(1000),
});

export const ConfigSchema = z.strictObject({
  mqtt: z
    .strictObject({
      /**
       * Listen address of both MQTT listeners. Loopback by default: the listeners are plaintext and take
       * any client (docs/security.md); set 0.0.0.0 (or the store LAN's address) to accept devices.
       */
      host: z.string().default('127.0.0.1'),
      port: PortSchema.default(1883),
      /** MQTT over WebSocket (path /mqtt); 0 picks a free port, null turns it off. */
      wsPort: PortSchema.nullable().default(8083),
      topicPrefix: z
        .string()
        .regex(/^[A-Za-z0-9_-]+(\/[A-Za-z0-9_-]+)*$/)
        .default(DEFAULT_TOPIC_PREFIX),
      maxPayloadBytes: z
        .number()
        .int()
        .min(64)
        .max(16 * 1024 * 1024)
        .default(256 * 1024),
      /**
       * `durable`: a QoS 1 PUBACK waits until the message is appended to the event log and fsynced.
       * `immediate`: acknowledge at once (loses data on a crash); only for the benchmark's reference run.
       */
      ackMode: z.enum(['durable', 'immediate']).default('durable'),
      /**
       * Broker sessions, subscriptions, retained messages, wills and queued QoS 1/2 deliveries.
       * `sqlite`: kept in `<state.dir>/broker.sqlite` across restarts and crashes; `memory`: lost at exit.
       */
      persistence: z.enum(['memory', 'sqlite']).default('sqlite'),
      /**
       * Who may connect (docs/security.md). Every client names an identity (`storeloop credentials add`) and
       * proves it with its secret or a client certificate; the identity's role decides its topics.
       */
      auth: z
        .strictObject({
          /** Let clients without credentials publish data of every store (never config, never subscribe): for trying storeloop out only. */
          anonymous: z.boolean().default(false),
        })
        .prefault({}),
      /**
       * Limits at the transport (gateway/broker/transport-guard.ts). A packet that declares more than
       * maxPayloadBytes plus the largest topic is refused before it is buffered, and its connection closed.
       */
      limits: z
        .strictObject({
          /** A connection must send CONNECT within this time. */
          connectTimeoutMs: z.number().int().min(100).max(300_000).default(10_000),
          /** A packet must arrive whole within this time of its first byte, whatever the client's keepalive. */
          packetTimeoutMs: z.number().int().min(100).max(300_000).default(10_000),
          /** Open MQTT connections (TCP and WebSocket together). */
          maxConnections: z.number().int().min(1).default(20_000),
          /** Open MQTT connections from one remote address (a store behind NAT shares one). */
          maxConnectionsPerAddress: z.number().int().min(1).default(2_000),
          /** Open MQTT connections of the devices and agents of one store (identities bound to it). */
          maxConnectionsPerStore: z.number().int().min(1).default(2_000),
          /** Open MQTT connections of one identity (a device needs one; a stolen secret cannot fill its store's share). */
          maxConnectionsPerIdentity: z.number().int().min(1).default(50),
          /** Subscriptions one client may hold. */
          maxSubscriptionsPerClient: z.number().int().min(1).max(100_000).default(100),
          /** Messages a second one client may publish (one second of burst); a client over it is slowed down. */
          maxMessagesPerSecondPerClient: z.number().int().min(1).default(2_000),
          /** Payload bytes a second one client may publish (one second of burst); at least maxPayloadBytes. */
          maxBytesPerSecondPerClient: z
            .number()
            .int()
            .min(64)
            .default(8 * 1024 * 1024),
          /**
           * QoS 1 packets one client's queue may hold (a persistent session that is away, or a subscriber slower
           * than the traffic); past it, new packets for that client are dropped (with mqtt.persistence: sqlite).
           */
          maxQueuedPerSession: z.number().int().min(1).default(1_000),
          /**
           * Persistent sessions (clean = false) the broker keeps, connected or away. A CONNECT that would create one
           * more is refused (CONNACK 3, server unavailable); a client whose session is kept is always let back in.
           */
          maxPersistentSessions: z.number().int().min(1).default(10_000),
          /**
           * A persistent session whose client has been away this long is removed: subscriptions, queued packets, will.
           * 7 days: a store closed over a long weekend or a holiday week keeps its devices' sessions.
           */
          sessionExpirySeconds: z
            .number()
            .int()
            .min(1)
            .max(366 * 24 * 3600)
            .default(7 * 24 * 3600),
          /** A client so far over its rate that a publish would wait longer than this is disconnected instead. */
          maxThrottleDelayMs: z.number().int().min(0).max(60_000).default(5_000),
          /**
           * A subscriber whose socket has not taken a delivery within this time is disconnected. The broker
           * answers a publish (its PUBACK) once every subscriber's socket has taken the message, so a
           * subscriber that stops reading holds up every publisher of what it subscribed to until then.
           */
          subscriberDrainTimeoutMs: z.number().int().min(100).max(60_000).default(1_000),
        })
        .prefault({}),
      /**
       * MQTT over TLS and over secure WebSocket (gateway/broker/tls-listeners.ts, docs/security.md).
       * Absent: no TLS listeners. On all interfaces by default: these are the listeners meant for the
       * store network, while the plaintext ones stay on mqtt.host (loopback by default).
       */
      tls: z
        .strictObject({
          host: z.string().default('0.0.0.0'),
          port: PortSchema.default(8883),
          /** MQTT over secure WebSocket (path /mqtt); 0 picks a free port, null turns it off. */
          wsPort: PortSchema.nullable().default(8084),
          /** The gateway's certificate (PEM), intermediates after it; reloaded when the file changes or on SIGHUP. */
          certFile: z.string().min(1),
          /** Its private key (PEM, unencrypted). */
          keyFile: z.string().min(1),
          /** The CA certificate(s) (PEM) that sign the clients' certificates; needed unless clientCertificates is off. */
          caFile: z.string().min(1).optional(),
          /** `off`: none asked for; `optional`: asked for, a client without one connects, a bad one is refused; `required`. */
          clientCertificates: z.enum(['off', 'optional', 'required']).default('off'),
          minVersion: z.enum(['TLSv1.2', 'TLSv1.3']).default('TLSv1.2'),
        })
        .refine((tls) => tls.clientCertificates === 'off' || tls.caFile !== undefined, {
          path: ['caFile'],
          message: 'client certificates need caFile: the CA certificate that signs them (or set clientCertificates: off)',
        })
        .optional(),
    })
    .prefault({}),
  /** The HTTP API, dashboards, /metrics and /docs: bearer tokens with scopes, loopback by default (docs/security.md). */
  http: z
    .strictObject({
      host: z.string().default('127.0.0.1'),
      port: PortSchema.default(8080),
      /** Largest request body; larger ones are answered 413 before they are parsed. */
      bodyLimitBytes: z
        .number()
        .int()
        .min(1024)
        .max(64 * 1024 ** 2)
        .default(1024 ** 2),
      /** Requests one client address may make per minute, every route together (429 past it). */
      rateLimitPerMinute: z.number().int().min(1).default(600),
      /** Failed logins and invalid bearer tokens one address may send per minute before it is refused (429) until the minute ends. */
      authFailuresPerMinute: z.number().int().min(1).default(10),
      /** How long a browser session (token login of the live page) lasts; it ends sooner when its token is revoked or expires. */
      sessionTtlSeconds: z
        .number()
        .int()
        .min(60)
        .max(30 * 24 * 3600)
        .default(12 * 3600),
      /** The session cookie's Secure flag: `auto` sets it when the request came over https. */
      secureCookie: z.enum(['auto', 'always', 'never']).default('auto'),
      /**
       * Behind a reverse proxy that terminates TLS: `true`, or the proxy's addresses (comma-separated, CIDR
       * allowed), so the client address (rate limits) and https come from X-Forwarded-*. Default: no proxy.
       */
      trustProxy: z.union([z.boolean(), z.string().min(1)]).default(false),
      /** Live update streams (GET /api/v1/live/stream, server-sent events) open at once, every client together; past it, 503. */
      maxLiveStreams: z.number().int().min(1).max(10_000).default(100),
    })
    .prefault({}),
  influx: InfluxSchema.prefault({}),
  /** The gateway's state dir: the event log, sink checkpoints, message index, identity vault, dead letters and broker state live under it. */
  state: z
    .strictObject({
      dir: z.string().min(1).default('.storeloop/state'),
      /**
       * The key under which device credentials and API tokens are hashed (HMAC-SHA256): created (random,
       * mode 0600) on first use. Default `<state.dir>/secret.key`; keep it out of backups of the state dir.
       */
      secretKeyFile: z.string().min(1).optional(),
    })
    .prefault({}),
  /** The event log every accepted message is appended to before its PUBACK (docs/ARCHITECTURE.md). */
  eventLog: z
    .strictObject({
      /** Bytes the log may hold on disk; when records InfluxDB has not written fill it, QoS 1 is no longer acknowledged. */
      quotaBytes: z
        .number()
        .int()
        .min(4096)
        .default(1024 ** 3),
      /** Size of one segment file; retention drops whole segments, so smaller segments free disk sooner. */
      segmentBytes: z
        .number()
        .int()
        .min(4096)
        .default(16 * 1024 ** 2),
      /** How long records every sink has consumed are kept for `storeloop replay`, while the quota allows. */
      replayRetentionSeconds: z
        .number()
        .int()
        .min(0)
        .default(24 * 3600),
      /** How long a QoS 1 publish waits for room when the log is full, before the client is disconnected. */
      backpressureHoldMs: z.number().int().min(0).default(5000),
    })
    .prefault({}),
  sinks: SinksSchema,
  /** Who is responsible for the personal data, as consent receipts name them (docs/privacy.md). */
  privacy: z
    .strictObject({
      /** The data controller (the retailer): consent receipts (Kantara Consent Receipt 1.1) need its name and a contact. */
      controller: z
        .strictObject({
          name: z.string().min(1).max(200),
          contact: z.string().min(1).max(200),
          email: z.email(),
          address: z.string().min(1).max(500),
          phone: z.string().min(1).max(50),
          url: z.url().optional(),
        })
        .optional(),
      /**
       * How long a link between a pseudonym (the app's beacon id) and a customer holds after the customer
       * made it at a touchpoint: events of that pseudonym in this time are theirs (docs/privacy.md).
       */
      identityLinkDays: z.number().int().min(1).max(3650).default(30),
      /** The privacy notice customers are shown (the receipts' policyUrl). */
      policyUrl: z.url().optional(),
      /** Where the consent is given and governed: the receipts' jurisdiction. */
      jurisdiction: z.string().min(2).max(64).default('EU'),
      /** The language the notice and the consent were given in (ISO 639-1). */
      language: z
        .string()
        .regex(/^[a-z]{2}$/, 'an ISO 639-1 code, e.g. en')
        .default('en'),
    })
    .prefault({}),
  ingest: z
    .strictObject({
      /** Oldest accepted event time, in seconds before now. Must cover the edge queue's maximum age. */
      maxPastSeconds: z
        .number()
        .int()
        .min(1)
        .default(7 * 24 * 3600),
      /** Newest accepted event time, in seconds after now (clock skew of store boxes). */
      maxFutureSeconds: z.number().int().min(0).default(300),
      /** How long (receive time) message ids are remembered to recognise resends, across restarts. */
      dedupWindowSeconds: z
        .number()
        .int()
        .min(0)
        .default(24 * 3600),
      /** Rejected messages kept for GET /api/v1/rejections. */
      rejectionsKept: z.number().int().min(1).max(10000).default(200),
    })
    .prefault({}),
  log: z.strictObject({ level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info') }).prefault({}),
  stores: z.array(StoreSchema).min(1),
});

export type Config = z.infer<typeof ConfigSchema>;
/** One CRM destination of `sinks.crm.destinations`. */
export type CrmDestinationConfig = Config['sinks']['crm']['destinations'][number];
export type WebhookDestinationConfig = Extract<CrmDestinationConfig, { type: 'webhook' }>;
export type HubSpotDestinationConfig = Extract<CrmDestinationConfig, { type: 'hubspot' }>;
export type SalesforceDestinationConfig = Extract<CrmDestinationConfig, { type: 'salesforce' }>;
export type ConfigInput = z.input<typeof ConfigSchema>;
export type StoreConfig = z.infer<typeof StoreSchema>;
export type InfluxConfig = z.infer<typeof InfluxSchema>;
