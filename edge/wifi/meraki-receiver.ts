/**
 * Receiver of the Cisco Meraki Scanning API v3 webhook, pseudonymising on receipt (meraki-mapping.ts).
 *
 * Handshake (../shared/samples/meraki-scanning.md): Meraki first sends `GET <POST URL>` and expects
 * the network's validator string as the bare body (200, text/plain); then it POSTs JSON bodies to
 * the same path with the shared secret inside the body (`secret`, not an HMAC). A POST without a
 * secret gets 401, with a wrong one 403, and nothing of it is ingested; a body that fails the schema
 * gets 400 with the zod paths; an accepted one gets 202 at once (slow answers make Meraki pause for
 * 15-20 minutes). Responses and log lines never repeat a value from the body.
 *
 * Meraki only posts to HTTPS with a publicly trusted certificate: put a TLS reverse proxy in front
 * (or mount `plugin` in a server that terminates TLS). Run standalone (`listen`), the receiver is an
 * EdgeSource with its own fastify app; with `listen: false`, start() only arms it and the agent
 * registers `plugin` in its own server.
 */
import { createHash, timingSafeEqual } from 'node:crypto';

import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyPluginAsync } from 'fastify';
import { z } from 'zod';

import { maskMacAddresses } from '../../protocol/index.js';
import { RateLimitedLog } from '../../lib/rate-limited-log.js';
import type { Logger } from '../../lib/logger.js';
import type { Pseudonymiser } from '../pseudonymise/pseudonymiser.js';
import type { EdgeSource, SourceHealth, SourcePayload } from '../types.js';
import { WifiSourceError } from './errors.js';
import {
  BLUETOOTH_POLICIES,
  MERAKI_DROP_REASONS,
  mapBluetoothData,
  mapWifiData,
  type BluetoothPolicy,
  type MappingResult,
  type MerakiDropReason,
  type SensorForAp,
} from './meraki-mapping.js';
import { MerakiBluetoothDataSchema, MerakiEnvelopeSchema, MerakiWifiDataSchema } from './meraki-schema.js';
import { SourceIdSchema } from './source-id.js';

/** The settings a config file can hold; validated by the constructor, strictly (a misspelt key is refused). */
export const MerakiReceiverSettingsSchema = z.strictObject({
  name: z.string().min(1).default('meraki'),
  /** Where the standalone receiver listens, or false to mount `plugin` elsewhere. */
  listen: z
    .union([z.literal(false), z.strictObject({ host: z.string().min(1).default('127.0.0.1'), port: z.number().int().min(0).max(65535).default(8091) })])
    .default({ host: '127.0.0.1', port: 8091 }),
  /** The POST URL's path; Meraki sends the validator GET to the same path. */
  path: z
    .string()
    .regex(/^\/[A-Za-z0-9/_.-]*$/, 'expected an absolute URL path')
    .default('/meraki'),
  /** The validator string the Dashboard shows for the network. */
  validator: z.string().min(1),
  /** The shared secret set in the Dashboard. */
  secret: z.string().min(1),
  defaultSourceId: SourceIdSchema,
  bluetooth: z.enum(BLUETOOTH_POLICIES).default('ignore'),
  defaultBleSourceId: SourceIdSchema.optional(),
  /** Meraki consolidates a whole network into one POST: allow large bodies. */
  bodyLimitBytes: z
    .number()
    .int()
    .min(1024)
    .max(256 * 1024 * 1024)
    .default(16 * 1024 * 1024),
  /** Health turns degraded when no POST was accepted for this long (Meraki posts every 1-2 minutes). */
  staleAfterMs: z
    .number()
    .int()
    .min(1000)
    .default(10 * 60_000),
});
export type MerakiReceiverSettings = z.input<typeof MerakiReceiverSettingsSchema>;

export interface MerakiReceiverOptions extends MerakiReceiverSettings {
  /** Maps the AP that heard a client to a source id; undefined falls back to the default source. */
  sensorForAp?: SensorForAp;
  pseudonymiser: Pseudonymiser;
  log: Logger;
  now?: () => number;
}

