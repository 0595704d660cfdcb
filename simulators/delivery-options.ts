/**
 * The delivery model's parameters (sensor clocks, loss, duplicates, latency, uplink outages) in one
 * object, their defaults and their checks, and the explicit per-source faults a scenario asks for.
 * Each default and where it comes from is in docs/simulator.md ("Clocks and delivery"); each rate is a
 * flag of `storeloop simulate`.
 */
import { z } from 'zod';

import type { StoreConfig } from '../config/index.js';

export interface DeliveryOptions {
  /** Share of sources (sensors, touchpoints, devices, agents) whose clock is not NTP-synchronised. */
  clockUnsyncedShare: number;
  /** Standard deviation of a synchronised clock's offset from true time, ms. */
  clockSyncedSdMs: number;
  /** Standard deviation of an unsynchronised clock's offset at the window's start, ms. */
  clockUnsyncedSdMs: number;
  /** Largest offset of an unsynchronised clock (drift included), ms: the draw is clipped to ±this. */
  clockMaxOffsetMs: number;
  /** Largest drift of an unsynchronised clock, ppm (each one's is uniform in ±this). */
  clockDriftPpm: number;
  /** A scan report's stamp is uniform within ±this around the scan's instant, ms. */
  scanJitterMs: number;
  /** Chance that a data message never arrives (a QoS 0 drop, a sensor buffer overflow). */
  lossRate: number;
  /** Chance that a data message is published twice with the same mid (a lost PUBACK, then a resend). */
  duplicateRate: number;
  /** Median delivery latency of a message (sensor to broker), ms; log-normal. */
  latencyMedianMs: number;
  /** Sigma of the latency's underlying normal. */
  latencySigma: number;
  /** Chance that a message is held back (a Wi-Fi or TCP stall) by a delay uniform in (0, stallMaxMs]. */
  stallShare: number;
  /** Longest stall, ms. */
  stallMaxMs: number;
  /** Mean uplink outages per edge agent per day (Poisson). */
  outagesPerAgentDay: number;
  /** Mean length of an outage, ms (exponential, at most 6 h). */
  outageMeanMs: number;
  /** Share of outages whose buffered messages the agent replays on reconnecting (the rest are lost). */
  outageReplayShare: number;
}

export const DEFAULT_DELIVERY_OPTIONS: Readonly<DeliveryOptions> = Object.freeze({
  clockUnsyncedShare: 0.1,
  clockSyncedSdMs: 20,
  clockUnsyncedSdMs: 20_000,
  clockMaxOffsetMs: 120_000,
  clockDriftPpm: 50,
  scanJitterMs: 200,
  lossRate: 0.002,
  duplicateRate: 0.001,
  latencyMedianMs: 40,
  latencySigma: 0.8,
  stallShare: 0.001,
  stallMaxMs: 20_000,
  outagesPerAgentDay: 1,
  outageMeanMs: 10 * 60_000,
  outageReplayShare: 0.9,
});

/** Longest outage drawn by the default process. */
export const MAX_OUTAGE_MS = 6 * 3_600_000;

const share = z.number().min(0).max(1);

export const DeliveryOptionsSchema = z
  .object({
    clockUnsyncedShare: share,
    clockSyncedSdMs: z.number().min(0).max(60_000),
    clockUnsyncedSdMs: z.number().min(0).max(86_400_000),
    clockMaxOffsetMs: z.number().min(0).max(86_400_000),
    clockDriftPpm: z.number().min(0).max(10_000),
    scanJitterMs: z.number().min(0).max(60_000),
    lossRate: share,
    duplicateRate: share,
    latencyMedianMs: z.number().min(0).max(60_000),
    latencySigma: z.number().min(0).max(5),
    stallShare: share,
    stallMaxMs: z.number().min(0).max(3_600_000),
    outagesPerAgentDay: z.number().min(0).max(1000),
    outageMeanMs: z.number().min(1000).max(MAX_OUTAGE_MS),
    outageReplayShare: share,
  })
  .strict();

