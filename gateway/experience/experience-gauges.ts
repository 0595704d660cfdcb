/** The experience engine's gauges: open and static devices and the watermark, per store. */
import { Gauge, type Registry } from 'prom-client';

import type { StoreWindow } from './store-window.js';
import type { WifiVisits } from './wifi-visits.js';

export function registerExperienceGauges(registers: Registry[], stores: ReadonlyMap<string, { window: StoreWindow; wifi: WifiVisits }>): void {
  new Gauge({
    name: 'storeloop_experience_open_devices',
    help: 'Devices with a visit the engine has not made final yet',
    labelNames: ['store'],
    registers,
    collect() {
      this.reset();
      for (const [id, s] of stores) this.set({ store: id }, s.window.openDevices);
    },
  });
  new Gauge({
    name: 'storeloop_experience_static_devices',
    help: 'Devices classed static (heard longer than maxVisitMinutes without a gap): left out of visits and occupancy',
    labelNames: ['store'],
    registers,
    collect() {
      this.reset();
      for (const [id, s] of stores) this.set({ store: id }, s.window.staticDevices);
    },
  });
  new Gauge({
    name: 'storeloop_experience_watermark_seconds',
    help: 'Event time up to which the engine has every source of the store (epoch seconds)',
    labelNames: ['store'],
    registers,
    collect() {
      this.reset();
      for (const [id, s] of stores) {
        const mark = s.window.watermark();
        if (mark !== null) this.set({ store: id }, mark / 1000);
      }
    },
  });
  new Gauge({
    name: 'storeloop_experience_open_wifi_tracks',
    help: 'Wifi tracks (a phone, its rotated pseudonyms linked) the engine has not closed yet: the links are held only while a track is open',
    labelNames: ['store'],
    registers,
    collect() {
      this.reset();
      for (const [id, s] of stores) this.set({ store: id }, s.wifi.openTracks);
    },
  });
}
