/**
 * Remote config (pure): an operator publishes a retained JSON document on the agent's config topic;
 * the agent validates it whole and applies it without a restart, or refuses it whole and says why in
 * its status. What it may change (everything else needs the file and a restart):
 *
 * ```json
 * { "rev": "2025-06-01a",
 *   "status": { "intervalS": 60 },
 *   "queue": { "shedRawAbovePct": 70, "maxAgeSeconds": 432000 },
 *   "gateway": { "inflightWindow": 64, "replayRatePerS": 500 },
 *   "sources": { "ingress": { "sourceIds": ["kiosk-1", "mirror-1"] }, "ble": { … } } }
 * ```
 *
 * Each document replaces the previous one (it is not cumulative): keys it leaves out fall back to the
 * file, so `{}` goes back to the file's values (as does an empty retained message on a plain broker;
 * the gateway refuses empty payloads on config topics). The gateway forwards and retains config
 * topics (`protocol/topics.ts` buildConfigTopic) after checking the agent exists and the payload is
 * a JSON object; everything else is checked here.
 * Source blocks (ble, meraki, probes) go to the source, which validates and applies them.
 */
import { z } from 'zod';

import { formatZodError } from '../../protocol/index.js';
import {
  InflightWindowSchema,
  MaxAgeSecondsSchema,
  ReplayRateSchema,
  ShedRawAbovePctSchema,
  SourceIdListSchema,
  StatusIntervalSchema,
  type EdgeConfig,
} from './config-schema.js';

export const RECONFIGURABLE_SOURCES = ['ble', 'meraki', 'probes'] as const;
export type ReconfigurableSourceName = (typeof RECONFIGURABLE_SOURCES)[number];

/** The values remote config can change, as the agent runs with them. */
export interface RuntimeSettings {
  statusIntervalS: number;
  shedRawAbovePct: number;
  maxAgeSeconds: number;
  inflightWindow: number;
  replayRatePerS: number;
  /** Touchpoint and device ids the ingress accepts; null accepts any valid id. */
  ingressSourceIds: readonly string[] | null;
  /** Blocks for sources that change at runtime (each validated by its source). */
  sources: Partial<Record<ReconfigurableSourceName, Record<string, unknown>>>;
}

const SourceOverlaySchema = z.record(z.string(), z.unknown());

export const RemoteConfigSchema = z.strictObject({
  v: z.literal(1).optional(),
  /** The operator's revision label, echoed in the agent's status. */
  rev: z
    .union([z.string().min(1).max(64), z.number().int()])
    .transform(String)
    .optional(),
  status: z.strictObject({ intervalS: StatusIntervalSchema.optional() }).optional(),
  queue: z.strictObject({ shedRawAbovePct: ShedRawAbovePctSchema.optional(), maxAgeSeconds: MaxAgeSecondsSchema.optional() }).optional(),
  gateway: z.strictObject({ inflightWindow: InflightWindowSchema.optional(), replayRatePerS: ReplayRateSchema.optional() }).optional(),
  sources: z
    .strictObject({
      ingress: z.strictObject({ sourceIds: SourceIdListSchema.nullable().optional() }).optional(),
      ble: SourceOverlaySchema.optional(),
      meraki: SourceOverlaySchema.optional(),
      probes: SourceOverlaySchema.optional(),
    })
    .optional(),
});
export type RemoteConfig = z.infer<typeof RemoteConfigSchema>;

/** Validates a source block; answers the problem with its full key path (`sources.ble.intervalMs: …`) or undefined when it is fine. */
export type SourceBlockValidator = (source: ReconfigurableSourceName, block: Record<string, unknown>) => string | undefined;

export type RemoteConfigResult = { ok: true; rev: string | null; settings: RuntimeSettings } | { ok: false; rev: string | null; detail: string };

/** The settings the file gives. */
export function baseSettings(config: EdgeConfig): RuntimeSettings {
  return {
    statusIntervalS: config.status.intervalS,
    shedRawAbovePct: config.queue.shedRawAbovePct,
    maxAgeSeconds: config.queue.maxAgeSeconds,
    inflightWindow: config.gateway.inflightWindow,
    replayRatePerS: config.gateway.replayRatePerS,
    ingressSourceIds: config.sources.ingress?.sourceIds ?? null,
    sources: {},
  };
}

/** Validates a retained config payload and merges it over the file's settings. */
export function resolveRemoteConfig(payload: Buffer, base: RuntimeSettings, validateSource: SourceBlockValidator): RemoteConfigResult {
  if (payload.length === 0) return { ok: true, rev: null, settings: base };
  let value: unknown;
  try {
    value = JSON.parse(payload.toString('utf8'));
  } catch (err) {
    return { ok: false, rev: null, detail: `not JSON: ${(err as Error).message.slice(0, 80)}` };
  }
  const rev = revOf(value);
  const parsed = RemoteConfigSchema.safeParse(value);
  if (!parsed.success) return { ok: false, rev, detail: formatZodError(parsed.error) };
  const remote = parsed.data;
  const sources: RuntimeSettings['sources'] = {};
  for (const name of RECONFIGURABLE_SOURCES) {
    const block = remote.sources?.[name];
    if (block === undefined) continue;
    const problem = validateSource(name, block);
    if (problem !== undefined) return { ok: false, rev, detail: problem };
    sources[name] = block;
  }
  const ingressIds = remote.sources?.ingress?.sourceIds;
  return {
    ok: true,
    rev: remote.rev ?? null,
    settings: {
      statusIntervalS: remote.status?.intervalS ?? base.statusIntervalS,
      shedRawAbovePct: remote.queue?.shedRawAbovePct ?? base.shedRawAbovePct,
      maxAgeSeconds: remote.queue?.maxAgeSeconds ?? base.maxAgeSeconds,
      inflightWindow: remote.gateway?.inflightWindow ?? base.inflightWindow,
      replayRatePerS: remote.gateway?.replayRatePerS ?? base.replayRatePerS,
      ingressSourceIds: ingressIds === undefined ? base.ingressSourceIds : ingressIds,
      sources,
    },
  };
}

/** The rev of a document even when the rest is invalid, so the status names what was refused. */
function revOf(value: unknown): string | null {
  if (typeof value !== 'object' || value === null) return null;
  const rev = (value as { rev?: unknown }).rev;
  return typeof rev === 'string' || typeof rev === 'number' ? String(rev).slice(0, 64) : null;
}