export const MERAKI_REFUSALS = {
  secret_missing: 'the body has no shared secret',
  secret_mismatch: 'the shared secret does not match',
  body_invalid: 'the body is not a Meraki Scanning API v3 body',
  emit_failed: 'the agent could not take the payloads',
} as const;
export type MerakiRefusal = keyof typeof MERAKI_REFUSALS;

export interface MerakiStats {
  validatorRequests: number;
  postsAccepted: number;
  refused: Record<MerakiRefusal, number>;
  observationsReceived: number;
  itemsEmitted: number;
  payloadsEmitted: number;
  dropped: Record<MerakiDropReason, number>;
  /** Epoch ms of the last accepted POST. */
  lastPostAt?: number;
}

interface Reply {
  status: number;
  body: Record<string, unknown>;
}

const MAX_ISSUES = 20;
/** Fixed answers for fastify's body errors: their own messages may quote the body. */
const FASTIFY_REFUSALS: Record<string, string> = {
  FST_ERR_CTP_INVALID_JSON_BODY: 'the body is not valid JSON',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'the body is empty',
  FST_ERR_CTP_BODY_TOO_LARGE: 'the body exceeds bodyLimitBytes',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'expected content-type application/json',
};

/** Builds a receiver (constructor only validates and stores; start() listens). */
export function createMerakiReceiver(options: MerakiReceiverOptions): MerakiReceiver {
  return new MerakiReceiver(options);
}

export class MerakiReceiver implements EdgeSource {
  readonly name: string;
  /** The GET and POST routes as a fastify plugin, for mounting in another server (`listen: false`). */
  readonly plugin: FastifyPluginAsync;
  private readonly settings: z.infer<typeof MerakiReceiverSettingsSchema>;
  private readonly secretDigest: Buffer;
  private readonly log: Logger;
  private readonly warnings: RateLimitedLog;
  private readonly now: () => number;
  private readonly counters: MerakiStats;
  private emit: ((message: SourcePayload) => void) | undefined;
  private app: FastifyInstance | undefined;
  private bound: { host: string; port: number } | undefined;
  private startedAt: number | undefined;
  private lastItemAt: number | undefined;
  private lastRefusal: MerakiRefusal | undefined;
  private stopped = false;

