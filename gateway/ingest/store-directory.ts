/** Resolves a (store, source) pair from a topic against the configured store layout. */
import { containsMacAddress, kindSpec, macAddressIdDetail, type MessageKind, type SourceRole } from '../../protocol/index.js';
import { SENSOR_TYPES, type Config, type StoreConfig } from '../../config/index.js';
import type { Rejection } from './rejection.js';

export interface ResolvedSource {
  storeId: string;
  sourceId: string;
  role: SourceRole;
  /** ble | wifi for sensors, kiosk | mirror | … for touchpoints, people_counter | … for devices. */
  type: string | null;
  zone: string | null;
}

/**
 * Which sensors may publish each kind, by their configured type, when the kind's roles (protocol's
 * kind table) include sensors: a sensor publishes the kind of its type, and every sensor its status.
 */
const SENSOR_TYPES_BY_KIND: Record<MessageKind, ReadonlyArray<string>> = {
  ble: ['ble'],
  wifi: ['wifi'],
  device: [],
  touchpoint: [],
  status: SENSOR_TYPES,
};

export class StoreDirectory {
  private readonly sources = new Map<string, Map<string, ResolvedSource>>();

  constructor(private readonly stores: ReadonlyArray<StoreConfig>) {
    for (const store of stores) {
      const byId = new Map<string, ResolvedSource>();
      const add = (role: SourceRole, id: string, type: string | null, zone: string | undefined) =>
        byId.set(id, { storeId: store.id, sourceId: id, role, type, zone: zone ?? null });
      store.sensors.forEach((s) => add('sensor', s.id, s.type, s.zone));
      store.touchpoints.forEach((t) => add('touchpoint', t.id, t.type, t.zone));
      store.devices.forEach((d) => add('device', d.id, d.type, d.zone));
      store.agents.forEach((a) => add('agent', a.id, null, a.zone));
      this.sources.set(store.id, byId);
    }
  }

  static fromConfig(config: Config): StoreDirectory {
    return new StoreDirectory(config.stores);
  }

  hasStore(storeId: string): boolean {
    return this.sources.has(storeId);
  }

  listStores(): ReadonlyArray<StoreConfig> {
    return this.stores;
  }

  /** The source behind a topic, or the rejection that says why there is none. */
  resolve(storeId: string, kind: MessageKind, sourceId: string): ResolvedSource | Rejection {
    const byId = this.sources.get(storeId);
    if (!byId) {
      // dash, dot and bare spellings of a MAC address pass the id format: they are only unknown ids
      if (containsMacAddress(storeId)) return { reason: 'store_unknown', detail: macAddressIdDetail('store id') };
      return { reason: 'store_unknown', detail: `unknown store '${storeId}' (not under stores[].id)` };
    }
    const source = byId.get(sourceId);
    if (!source) {
      if (containsMacAddress(sourceId)) return { reason: 'source_unknown', detail: macAddressIdDetail('source id') };
      return { reason: 'source_unknown', detail: `unknown source '${sourceId}' in store '${storeId}' (not under its sensors, touchpoints, devices or agents)` };
    }
    const typeMismatch = source.role === 'sensor' && !SENSOR_TYPES_BY_KIND[kind].includes(source.type ?? '');
    if (!kindSpec(kind).roles.includes(source.role) || typeMismatch) {
      return { reason: 'source_kind_mismatch', detail: `${source.role} '${sourceId}'${source.type ? ` (${source.type})` : ''} may not publish '${kind}'` };
    }
    return source;
  }
}

export function isRejection(value: ResolvedSource | Rejection): value is Rejection {
  return 'reason' in value;
}
