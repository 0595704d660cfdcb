/**
 * The health of every configured source of a store, from what it sent: when it was last seen, its
 * latest status (an edge agent's queue depth among it) and its latest battery readings. A beacon's
 * Eddystone-TLM battery reaches the gateway as the `environment` event of the device its edge agent
 * maps it to (`tlmDeviceIds`, edge/ble/tlm-telemetry.ts), so it is that device's `battery_mv`.
 *
 * Memory is bounded by the config: one entry per configured sensor, touchpoint, device and agent
 * (the ingest pipeline refuses any other source before it is logged), whatever the traffic.
 */
import type { MessageKind, StatusMessage } from '../../protocol/index.js';
import type { StoreConfig } from '../../config/index.js';
import type { LogEntry } from '../log/log-record.js';

/** A source seen within this long is online, unless its own status since says offline (GET /api/v1/stores/{store}/devices). */
export const DEFAULT_ONLINE_WINDOW_MS = 300_000;

export type SourceRole = 'sensor' | 'touchpoint' | 'device' | 'agent';

interface Reading {
  value: number;
  /** Event time of the message that carried it (epoch ms). */
  at: number;
}

interface SourceStatus {
  state: StatusMessage['state'];
  /** When the source entered this state (the event time of the first status that said it). */
  since: number;
  /** The event time of the latest status. */
  at: number;
  version: string | null;
  detail: string | null;
  queueDepth: number | null;
  queueBytes: number | null;
}

interface SourceHealth {
  role: SourceRole;
  type: string | null;
  zone: string | null;
  name: string | null;
  /** Latest time the source was heard from: its messages' event time, capped at their arrival (a clock ahead does not make it seen in the future). An offline status does not count. */
  lastSeenAt: number | null;
  /** Arrival time at the gateway of its latest message, of any kind. */
  lastMessageAt: number | null;
  status: SourceStatus | null;
  batteryPct: Reading | null;
  batteryMv: Reading | null;
}

export interface ReadingView {
  value: number;
  at: string;
}

export interface SourceHealthView {
  id: string;
  role: Exclude<SourceRole, 'agent'>;
  type: string | null;
  zone: string | null;
  zoneName: string | null;
  name: string | null;
  lastSeenAt: string | null;
  online: boolean;
  status: { state: StatusMessage['state']; since: string; detail: string | null } | null;
  battery: { pct: ReadingView | null; mv: ReadingView | null };
}

export interface AgentHealthView {
  id: string;
  zone: string | null;
  state: StatusMessage['state'] | null;
  since: string | null;
  lastMessageAt: string | null;
  online: boolean;
  version: string | null;
  detail: string | null;
  /** The agent's store-and-forward queue as its latest status reported it; null when it reported none. */
  queue: { depth: number; bytes: number | null; at: string } | null;
}

export interface StoreDevicesView {
  agents: AgentHealthView[];
  sources: SourceHealthView[];
}

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());
const reading = (r: Reading | null): ReadingView | null => (r === null ? null : { value: r.value, at: new Date(r.at).toISOString() });

/** The later of two readings by event time: a message an edge queue sends late does not replace a newer one. */
function later(held: Reading | null, value: number | undefined, at: number): Reading | null {
  if (value === undefined) return held;
  return held === null || at >= held.at ? { value, at } : held;
}

export class DeviceHealth {
  /** store id → source id → health; filled from the config once. */
  private readonly stores = new Map<string, Map<string, SourceHealth>>();

