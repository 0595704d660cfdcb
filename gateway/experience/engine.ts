/**
 * Zone assignment of BLE devices, put together: the sensors' clocks (clock-offsets.ts), observation
 * windows (observations.ts), the emission model (emission.ts), Viterbi (viterbi.ts) and the segments,
 * minutes and stays (segments.ts). Pure and deterministic: the same sightings give the same result
 * whatever their order.
 */
import { estimateStepClock } from './clock-offsets.js';
import { EmissionModel } from './emission.js';
import { observationWindows, stepCentre, type BleObservation, type DeviceSteps, type StepClock } from './observations.js';
import { DEFAULT_PRESENCE_PARAMS, type PresenceParams } from './params.js';
import { dwellByZone, minuteZones, stays, trackSegments, type Stay, type ZoneSegment } from './segments.js';
import type { PresenceStore } from './store-model.js';
import { viterbi } from './viterbi.js';

export interface DeviceZones {
  device: string;
  /** Zone segments of all the device's tracks, in order. */
  segments: ZoneSegment[];
  /** Zone per clock minute (minute start → zone). */
  minutes: Map<number, string>;
  stays: Stay[];
  /** Dwell per zone over non-passing stays, ms. */
  dwell: Map<string, number>;
}

export interface ZoneAssignment {
  clock: StepClock;
  devices: Map<string, DeviceZones>;
}

/** Splits a device's heard steps into tracks at gaps longer than `maxGapSteps`. */
function tracksOf(steps: DeviceSteps, maxGapSteps: number): number[][] {
  const tracks: number[][] = [];
  let current: number[] = [];
  for (const step of steps.keys()) {
    const last = current[current.length - 1];
    if (last !== undefined && step - last > maxGapSteps) {
      tracks.push(current);
      current = [];
    }
    current.push(step);
  }
  if (current.length > 0) tracks.push(current);
  return tracks;
}

/** Assigns a zone to every heard device (filter ids before or after: store beacons, neighbours). */
export function assignZones(store: PresenceStore, rows: readonly BleObservation[], params: PresenceParams = DEFAULT_PRESENCE_PARAMS): ZoneAssignment {
  const known = rows.filter((r) => store.scanners.has(r.sensor));
  const clock = estimateStepClock(known, params.stepMs, params.maxClockOffsetMs);
  const windows = observationWindows(known, clock);
  const emission = new EmissionModel(store, params);
  const model = {
    ...store,
    zones: store.zones,
    selfTransition: params.selfTransition,
    minStaySteps: params.minStaySteps,
    nonEntrancePrior: params.nonEntrancePrior,
  };
  const devices = new Map<string, DeviceZones>();
  for (const [device, steps] of windows.devices) {
    const segments: ZoneSegment[] = [];
    for (const heardSteps of tracksOf(steps, Math.floor(params.maxGapMs / params.stepMs))) {
      const first = heardSteps[0] as number;
      const last = heardSteps[heardSteps.length - 1] as number;
      const emissions: Array<Float64Array | undefined> = [];
      const centres: number[] = [];
      const heard: boolean[] = [];
      for (let step = first; step <= last; step += 1) {
        const cell = steps.get(step);
        const e = cell === undefined ? undefined : emission.zoneLogLikelihoods(cell, windows.reporting.get(step));
        emissions.push(e);
        heard.push(e !== undefined);
        centres.push(stepCentre(clock, step));
      }
      const path = viterbi(model, emissions).map((z) => store.zones[z] as string);
      segments.push(...trackSegments({ centres, zones: path, heard, stepMs: params.stepMs }, params.edgeExtendMs, params.passThroughMs));
    }
    const list = stays(segments);
    devices.set(device, { device, segments, minutes: minuteZones(segments), stays: list, dwell: dwellByZone(list) });
  }
  return { clock, devices };
}
