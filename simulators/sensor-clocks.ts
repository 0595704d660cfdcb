/**
 * Every source's own clock. A synchronised clock (NTP) sits a few ms off true time; an unsynchronised
 * one starts up to minutes off and drifts. A message is stamped with its source's clock at its true
 * instant, and a BLE or wifi scan report's stamp jitters around the scan's instant. Explicit
 * `clock_skew` faults add their offset while they last. Each source draws from its own stream
 * (createRng(seed, 'clock', id), createRng(seed, 'scan-jitter', id)).
 */
import type { StoreConfig } from '../config/index.js';
import type { DeliveryOptions, SourceFault } from './delivery-options.js';
import type { SimMessage } from './messages.js';
import { createRng, type Rng } from './prng.js';
import { agentIds } from './status.js';

/** One source's clock: stamped = true + offsetMs + driftPpm·1e-6·(true − windowStart), clipped to ±clockMaxOffsetMs, plus any clock_skew fault. */
export interface ClockTruth {
  synced: boolean;
  /** Offset at the window's start, ms (rounded). */
  offsetMs: number;
  /** Drift, ppm (0 for a synchronised clock: NTP steers it). */
  driftPpm: number;
}

/** Every source id of the store: sensors, touchpoints, devices and agents (the stand-in agent when it lists none). */
export function storeSourceIds(store: StoreConfig): string[] {
  return [...store.sensors, ...store.touchpoints, ...store.devices].map((s) => s.id).concat(agentIds(store));
}

/** The agent a source's traffic goes through: the agent of its zone, else the store's first (an agent is its own). */
export function agentOf(store: StoreConfig, sourceId: string): string {
  const agents = agentIds(store);
  if (agents.includes(sourceId)) return sourceId;
  const zone = [...store.sensors, ...store.touchpoints, ...store.devices].find((s) => s.id === sourceId)?.zone;
  return (zone !== undefined ? store.agents.find((a) => a.zone === zone)?.id : undefined) ?? (agents[0] as string);
}

/** The source ids a fault names: each id, and for an agent every source behind it. */
export function faultTargets(store: StoreConfig, fault: SourceFault): Set<string> {
  const named = new Set(fault.sourceIds);
  return new Set(storeSourceIds(store).filter((id) => named.has(id) || named.has(agentOf(store, id))));
}

export interface ClockParams {
  seed: number;
  store: StoreConfig;
  startMs: number;
  endMs: number;
  delivery: DeliveryOptions;
  sourceFaults: readonly SourceFault[];
}

/** The clocks of a store's sources. */
export class SensorClocks {
  readonly clocks = new Map<string, ClockTruth>();
  private readonly skews = new Map<string, Array<{ from: number; to: number; offsetMs: number }>>();

  constructor(private readonly params: ClockParams) {
    const { seed, store, delivery } = params;
    for (const id of storeSourceIds(store)) {
      const rng = createRng(seed, 'clock', id);
      const synced = !rng.chance(delivery.clockUnsyncedShare);
      const offset = rng.normal(0, synced ? delivery.clockSyncedSdMs : delivery.clockUnsyncedSdMs);
      const drift = synced ? 0 : rng.uniform(-delivery.clockDriftPpm, delivery.clockDriftPpm);
      // `|| 0`: no -0 (it would not survive a JSON round trip)
      this.clocks.set(id, { synced, offsetMs: Math.round(clip(offset, delivery.clockMaxOffsetMs)) || 0, driftPpm: Math.round(drift * 100) / 100 || 0 });
    }
    for (const fault of params.sourceFaults) {
      if (fault.kind !== 'clock_skew') continue;
      for (const id of faultTargets(store, fault)) {
        const list = this.skews.get(id) ?? [];
        list.push({ from: params.startMs + fault.from, to: params.startMs + fault.to, offsetMs: fault.offsetMs });
        this.skews.set(id, list);
      }
    }
  }

  /** What the source's clock reads at the true instant `trueMs` (integer ms). */
  stamp(sourceId: string, trueMs: number): number {
    const clock = this.clocks.get(sourceId);
    if (!clock) return trueMs;
    const drifted = clock.offsetMs + clock.driftPpm * 1e-6 * (trueMs - this.params.startMs);
    let stamped = trueMs + Math.round(clip(drifted, this.params.delivery.clockMaxOffsetMs));
    for (const s of this.skews.get(sourceId) ?? []) if (trueMs >= s.from && trueMs < s.to) stamped += s.offsetMs;
    return stamped;
  }

  synced(sourceId: string): boolean {
    return this.clocks.get(sourceId)?.synced ?? true;
  }

  /** The truth's view: source id → its clock. */
  truth(): Record<string, ClockTruth> {
    return Object.fromEntries([...this.clocks].map(([id, clock]) => [id, { ...clock }]));
  }
}

function clip(value: number, limit: number): number {
  return Math.max(-limit, Math.min(limit, value));
}

/**
 * Messages (in true-time order) stamped by their sources' clocks: `trueTs` is when it happened (a
 * scan's nominal instant, where the radio was evaluated), `ts` and `payload.ts` what the source's
 * clock read, and a scan report's stamp jitters uniformly within ±scanJitterMs of it (the scan window
 * the sightings fall in, the time the scanner takes to stamp its report). An agent's status says
 * whether its clock is synchronised. A payload without `ts` keeps none.
 */
export function applyClocks(messages: readonly SimMessage[], clocks: SensorClocks, params: ClockParams): SimMessage[] {
  return messages.map(clockStamper(clocks, params));
}

/** The stamping of applyClocks, one message at a time (messages in true-time order; it keeps each scanner's jitter). */
export function clockStamper(clocks: SensorClocks, params: ClockParams): (m: SimMessage) => SimMessage {
  const jitter = new Map<string, { rng: Rng; tick: number; jitterMs: number }>();
  const { delivery, seed } = params;
  return (m) => {
    let jitterMs = 0;
    if ((m.kind === 'ble' || m.kind === 'wifi') && delivery.scanJitterMs > 0) {
      let state = jitter.get(m.sourceId);
      if (!state) jitter.set(m.sourceId, (state = { rng: createRng(seed, 'scan-jitter', m.sourceId), tick: Number.NaN, jitterMs: 0 }));
      // the batches of one scan share its stamp
      if (state.tick !== m.ts) {
        state.tick = m.ts;
        state.jitterMs = Math.round(state.rng.uniform(-delivery.scanJitterMs, delivery.scanJitterMs));
      }
      jitterMs = state.jitterMs;
    }
    const ts = clocks.stamp(m.sourceId, m.ts) + jitterMs;
    const payload: Record<string, unknown> = { ...m.payload };
    if ('ts' in m.payload && m.payload.ts !== undefined) payload.ts = ts;
    if (m.kind === 'status' && 'clock_synced' in m.payload) payload.clock_synced = clocks.synced(m.sourceId);
    return { ...m, trueTs: m.ts, sendAt: m.ts, ts, payload } as SimMessage;
  };
}