  constructor(private readonly storeConfigs: ReadonlyArray<StoreConfig>) {
    for (const store of storeConfigs) {
      const sources = new Map<string, SourceHealth>();
      const add = (id: string, role: SourceRole, type: string | null, zone: string | undefined, name: string | undefined) =>
        sources.set(id, {
          role,
          type,
          zone: zone ?? null,
          name: name ?? null,
          lastSeenAt: null,
          lastMessageAt: null,
          status: null,
          batteryPct: null,
          batteryMv: null,
        });
      for (const s of store.sensors) add(s.id, 'sensor', s.type, s.zone, undefined);
      for (const t of store.touchpoints) add(t.id, 'touchpoint', t.type, t.zone, t.name);
      for (const d of store.devices) add(d.id, 'device', d.type, d.zone, undefined);
      for (const a of store.agents) add(a.id, 'agent', null, a.zone, undefined);
      this.stores.set(store.id, sources);
    }
  }

  /** A logged message of a configured source (called for every message the live state counts). */
  record<K extends MessageKind>(logged: LogEntry<K>): void {
    // the entry of one kind K is one member of the union: widened so `kind` narrows `message` below
    const entry = logged as LogEntry<MessageKind>;
    const health = this.stores.get(entry.source.storeId)?.get(entry.source.sourceId);
    if (health === undefined) return;
    health.lastMessageAt = Math.max(health.lastMessageAt ?? 0, entry.receivedAt);
    const offline = entry.kind === 'status' && entry.message.state === 'offline';
    if (!offline) health.lastSeenAt = Math.max(health.lastSeenAt ?? 0, Math.min(entry.eventTime, entry.receivedAt));
    if (entry.kind === 'status') {
      const m = entry.message;
      const held = health.status;
      if (held !== null && entry.eventTime < held.at) return; // an older status sent late
      health.status = {
        state: m.state,
        since: held !== null && held.state === m.state ? held.since : entry.eventTime,
        at: entry.eventTime,
        version: m.version ?? null,
        detail: m.detail ?? null,
        queueDepth: m.queue_depth ?? null,
        queueBytes: m.queue_bytes ?? null,
      };
    } else if (entry.kind === 'device' && entry.message.event.type === 'environment') {
      const { event } = entry.message;
      health.batteryPct = later(health.batteryPct, event.battery_pct, entry.eventTime);
      health.batteryMv = later(health.batteryMv, event.battery_mv, entry.eventTime);
    }
  }

  /** Every configured source and agent of a store with its health at `now`; undefined for an unknown store. */
  storeView(storeId: string, now: number, onlineWindowMs: number): StoreDevicesView | undefined {
    const config = this.storeConfigs.find((s) => s.id === storeId);
    const sources = this.stores.get(storeId);
    if (config === undefined || sources === undefined) return undefined;
    const zoneNames = new Map(config.zones.map((z) => [z.id, z.name ?? null]));
    const isOnline = (h: SourceHealth): boolean =>
      h.lastSeenAt !== null && now - h.lastSeenAt <= onlineWindowMs && !(h.status?.state === 'offline' && h.status.at >= h.lastSeenAt);
    const view: StoreDevicesView = { agents: [], sources: [] };
    for (const [id, h] of sources) {
      if (h.role === 'agent') {
        const s = h.status;
        view.agents.push({
          id,
          zone: h.zone,
          state: s?.state ?? null,
          since: iso(s?.since ?? null),
          lastMessageAt: iso(h.lastMessageAt),
          online: isOnline(h),
          version: s?.version ?? null,
          detail: s?.detail ?? null,
          queue: s === null || s.queueDepth === null ? null : { depth: s.queueDepth, bytes: s.queueBytes, at: new Date(s.at).toISOString() },
        });
      } else {
        view.sources.push({
          id,
          role: h.role,
          type: h.type,
          zone: h.zone,
          zoneName: h.zone === null ? null : (zoneNames.get(h.zone) ?? null),
          name: h.name,
          lastSeenAt: iso(h.lastSeenAt),
          online: isOnline(h),
          status: h.status === null ? null : { state: h.status.state, since: new Date(h.status.since).toISOString(), detail: h.status.detail },
          battery: { pct: reading(h.batteryPct), mv: reading(h.batteryMv) },
        });
      }
    }
    return view;
  }
}
