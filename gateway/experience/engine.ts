/**
 * Zone assignment of BLE devices, put together: the sensors' clocks (clock-offsets.ts), observation
 * windows (observations.ts), the emission model (emission.ts), Viterbi (viterbi.ts) and the segments,
 * minutes and stays (segments.ts). Pure and deterministic: the same sightings give the same result
 * whatever their order.
 */
import { anchorLogLikelihoods, anchorSteps, type ZoneAnchor } from './anchors.js';
import { estimateStepClock } from './clock-offsets.js';
import { CalibrationGeometry, confidentSteps, evenlySpaced, fitRadio, type CalibrationStep } from './calibration.js';
import { EmissionModel } from './emission.js';
import {
  observationWindows,
  stepCentre,
  type BleObservation,
  type DeviceSteps,
  type ObservationWindows,
  type ScanReport,
  type StepClock,
} from './observations.js';
import { DEFAULT_PRESENCE_PARAMS, type PresenceParams } from './params.js';
import { posteriorMinutes, stayConfidence, zonePosteriors, type StepPosterior } from './posterior.js';
import { dwellByZone, mergeSpells, MINUTE_MS, minuteZones, stays, trackSegments, type Stay, type ZoneSegment } from './segments.js';
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

/** Floor of a posterior chance in the posterior path (a log of 0 would forbid the zone outright). */
const POSTERIOR_FLOOR = 1e-6;