  constructor(private readonly options: MerakiReceiverOptions) {
    const { sensorForAp: _s, pseudonymiser: _p, log: _l, now: _n, ...settings } = options;
    const parsed = MerakiReceiverSettingsSchema.safeParse(settings);
    if (!parsed.success) {
      // an unknown key's name is quoted in the message: mask it in case it is an address
      const problems = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${maskMacAddresses(i.message)}`).join('; ');
      throw new WifiSourceError('SL_ERR_MERAKI_CONFIG', `invalid Meraki receiver settings: ${problems}`, {
        context: { paths: parsed.error.issues.map((i) => i.path.join('.')) },
      });
    }
    this.settings = parsed.data;
    if (this.settings.bluetooth !== 'ignore' && this.settings.defaultBleSourceId === undefined) {
      throw new WifiSourceError(
        'SL_ERR_MERAKI_CONFIG',
        `bluetooth '${this.settings.bluetooth}' needs defaultBleSourceId (a ble sensor: wifi sensors may not publish ble)`,
      );
    }
    if (options.pseudonymiser.mode === 'consented') {
      throw new WifiSourceError('SL_ERR_MERAKI_CONFIG', "Meraki reports every client's MAC: use a 'daily' or 'short-lived' pseudonymiser, not 'consented'");
    }
    this.name = this.settings.name;
    this.secretDigest = digest(this.settings.secret);
    this.log = options.log.child({ module: 'meraki-receiver', source: this.name });
    this.now = options.now ?? Date.now;
    this.warnings = new RateLimitedLog(this.log, 60_000, this.now);
    this.counters = {
      validatorRequests: 0,
      postsAccepted: 0,
      refused: zeroCounts(MERAKI_REFUSALS),
      observationsReceived: 0,
      itemsEmitted: 0,
      payloadsEmitted: 0,
      dropped: zeroCounts(MERAKI_DROP_REASONS),
    };
    this.plugin = this.routes();
  }

  /** Arms the receiver and, unless `listen: false`, listens. Rejects with SL_ERR_MERAKI_LISTEN when the port is taken. */
  async start(emit: (message: SourcePayload) => void): Promise<void> {
    this.emit = emit;
    this.startedAt = this.now();
    this.stopped = false;
    const listen = this.settings.listen;
    if (listen === false) return;
    // pino's Logger and fastify's FastifyBaseLogger differ only in optional members; fastify takes pino loggers
    const app = Fastify({ loggerInstance: this.log as unknown as FastifyBaseLogger, logController: new LogController({ disableRequestLogging: true }) });
    await app.register(this.plugin);
    try {
      await app.listen({ host: listen.host, port: listen.port });
    } catch (err) {
      await app.close();
      throw new WifiSourceError('SL_ERR_MERAKI_LISTEN', `Meraki receiver cannot listen on ${listen.host}:${listen.port}`, {
        cause: err,
        context: { host: listen.host, port: listen.port },
      });
    }
    this.app = app;
    const address = app.server.address();
    this.bound = { host: listen.host, port: typeof address === 'object' && address !== null ? address.port : listen.port };
    this.log.info({ host: this.bound.host, port: this.bound.port, path: this.settings.path, bluetooth: this.settings.bluetooth }, 'Meraki receiver listening');
  }

  async stop(): Promise<void> {
    const app = this.app;
    this.app = undefined;
    this.emit = undefined;
    this.startedAt = undefined;
    this.stopped = true;
    if (app !== undefined) await app.close();
    this.log.info({ stats: this.stats() }, 'Meraki receiver stopped');
  }

  /** Where the standalone receiver listens (port 0 resolved), once started. */
  address(): { host: string; port: number } | undefined {
    return this.bound;
  }

  stats(): MerakiStats {
    return structuredClone(this.counters);
  }

  health(): SourceHealth {
    const base = { name: this.name, ...(this.lastItemAt === undefined ? {} : { lastItemAt: this.lastItemAt }) };
    if (this.startedAt === undefined) return { ...base, state: 'down', detail: this.stopped ? 'stopped' : 'not started' };
    const c = this.counters;
    const refused = Object.values(c.refused).reduce((a, b) => a + b, 0);
    const summary = `${c.postsAccepted} POSTs accepted, ${refused} refused, ${c.itemsEmitted} items emitted`;
    if (this.lastRefusal !== undefined) return { ...base, state: 'degraded', detail: `last POST refused: ${MERAKI_REFUSALS[this.lastRefusal]}; ${summary}` };
    const quietMs = this.now() - (c.lastPostAt ?? this.startedAt);
    if (quietMs > this.settings.staleAfterMs) {
      return {
        ...base,
        state: 'degraded',
        detail: `no POST from Meraki for ${Math.round(quietMs / 60_000)} min (check the Dashboard's POST URL, validator and secret); ${summary}`,
      };
    }
    return { ...base, state: 'ok', detail: summary };
  }

  private routes(): FastifyPluginAsync {
    return async (app) => {
      app.setErrorHandler((err: { statusCode?: number; code?: string }, _req, reply) => {
        // never err.message: Node's JSON.parse messages quote the body, which may hold addresses
        const status = err.statusCode !== undefined && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500;
        if (status === 500) this.log.error({ code: err.code }, 'Meraki request failed');
        else this.refuse('body_invalid', { status, code: err.code });
        const error = status === 500 ? 'internal error' : (FASTIFY_REFUSALS[err.code ?? ''] ?? 'request refused');
        return reply.code(status).send({ error, code: err.code ?? 'SL_ERR_MERAKI_REQUEST' });
      });
      app.get(this.settings.path, async (_req, reply) => {
        this.counters.validatorRequests += 1;
        return reply.code(200).type('text/plain; charset=utf-8').send(this.settings.validator);
      });
      app.post(this.settings.path, { bodyLimit: this.settings.bodyLimitBytes }, async (req, reply) => {
        const answer = this.handlePost(req.body);
        return reply.code(answer.status).send(answer.body);
      });
    };
  }

  private handlePost(body: unknown): Reply {
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      return this.refusal('body_invalid', 400, 'SL_ERR_MERAKI_BODY_INVALID', [{ path: '(root)', message: 'expected a JSON object' }]);
    }
    const secret = (body as { secret?: unknown }).secret;
    if (typeof secret !== 'string' || secret.length === 0) return this.refusal('secret_missing', 401, 'SL_ERR_MERAKI_SECRET_MISSING');
    if (!timingSafeEqual(digest(secret), this.secretDigest)) return this.refusal('secret_mismatch', 403, 'SL_ERR_MERAKI_SECRET_MISMATCH');

