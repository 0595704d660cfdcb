/**
 * What zone assignment needs of a store's config: zone rectangles, BLE scanner positions with their
 * calibration, adjacency and the entrance zones (those with a door). Config geometry only.
 */
import { DEFAULT_RSSI_AT_1M_DBM, layoutAdjacency, type Rect, type StoreConfig } from '../../config/index.js';

export interface Scanner {
  id: string;
  x: number;
  y: number;
  /** RSSI this scanner reads from a phone 1 m away, dBm (the layout's rssiAt1m or the BLE default). */
  rssiAt1m: number;
}

export interface PresenceStore {
  /** Zone ids in config order. */
  zones: string[];
  rects: Map<string, Rect>;
  scanners: Map<string, Scanner>;
  /** Zone id → adjacent zone ids. */
  adjacency: Record<string, string[]>;
  /** Zones with a door. */
  entrances: Set<string>;
}

/** The store model of a config store; throws when the store has no layout (no geometry to assign zones with). */
export function presenceStore(store: Pick<StoreConfig, 'id' | 'zones' | 'sensors' | 'layout'>): PresenceStore {
  const layout = store.layout;
  if (layout === undefined) throw new Error(`store '${store.id}' has no layout: zone assignment needs the floor plan`);
  const zones = store.zones.map((z) => z.id);
  const rects = new Map<string, Rect>();
  for (const id of zones) {
    const rect = layout.zones[id]?.rect;
    if (rect === undefined) throw new Error(`zone '${id}' has no rectangle in the layout`);
    rects.set(id, rect);
  }
  const scanners = new Map<string, Scanner>();
  for (const sensor of store.sensors) {
    if (sensor.type !== 'ble') continue;
    const at = layout.sensors[sensor.id];
    if (at === undefined) continue;
    scanners.set(sensor.id, { id: sensor.id, x: at.x, y: at.y, rssiAt1m: at.rssiAt1m ?? DEFAULT_RSSI_AT_1M_DBM.ble });
  }
  return { zones, rects, scanners, adjacency: layoutAdjacency(layout, zones), entrances: new Set(layout.doors.map((d) => d.zone)) };
}