/** Splits a device's steps with evidence (ascending) into tracks at gaps longer than `maxGapSteps`. */
function tracksOf(steps: Iterable<number>, maxGapSteps: number): number[][] {
  const tracks: number[][] = [];
  let current: number[] = [];
  for (const step of steps) {
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
  /** A sighting in the step. */
  heard: boolean[];
  /** Any evidence in the step: a sighting or an anchor. */
  evidence: boolean[];
  /** Zone index per step. */
  path: number[];
  /** Posterior chance of each zone per step (forward-backward), when asked for. */
  posteriors?: Float64Array[];
}

/** Device → step → anchored zone indices (anchors.ts). */
type AnchorSteps = ReadonlyMap<string, ReadonlyMap<number, readonly number[]>>;

/** Decodes every device's tracks with `params`' emission model and the anchors. */
function decode(
  store: PresenceStore,
  windows: ObservationWindows,
  clock: StepClock,
  params: PresenceParams,
  anchors: AnchorSteps = new Map(),
  withPosteriors = false,
): DecodedTrack[] {
  const emission = new EmissionModel(store, params);
  const model = {
    ...store,
    zones: store.zones,
    selfTransition: params.selfTransition,
    entranceSelfTransition: params.entranceSelfTransition,
    minStaySteps: params.minStaySteps,
    nonEntrancePrior: params.nonEntrancePrior,
  };
  const out: DecodedTrack[] = [];
  const noSteps: DeviceSteps = new Map();
  const devices = [...new Set([...windows.devices.keys(), ...anchors.keys()])].sort();
  for (const device of devices) {
    const steps = windows.devices.get(device) ?? noSteps;
    const anchored = anchors.get(device) ?? new Map<number, readonly number[]>();
    const withEvidence = [...new Set([...steps.keys(), ...anchored.keys()])].sort((a, b) => a - b);
    for (const evidenceSteps of tracksOf(withEvidence, Math.floor(params.maxGapMs / params.stepMs))) {
      const first = evidenceSteps[0] as number;
      const last = evidenceSteps[evidenceSteps.length - 1] as number;
      const emissions: Array<Float64Array | undefined> = [];
      const track: DecodedTrack = { device, steps: [], centres: [], heard: [], evidence: [], path: [] };
      for (let step = first; step <= last; step += 1) {
        const cell = steps.get(step);
        let e = cell === undefined ? undefined : emission.zoneLogLikelihoods(cell, windows.reporting.get(step));
        const heard = e !== undefined;
        const zones = anchored.get(step);
        if (zones !== undefined) {
          const a = anchorLogLikelihoods(zones, store.zones.length, params.anchorMissLogLikelihood);
          if (e !== undefined) for (let z = 0; z < a.length; z += 1) a[z] = (a[z] as number) + (e[z] as number);
          e = a;
        }
        emissions.push(e);
        track.steps.push(step);
        track.heard.push(heard);
        track.evidence.push(e !== undefined);
        track.centres.push(stepCentre(clock, step));
      }
      track.path = viterbi(model, emissions);
      if (withPosteriors) track.posteriors = zonePosteriors(model, emissions);
      if (withPosteriors && params.posteriorPath) {
        // the path again, through the posteriors: steps each likely given the whole track, still by adjacency and the minimum stay
        const logPosteriors = (track.posteriors as Float64Array[]).map((p) => Float64Array.from(p, (v) => Math.log(Math.max(v, POSTERIOR_FLOOR))));
        track.path = viterbi(model, logPosteriors);
      }
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
export function calibrateParams(
  store: PresenceStore,
  windows: ObservationWindows,
  clock: StepClock,
  params: PresenceParams,
  anchors: AnchorSteps = new Map(),
): PresenceParams {
  const geometry = new CalibrationGeometry(store, params.sampleSpacingM);
  let current = params;
  for (let round = 0; round < params.calibrationRounds; round += 1) {
    const byDevice = new Map<string, CalibrationStep[]>();
    for (const track of decode(store, windows, clock, current, anchors)) {
      const cells = windows.devices.get(track.device);
      if (cells === undefined) continue;
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

/** What `assignZones` may be given besides the sightings. */
export interface ZoneEvidence {
  /**
   * Where devices were at instants by other evidence, e.g. touchpoint interactions that name a
   * beacon id (anchors.ts `touchpointAnchors`); each is a strong emission at its step, also in a step
   * the device was not heard.
   */
  anchors?: readonly ZoneAnchor[];
  /** The sensors' clocks, estimated before from more sightings than `rows` (absent: estimated from `rows`). */
  clock?: StepClock;
  /**
   * The scanners' other scan reports over the same time (of devices not in `rows`, and empty ones):
   * a scanner that reported in a step and did not hear a device is evidence of where the device is
   * not. Without them only the scanners that heard one of `rows`' devices in a step count as
   * listening, and a device decoded alone loses that evidence.
   */
  reports?: Iterable<ScanReport>;
}

/**
 * Assigns a zone to every heard device (filter ids before or after: store beacons, neighbours).
 */
export function assignZones(
  store: PresenceStore,
  rows: readonly BleObservation[],
  params: PresenceParams = DEFAULT_PRESENCE_PARAMS,
  evidence: ZoneEvidence = {},
): ZoneAssignment {
  const known = rows.filter((r) => store.scanners.has(r.sensor));
  const clock = evidence.clock ?? estimateStepClock(known, params.stepMs, params.maxClockOffsetMs);
  const reports = [...(evidence.reports ?? [])].filter((r) => store.scanners.has(r.sensor));
  const windows = observationWindows(known, clock, reports);
  const anchored = anchorSteps(evidence.anchors ?? [], store.zones, clock);
  const used = params.calibrate ? calibrateParams(store, windows, clock, params, anchored) : params;
  const segmentsOf = new Map<string, ZoneSegment[]>();
  const posteriorsOf = new Map<string, StepPosterior[]>();
  const walkThrough = used.entranceWalkThrough ? store.entrances : new Set<string>();
  for (const track of decode(store, windows, clock, used, anchored, true)) {
    const posteriors = posteriorsOf.get(track.device) ?? [];
    track.centres.forEach((centre, i) =>
      posteriors.push({ centre, zones: (track.posteriors as Float64Array[])[i] as Float64Array, evidence: track.evidence[i] === true }),
    );
    posteriorsOf.set(track.device, posteriors);
    const segments = segmentsOf.get(track.device) ?? [];
    const zones = track.path.map((z) => store.zones[z] as string);
    segments.push(
      ...trackSegments({ centres: track.centres, zones, heard: track.evidence, stepMs: used.stepMs }, used.edgeExtendMs, used.passThroughMs, walkThrough),
    );
    segmentsOf.set(track.device, segments);
  }
  const devices = new Map<string, DeviceZones>();
  for (const [device, segments] of segmentsOf) {
    const steps = posteriorsOf.get(device) ?? [];
    const list = mergeSpells(stays(segments), used.mergeSpellMs).map((stay) => ({
      ...stay,
      confidence: stayConfidence(stay, store.zones.indexOf(stay.zone), steps),
    }));
    const minutes = used.minutePosterior ? posteriorMinutes(minuteZones(segments), steps, store.zones, MINUTE_MS) : minuteZones(segments);
    devices.set(device, { device, segments, minutes, stays: list, dwell: dwellByZone(list) });
  }
  return { clock, params: used, devices };
}