    const envelope = MerakiEnvelopeSchema.safeParse(body);
    if (!envelope.success) return this.refusal('body_invalid', 400, 'SL_ERR_MERAKI_BODY_INVALID', issuesOf(envelope.error.issues, []));
    const wifi = envelope.data.type === 'WiFi';
    const data = (wifi ? MerakiWifiDataSchema : MerakiBluetoothDataSchema).safeParse(envelope.data.data);
    if (!data.success) return this.refusal('body_invalid', 400, 'SL_ERR_MERAKI_BODY_INVALID', issuesOf(data.error.issues, ['data']));

    const ctx = {
      pseudonymiser: this.options.pseudonymiser,
      defaultSourceId: this.settings.defaultSourceId,
      bluetooth: this.settings.bluetooth,
      ...(this.options.sensorForAp === undefined ? {} : { sensorForAp: this.options.sensorForAp }),
      ...(this.settings.defaultBleSourceId === undefined ? {} : { defaultBleSourceId: this.settings.defaultBleSourceId }),
    };
    const result = 'reportingAps' in data.data ? mapBluetoothData(data.data, ctx) : mapWifiData(data.data, ctx);
    return this.deliver(result, envelope.data.type);
  }

  private deliver(result: MappingResult, type: string): Reply {
    const emit = this.emit;
    if (emit === undefined) return this.refusal('emit_failed', 503, 'SL_ERR_MERAKI_NOT_STARTED');
    try {
      for (const payload of result.payloads) emit(payload);
    } catch (err) {
      this.log.error({ err, payloads: result.payloads.length }, 'Meraki payloads not taken by the agent');
      return this.refusal('emit_failed', 503, 'SL_ERR_MERAKI_EMIT');
    }
    const c = this.counters;
    c.postsAccepted += 1;
    c.lastPostAt = this.now();
    c.observationsReceived += result.received;
    c.itemsEmitted += result.emitted;
    c.payloadsEmitted += result.payloads.length;
    for (const [reason, n] of Object.entries(result.dropped) as Array<[MerakiDropReason, number]>) c.dropped[reason] += n;
    if (result.payloads.length > 0) this.lastItemAt = c.lastPostAt;
    this.lastRefusal = undefined;
    const dropped = Object.values(result.dropped).reduce((a, b) => a + b, 0);
    this.log.debug(
      { type, observations: result.received, emitted: result.emitted, payloads: result.payloads.length, dropped: result.dropped },
      'Meraki POST accepted',
    );
    return { status: 202, body: { accepted: result.emitted, dropped } };
  }

  private refusal(reason: MerakiRefusal, status: number, code: string, issues?: Array<{ path: string; message: string }>): Reply {
    this.refuse(reason, { status, code, ...(issues === undefined ? {} : { paths: issues.map((i) => i.path) }) });
    return { status, body: { error: MERAKI_REFUSALS[reason], code, ...(issues === undefined ? {} : { issues }) } };
  }

  private refuse(reason: MerakiRefusal, fields: Record<string, unknown>): void {
    this.counters.refused[reason] += 1;
    this.lastRefusal = reason;
    this.warnings.warn(reason, { reason, ...fields, count: this.counters.refused[reason] }, 'Meraki POST refused');
  }
}

function digest(secret: string): Buffer {
  // comparing fixed-length digests keeps timingSafeEqual constant-time whatever the lengths
  return createHash('sha256').update(secret, 'utf8').digest();
}

function issuesOf(issues: readonly z.core.$ZodIssue[], prefix: readonly PropertyKey[]): Array<{ path: string; message: string }> {
  return issues.slice(0, MAX_ISSUES).map((issue) => ({
    path: [...prefix, ...issue.path].map(String).join('.') || '(root)',
    message: maskMacAddresses(issue.message),
  }));
}

function zeroCounts<K extends string>(reasons: Record<K, string>): Record<K, number> {
  return Object.fromEntries(Object.keys(reasons).map((k) => [k, 0])) as Record<K, number>;
}

export type { BluetoothPolicy };