/** Flag of `storeloop simulate` → option, with the range the flag accepts (the schema's). */
export const DELIVERY_FLAGS = [
  { flag: 'clock-unsynced-share', key: 'clockUnsyncedShare', min: 0, max: 1, help: 'share of sources whose clock is not NTP-synchronised (0-1)' },
  { flag: 'clock-synced-sd', key: 'clockSyncedSdMs', min: 0, max: 60_000, help: "standard deviation of a synchronised clock's offset, ms" },
  { flag: 'clock-unsynced-sd', key: 'clockUnsyncedSdMs', min: 0, max: 86_400_000, help: "standard deviation of an unsynchronised clock's offset, ms" },
  { flag: 'clock-max-offset', key: 'clockMaxOffsetMs', min: 0, max: 86_400_000, help: 'largest offset of an unsynchronised clock, drift included, ms' },
  { flag: 'clock-drift', key: 'clockDriftPpm', min: 0, max: 10_000, help: 'largest drift of an unsynchronised clock, ppm' },
  { flag: 'scan-jitter', key: 'scanJitterMs', min: 0, max: 60_000, help: "a scan's true instant within ± this of its tick, ms" },
  { flag: 'loss-rate', key: 'lossRate', min: 0, max: 1, help: 'chance a data message never arrives (0-1)' },
  { flag: 'duplicate-rate', key: 'duplicateRate', min: 0, max: 1, help: 'chance a data message is published twice, same mid (0-1)' },
  { flag: 'latency-median', key: 'latencyMedianMs', min: 0, max: 60_000, help: 'median delivery latency, ms' },
  { flag: 'latency-sigma', key: 'latencySigma', min: 0, max: 5, help: "sigma of the latency's log-normal" },
  { flag: 'stall-share', key: 'stallShare', min: 0, max: 1, help: 'chance a message is held back by a stall (0-1)' },
  { flag: 'stall-max', key: 'stallMaxMs', min: 0, max: 3_600_000, help: 'longest stall, ms' },
  { flag: 'outages-per-day', key: 'outagesPerAgentDay', min: 0, max: 1000, help: 'mean uplink outages per edge agent per day' },
  { flag: 'outage-mean', key: 'outageMeanMs', min: 1000, max: MAX_OUTAGE_MS, help: 'mean length of an uplink outage, ms' },
  { flag: 'outage-replay-share', key: 'outageReplayShare', min: 0, max: 1, help: 'share of outages replayed on reconnect, the rest lost (0-1)' },
] as const satisfies ReadonlyArray<{ flag: string; key: keyof DeliveryOptions; min: number; max: number; help: string }>;

/**
 * An explicit fault of some sources, times in ms from the window's start. `sourceIds` names sensors,
 * touchpoints, devices, or agents (an agent stands for itself and every source behind it).
 * `offline`: nothing of theirs arrives in [from, to); with `replay` it is delivered, in order and with
 * its original ts, at `to` (clipped to the window's end), else it is lost.
 * `clock_skew`: their clocks read `offsetMs` more than they would in [from, to).
 */
export type SourceFault =
  | { kind: 'offline'; sourceIds: string[]; from: number; to: number; replay: boolean }
  | { kind: 'clock_skew'; sourceIds: string[]; from: number; to: number; offsetMs: number };

const span = { sourceIds: z.array(z.string().min(1)).min(1), from: z.number().int().min(0), to: z.number().int().min(0) };
export const SourceFaultSchema = z
  .discriminatedUnion('kind', [
    z.object({ kind: z.literal('offline'), ...span, replay: z.boolean() }).strict(),
    z.object({ kind: z.literal('clock_skew'), ...span, offsetMs: z.number().int().min(-86_400_000).max(86_400_000) }).strict(),
  ])
  .refine((f) => f.from < f.to, 'expected from < to');
export const SourceFaultsSchema = z.array(SourceFaultSchema).max(10_000);

/** Problems of faults against the store and the window: unknown source ids, times past the window's end. */
export function checkSourceFaults(faults: readonly SourceFault[], store: StoreConfig, durationMs: number): string[] {
  const known = new Set(
    [...store.sensors, ...store.touchpoints, ...store.devices, ...store.agents].map((s) => s.id).concat(store.agents.length > 0 ? [] : ['sim-agent']),
  );
  const problems: string[] = [];
  faults.forEach((fault, i) => {
    for (const id of fault.sourceIds) if (!known.has(id)) problems.push(`sourceFaults.${i}.sourceIds: no source '${id}' in store ${store.id}`);
    if (fault.from >= durationMs) problems.push(`sourceFaults.${i}.from: expected less than durationMs (${durationMs}), got ${fault.from}`);
  });
  return problems;
}

/** No delivery effects: every clock exact, nothing lost, doubled, delayed or cut off (a model test's baseline). */
export const IDEAL_DELIVERY_OPTIONS: Readonly<DeliveryOptions> = Object.freeze({
  ...DEFAULT_DELIVERY_OPTIONS,
  clockUnsyncedShare: 0,
  clockSyncedSdMs: 0,
  scanJitterMs: 0,
  lossRate: 0,
  duplicateRate: 0,
  latencyMedianMs: 0,
  stallShare: 0,
  outagesPerAgentDay: 0,
});
