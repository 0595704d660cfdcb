/**
 * Per-device state between polls: when each device last changed, what beacon it is, its RSSI samples.
 *
 * BlueZ keeps a Device1 object, with its last RSSI and advertising data, for a while after the device
 * has gone (until its temporary-device timeout), so "it is on the bus" does not mean "it is here".
 * A device counts as present while something observable changed within `departedAfterMs`: RSSI,
 * TxPower, ManufacturerData or ServiceData. With the LE filter set, BlueZ applies no RSSI delta
 * threshold (org.bluez.Adapter.rst, SetDiscoveryFilter), so a device in range moves by a dB now and
 * then and an advertiser with counters (Eddystone-TLM) changes its data; a device that left freezes.
 * Pure: time comes in as arguments.
 */
import { isIdentityFrame, parseAdvertisement, type FrameResult, type IdentityFrame } from './beacon-parser.js';
import type { DeviceReading } from './bluez-values.js';
import { RssiWindow } from './rssi-window.js';

export interface DeviceTrackerOptions {
  smoothingWindowMs: number;
  departedAfterMs: number;
}

/** A device seen recently enough to be reported. */
export interface PresentDevice {
  key: string;
  /** Raw address: only for pseudonymise, never logged or emitted. */
  address?: string;
  /** Smoothed RSSI, dBm. */
  rssi: number;
  txPower?: number;
  identity?: IdentityFrame;
  lastUpdateAt: number;
}

export interface Observation {
  /** Frames of advertising data that differs from the previous poll (empty when it did not change). */
  newFrames: readonly FrameResult[];
}

interface DeviceState {
  address?: string;
  rssi?: number;
  txPower?: number;
  valueKey: string;
  dataKey: string;
  lastUpdateAt: number;
  /** The last frame that named the beacon: Eddystone interleaves UID with URL/TLM frames and BlueZ keeps only the latest. */
  identity?: IdentityFrame;
  window: RssiWindow;
}

export class DeviceTracker {
  private readonly devices = new Map<string, DeviceState>();

  constructor(private readonly options: DeviceTrackerOptions) {}

  /** Records one poll of a device; the first poll of a device counts as an update. */
  observe(key: string, reading: DeviceReading, now: number): Observation {
    const dataKey = advertisementKey(reading);
    const valueKey = `${reading.rssi ?? ''}|${reading.txPower ?? ''}|${dataKey}`;
    let state = this.devices.get(key);
    const dataChanged = state === undefined || state.dataKey !== dataKey;
    if (state === undefined) {
      state = { valueKey, dataKey, lastUpdateAt: now, window: new RssiWindow(this.options.smoothingWindowMs) };
      this.devices.set(key, state);
    } else if (state.valueKey !== valueKey) {
      // back after having left: its old samples describe where it was, not where it is
      if (now - state.lastUpdateAt > this.options.departedAfterMs) state.window.clear();
      state.lastUpdateAt = now;
    }
    state.valueKey = valueKey;
    state.dataKey = dataKey;
    state.address = reading.address;
    state.rssi = reading.rssi;
    state.txPower = reading.txPower;
    if (reading.rssi !== undefined) state.window.add(now, reading.rssi);
    if (!dataChanged) return { newFrames: [] };
    const newFrames = parseAdvertisement(reading.advertisement);
    const identity = newFrames.find((r): r is { ok: true; frame: IdentityFrame } => r.ok && isIdentityFrame(r.frame));
    if (identity) state.identity = identity.frame;
    return { newFrames };
  }

  /** Forgets a device that left the bus (BlueZ removed its object). */
  forget(key: string): void {
    this.devices.delete(key);
  }

  keys(): string[] {
    return [...this.devices.keys()];
  }

  get size(): number {
    return this.devices.size;
  }

  identityOf(key: string): IdentityFrame | undefined {
    return this.devices.get(key)?.identity;
  }

  /** Devices with a current RSSI that changed within `departedAfterMs`, with their smoothed RSSI. */
  present(now: number): PresentDevice[] {
    const out: PresentDevice[] = [];
    for (const [key, s] of this.devices) {
      if (s.rssi === undefined || now - s.lastUpdateAt > this.options.departedAfterMs) continue;
      out.push({
        key,
        ...(s.address === undefined ? {} : { address: s.address }),
        rssi: s.window.median(now) ?? s.rssi,
        ...(s.txPower === undefined ? {} : { txPower: s.txPower }),
        ...(s.identity === undefined ? {} : { identity: s.identity }),
        lastUpdateAt: s.lastUpdateAt,
      });
    }
    return out;
  }
}

function advertisementKey(reading: DeviceReading): string {
  const md = [...reading.advertisement.manufacturerData].sort(([a], [b]) => a - b).map(([k, v]) => `${k}=${Buffer.from(v).toString('hex')}`);
  const sd = [...reading.advertisement.serviceData].sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => `${k}=${Buffer.from(v).toString('hex')}`);
  return `${md.join(',')};${sd.join(',')}`;
}
