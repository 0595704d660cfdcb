/**
 * Live counts per store for the first page of the gateway: who is in the store now (by zone), footfall
 * from the people counters, recent interactions and the last message per kind. In memory only; the
 * history lives in InfluxDB.
 */
import type { MessageKind } from '../../protocol/index.js';
import type { StoreConfig } from '../../config/index.js';
import type { LogEntry, LogEntryOf } from '../log/log-record.js';
import { DeviceHealth, type StoreDevicesView } from './device-health.js';

/** A device (beacon or phone) not seen for this long has left the zone. One person may carry both, so devices are not people: footfall comes from the counters. */
export const PRESENCE_WINDOW_MS = 60_000;
const INTERACTION_WINDOW_MS = 3_600_000;
/**
 * Devices tracked per store at most: memory stays bounded under a flood of distinct ids (a big store
 * sees a few thousand devices an hour). Past it, new devices are not tracked and the count says so.
 */
export const MAX_DEVICES_TRACKED = 20_000;
/** Pruning walks every device seen: at most this often, whatever the message rate. */
const PRUNE_INTERVAL_MS = 1_000;

interface StoreLive {
  lastSeen: Map<string, { zone: string; at: number; rssi: number }>;
  /** Sightings of new devices not tracked because MAX_DEVICES_TRACKED was reached (since the last prune). */
  untracked: number;
  footfallIn: number;
  footfallOut: number;
  interactions: Array<{ at: number; touchpoint: string; action: string }>;
  messages: Record<MessageKind, number>;
  lastMessageAt: number | null;
  agents: Map<string, { state: string; at: number }>;
}

export interface StoreLiveSnapshot {
  store: string;
  name: string | null;
  devicesNow: number;
  /** True when more devices were seen than are tracked (MAX_DEVICES_TRACKED): devicesNow is a lower bound. */
  devicesCapped: boolean;
  zones: Array<{ id: string; name: string | null; devicesNow: number }>;
  footfall: { in: number; out: number };
  interactionsLastHour: Array<{ touchpoint: string; count: number }>;
  messages: Record<MessageKind, number>;
  lastMessageAt: string | null;
  agents: Array<{ id: string; state: string; since: string }>;
}

/** How a logged message of each kind changes its store's live state: a new kind is an entry here the compiler demands. */
type LiveReducer<K extends MessageKind> = (live: StoreLive, entry: LogEntryOf<K>) => void;

const LIVE_REDUCERS: { [K in MessageKind]: LiveReducer<K> } = {
  ble: (live, entry) => trackDevices(live, entry.source.zone, entry.message.sightings, entry.eventTime),
  wifi: (live, entry) => trackDevices(live, entry.source.zone, entry.message.observations, entry.eventTime),
  device: (live, { message: { event } }) => {
    if (event.type === 'people_count') {
      live.footfallIn += event.in;
      live.footfallOut += event.out;
    }
  },
  touchpoint: (live, entry) => {
    live.interactions.push({ at: entry.eventTime, touchpoint: entry.source.sourceId, action: entry.message.action });
  },
  status: (live, entry) => {
    live.agents.set(entry.source.sourceId, { state: entry.message.state, at: entry.eventTime });
  },
};

/** Devices (beacon ids, phone pseudonyms) a sensor of `zone` heard at `eventTimeMs`; a sensor without a zone places nobody. */
function trackDevices(live: StoreLive, zone: string | null, items: ReadonlyArray<{ id: string; rssi: number }>, eventTimeMs: number): void {
  if (!zone) return;
  for (const item of items) {
    const seen = live.lastSeen.get(item.id);
    // strongest recent signal wins the zone
    if (!seen) {
      if (live.lastSeen.size < MAX_DEVICES_TRACKED) live.lastSeen.set(item.id, { zone, at: eventTimeMs, rssi: item.rssi });
      else live.untracked += 1;
    } else if (seen.at < eventTimeMs - 10_000 || item.rssi > seen.rssi || seen.zone === zone) {
      seen.zone = zone;
      seen.at = Math.max(eventTimeMs, seen.at);
      seen.rssi = item.rssi;
    }
  }
}

export class LiveState {
  private readonly stores = new Map<string, StoreLive>();
  /** Last seen, status and battery of every configured source (device-health.ts). */
  private readonly health: DeviceHealth;
  private lastPruneAt = 0;

  constructor(
    private readonly storeConfigs: ReadonlyArray<StoreConfig>,
    private readonly now: () => number = Date.now,
  ) {
    this.health = new DeviceHealth(storeConfigs);
    for (const s of storeConfigs) {
      this.stores.set(s.id, {
        lastSeen: new Map(),
        untracked: 0,
        footfallIn: 0,
        footfallOut: 0,
        interactions: [],
        messages: { ble: 0, wifi: 0, device: 0, touchpoint: 0, status: 0 },
        lastMessageAt: null,
        agents: new Map(),
      });
    }
  }

  /**
   * A message is durable in the event log: it counts from now on. Called once its append has resolved
   * and never for a duplicate, so a refused publish that is resent counts once.
   */
  recordLogged<K extends MessageKind>(entry: LogEntry<K>): void {
    const live = this.stores.get(entry.source.storeId);
    if (!live) return;
    // prune as we go, so memory stays bounded whether or not anyone looks at the page
    const now = this.now();
    if (now - this.lastPruneAt >= PRUNE_INTERVAL_MS) this.prune();
    live.messages[entry.kind] += 1;
    live.lastMessageAt = now;
    const reduce: LiveReducer<K> = LIVE_REDUCERS[entry.kind];
    reduce(live, entry);
    this.health.record(entry);
  }

  /** The agents and configured sources of a store with their health now; undefined for a store not in the config. */
  devices(storeId: string, onlineWindowMs: number): StoreDevicesView | undefined {
    return this.health.storeView(storeId, this.now(), onlineWindowMs);
  }

  private prune(): void {
    const now = this.now();
    this.lastPruneAt = now;
    for (const live of this.stores.values()) {
      for (const [id, seen] of live.lastSeen) if (seen.at < now - PRESENCE_WINDOW_MS) live.lastSeen.delete(id);
      if (live.lastSeen.size < MAX_DEVICES_TRACKED) live.untracked = 0;
      live.interactions = live.interactions.filter((i) => i.at >= now - INTERACTION_WINDOW_MS);
    }
  }

  snapshot(): StoreLiveSnapshot[] {
    this.prune();
    return this.storeConfigs.map((config) => {
      const live = this.stores.get(config.id) as StoreLive;
      const byZone = new Map<string, number>();
      for (const seen of live.lastSeen.values()) byZone.set(seen.zone, (byZone.get(seen.zone) ?? 0) + 1);
      const byTouchpoint = new Map<string, number>();
      for (const i of live.interactions) byTouchpoint.set(i.touchpoint, (byTouchpoint.get(i.touchpoint) ?? 0) + 1);
      return {
        store: config.id,
        name: config.name ?? null,
        devicesNow: live.lastSeen.size,
        devicesCapped: live.untracked > 0,
        zones: config.zones.map((z) => ({ id: z.id, name: z.name ?? null, devicesNow: byZone.get(z.id) ?? 0 })),
        footfall: { in: live.footfallIn, out: live.footfallOut },
        interactionsLastHour: [...byTouchpoint].map(([touchpoint, count]) => ({ touchpoint, count })),
        messages: { ...live.messages },
        lastMessageAt: live.lastMessageAt ? new Date(live.lastMessageAt).toISOString() : null,
        agents: [...live.agents].map(([id, a]) => ({ id, state: a.state, since: new Date(a.at).toISOString() })),
      };
    });
  }
}
