/**
 * Agent status: a retained `online` status per agent at the window's start, a retained `offline`
 * at its end, and the `offline` last will the broker publishes if the simulator dies in between.
 */
import type { StoreConfig } from '../config/index.js';
import { CONTRACT_VERSION } from '../protocol/index.js';
import { RANK_FIRST, RANK_LAST, messageId, type DraftMessage, type PayloadByKind } from './messages.js';
import { createRng } from './prng.js';

/** Version string the simulated agents report. */
export const SIMULATOR_VERSION = 'storeloop-sim/0.1.0';
/** Agent that speaks for a store whose config names none. */
export const DEFAULT_AGENT_ID = 'sim-agent';

/** The agents of the store (or the one stand-in agent). */
export function agentIds(store: StoreConfig): string[] {
  return store.agents.length > 0 ? store.agents.map((a) => a.id) : [DEFAULT_AGENT_ID];
}

export interface StatusParams {
  seed: number;
  store: StoreConfig;
  startMs: number;
  endMs: number;
}

/** Online at the start and offline at the end, for every agent. */
export function statusMessages(params: StatusParams): DraftMessage[] {
  return agentIds(params.store).flatMap((agent): DraftMessage[] => {
    const uptimeAtStartS = Math.round(createRng(params.seed, 'uptime', agent).uniform(3600, 30 * 86_400));
    const online: PayloadByKind['status'] = {
      ts: params.startMs,
      state: 'online',
      version: SIMULATOR_VERSION,
      uptime_s: uptimeAtStartS,
      queue_depth: 0,
      queue_bytes: 0,
      clock_synced: true,
      detail: 'simulated agent',
    };
    const offline: PayloadByKind['status'] = {
      ts: params.endMs,
      state: 'offline',
      version: SIMULATOR_VERSION,
      uptime_s: uptimeAtStartS + Math.round((params.endMs - params.startMs) / 1000),
      detail: 'simulation finished',
    };
    return [
      { kind: 'status', sourceId: agent, ts: params.startMs, rank: RANK_FIRST, retain: true, payload: online },
      { kind: 'status', sourceId: agent, ts: params.endMs, rank: RANK_LAST, retain: true, payload: offline },
    ];
  });
}

/**
 * The last will's payload. It has no `ts`: it was written at connect time and the gateway stamps an
 * offline status with its arrival time (protocol/messages.ts, StatusMessageSchema).
 */
export function willPayload(agent: string, runId: string): PayloadByKind['status'] {
  return { v: CONTRACT_VERSION, mid: messageId(agent, runId, 'will'), state: 'offline', detail: 'connection lost' };
}
