/**
 * Zone assignment of BLE devices, put together: the sensors' clocks (clock-offsets.ts), observation
 * windows (observations.ts), the emission model (emission.ts), Viterbi (viterbi.ts) and the segments,
 * minutes and stays (segments.ts). Pure and deterministic: the same sightings give the same result
 * whatever their order.
 */
import { estimateStepClock } from './clock-offsets.js';
import { CalibrationGeometry, confidentSteps, evenlySpaced, fitRadio, type CalibrationStep } from './calibration.js';
import { EmissionModel } from './emission.js';
import { observationWindows, stepCentre, type BleObservation, type DeviceSteps, type ObservationWindows, type StepClock } from './observations.js';
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
  /** The parameters the final pass used: `params`, or their calibrated radio values when `calibrate` is on. */
  params: PresenceParams;
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

interface DecodedTrack {
  device: string;
  /** Step index of each entry (consecutive, first heard to last heard). */
  steps: number[];
  centres: number[];
  heard: boolean[];
  /** Zone index per step. */
  path: number[];
}

/** Decodes every device's tracks with `params`' emission model. */
function decode(store: PresenceStore, windows: ObservationWindows, clock: StepClock, params: PresenceParams): DecodedTrack[] {
  const emission = new EmissionModel(store, params);
  const model = {
    ...store,
    zones: store.zones,
    selfTransition: params.selfTransition,
    minStaySteps: params.minStaySteps,
    nonEntrancePrior: params.nonEntrancePrior,
  };
  const out: DecodedTrack[] = [];
  for (const [device, steps] of windows.devices) {
    for (const heardSteps of tracksOf(steps, Math.floor(params.maxGapMs / params.stepMs))) {
      const first = heardSteps[0] as number;
      const last = heardSteps[heardSteps.length - 1] as number;
      const emissions: Array<Float64Array | undefined> = [];
      const track: DecodedTrack = { device, steps: [], centres: [], heard: [], path: [] };
      for (let step = first; step <= last; step += 1) {
        const cell = steps.get(step);
        const e = cell === undefined ? undefined : emission.zoneLogLikelihoods(cell, windows.reporting.get(step));
        emissions.push(e);
        track.steps.push(step);
        track.heard.push(e !== undefined);
        track.centres.push(stepCentre(clock, step));
      }
      track.path = viterbi(model, emissions);
      out.push(track);
    }
  }
  return out;
}

/**
 * Self-calibration (calibration.ts): `calibrationRounds` times, decode with the current parameters,
 * take each device's heard steps inside long stays (at most `calibrationMaxStepsPerDevice`, evenly
 * spaced) and refit the radio parameters to them. Returns the calibrated parameters.
 */
export function calibrateParams(store: PresenceStore, windows: ObservationWindows, clock: StepClock, params: PresenceParams): PresenceParams {
  const geometry = new CalibrationGeometry(store, params.sampleSpacingM);
  let current = params;
  for (let round = 0; round < params.calibrationRounds; round += 1) {
    const byDevice = new Map<string, CalibrationStep[]>();
    for (const track of decode(store, windows, clock, current)) {
      const cells = windows.devices.get(track.device) as DeviceSteps;
      const list = byDevice.get(track.device) ?? [];
      for (const i of confidentSteps(track.path, track.heard, params.calibrationMinRunSteps)) {
        const step = track.steps[i] as number;
        list.push({ heard: cells.get(step) as Map<string, number>, reporting: windows.reporting.get(step), zone: track.path[i] as number });
      }
      byDevice.set(track.device, list);
    }
    const selected = [...byDevice.values()].flatMap((list) => evenlySpaced(list, params.calibrationMaxStepsPerDevice));
    current = { ...current, ...fitRadio(geometry, selected, current) };
  }
  return current;
}

/** Assigns a zone to every heard device (filter ids before or after: store beacons, neighbours). */
export function assignZones(store: PresenceStore, rows: readonly BleObservation[], params: PresenceParams = DEFAULT_PRESENCE_PARAMS): ZoneAssignment {
  const known = rows.filter((r) => store.scanners.has(r.sensor));
  const clock = estimateStepClock(known, params.stepMs, params.maxClockOffsetMs);
  const windows = observationWindows(known, clock);
  const used = params.calibrate ? calibrateParams(store, windows, clock, params) : params;
  const segmentsOf = new Map<string, ZoneSegment[]>();
  for (const track of decode(store, windows, clock, used)) {
    const segments = segmentsOf.get(track.device) ?? [];
    const zones = track.path.map((z) => store.zones[z] as string);
    segments.push(...trackSegments({ centres: track.centres, zones, heard: track.heard, stepMs: used.stepMs }, used.edgeExtendMs, used.passThroughMs));
    segmentsOf.set(track.device, segments);
  }
  const devices = new Map<string, DeviceZones>();
  for (const [device, segments] of segmentsOf) {
    const list = stays(segments);
    devices.set(device, { device, segments, minutes: minuteZones(segments), stays: list, dwell: dwellByZone(list) });
  }
  return { clock, params: used, devices };
}
