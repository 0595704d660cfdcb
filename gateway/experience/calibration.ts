/**
 * Per-store self-calibration of the emission model's radio parameters from the sightings alone
 * (unsupervised; README.md "Self-calibration"). The engine decodes every device with the current
 * parameters; the heard steps inside long decoded stays are taken as "the device was somewhere in
 * this zone"; the path-loss exponent, wall loss, common gain offset, shadowing σ and detection
 * midpoint are then refitted by maximum likelihood over those steps, the position inside the zone
 * and the carry offset being latent (the emission model's own mixture), and the engine decodes
 * again. Pure and deterministic: a fixed search (coordinate-wise pattern search from the current
 * values) over a fixed, evenly spaced selection of steps.
 */
import { samplePoints, wallsBetween } from './emission.js';
import type { PresenceParams } from './params.js';
import type { PresenceStore, Scanner } from './store-model.js';
import type { Rect } from '../../config/index.js';

const LN_SQRT_2PI = 0.5 * Math.log(2 * Math.PI);
const MIN_DISTANCE_M = 0.5;

/** One step used for the fit: what was heard, who reported, and the zone (index in `store.zones`) it is taken to be in. */
export interface CalibrationStep {
  heard: ReadonlyMap<string, number>;
  reporting: ReadonlySet<string> | undefined;
  zone: number;
}

/** The parameters the calibration fits. */
export type RadioFit = Pick<PresenceParams, 'pathLossExponent' | 'wallLossDb' | 'gainOffsetDb' | 'shadowingSigmaDb' | 'detectionMidpointDbm'>;

interface Bound {
  key: keyof RadioFit;
  min: number;
  max: number;
  /** First step of the pattern search. */
  step: number;
  /** The search stops refining below this step. */
  tol: number;
}

/** Search ranges: wide around the textbook values (README.md), bounded so a poor selection cannot run away. */
export const RADIO_FIT_BOUNDS: readonly Bound[] = [
  { key: 'pathLossExponent', min: 1.4, max: 4, step: 0.4, tol: 0.05 },
  { key: 'wallLossDb', min: 0, max: 12, step: 2, tol: 0.25 },
  { key: 'gainOffsetDb', min: -12, max: 12, step: 4, tol: 0.5 },
  { key: 'shadowingSigmaDb', min: 3, max: 12, step: 2, tol: 0.25 },
  { key: 'detectionMidpointDbm', min: -100, max: -76, step: 4, tol: 0.5 },
];

/** A store's geometry precomputed for the fit: per sample point its zone, and per scanner log10(distance) and walls crossed. */
export class CalibrationGeometry {
  readonly scannerIds: string[];
  readonly rssiAt1m: Float64Array;
  /** Per zone: its sample points' log10 distances and wall counts, scanner-major within a point. */
  readonly zones: Array<{ logD: Float64Array; walls: Float64Array; points: number }>;

  constructor(store: PresenceStore, sampleSpacingM: number) {
    this.scannerIds = [...store.scanners.keys()];
    const scanners = this.scannerIds.map((id) => store.scanners.get(id) as Scanner);
    this.rssiAt1m = Float64Array.from(scanners.map((s) => s.rssiAt1m));
    this.zones = store.zones.map((zone) => {
      const pts = samplePoints(store.rects.get(zone) as Rect, sampleSpacingM);
      const logD = new Float64Array(pts.length * scanners.length);
      const walls = new Float64Array(pts.length * scanners.length);
      pts.forEach((p, pi) =>
        scanners.forEach((s, si) => {
          logD[pi * scanners.length + si] = Math.log10(Math.max(MIN_DISTANCE_M, Math.hypot(p.x - s.x, p.y - s.y)));
          walls[pi * scanners.length + si] = wallsBetween(store, p, s);
        }),
      );
      return { logD, walls, points: pts.length };
    });
  }
}

/** A step reduced to arrays: per scanner its RSSI, NaN for "reported, not heard"; scanners that did not report left out. */
interface PackedStep {
  zone: number;
  scanners: Int32Array;
  rssi: Float64Array;
}

function pack(geometry: CalibrationGeometry, step: CalibrationStep): PackedStep {
  const scanners: number[] = [];
  const rssi: number[] = [];
  geometry.scannerIds.forEach((id, si) => {
    const heard = step.heard.get(id);
    if (heard !== undefined) {
      scanners.push(si);
      rssi.push(heard);
    } else if (step.reporting?.has(id) === true) {
      scanners.push(si);
      rssi.push(Number.NaN);
    }
  });
  return { zone: step.zone, scanners: Int32Array.from(scanners), rssi: Float64Array.from(rssi) };
}

/**
 * Log-likelihood of the steps under `fit`: per step the log of the mean over the zone's sample points
 * and the carry offsets of the product over reporting scanners. Unlike the emission model, detection
 * acts on the reading, not on its expectation: a heard reading o has density N(o; μ, σ²)·p(o), a miss
 * 1 − E[p(r)]. With detection on μ (the emission model's shortcut) the readings heard far away, the
 * lucky ones above the detection threshold, pull the path-loss exponent down (measured: n 1.4–1.8 on
 * the simulator's defaults, where it is 2.0).
 */
export function fitLogLikelihood(
  geometry: CalibrationGeometry,
  steps: readonly PackedStep[],
  fit: RadioFit,
  fixed: Pick<PresenceParams, 'carryOffsetsDb' | 'detectionMax' | 'detectionSlopeDb'>,
): number {
  const ns = geometry.scannerIds.length;
  const sigma = fit.shadowingSigmaDb;
  const logNorm = -Math.log(sigma) - LN_SQRT_2PI;
  const carry = fixed.carryOffsetsDb;
  const missSlope = Math.sqrt(fixed.detectionSlopeDb ** 2 + (Math.PI * sigma * sigma) / 8);
  let total = 0;
  for (const step of steps) {
    const zone = geometry.zones[step.zone] as CalibrationGeometry['zones'][number];
    const terms: number[] = [];
    for (let pi = 0; pi < zone.points; pi += 1) {
      for (const b of carry) {
        let ll = 0;
        for (let k = 0; k < step.scanners.length; k += 1) {
          const si = step.scanners[k] as number;
          const mu =
            (geometry.rssiAt1m[si] as number) +
            fit.gainOffsetDb +
            b -
            10 * fit.pathLossExponent * (zone.logD[pi * ns + si] as number) -
            (zone.walls[pi * ns + si] as number) * fit.wallLossDb;
          const o = step.rssi[k] as number;
          if (Number.isNaN(o)) {
            // missed: 1 − E[p(r)] over the reading r ~ N(μ, σ²) (logistic-normal approximation)
            const det = fixed.detectionMax / (1 + Math.exp((fit.detectionMidpointDbm - mu) / missSlope));
            ll += Math.log(Math.max(1 - det, 1e-9));
          } else {
            // heard: the reading r = o drawn, then caught with p(o) (a receiver detects the power it receives)
            const det = fixed.detectionMax / (1 + Math.exp((fit.detectionMidpointDbm - o) / fixed.detectionSlopeDb));
            const z = (o - mu) / sigma;
            ll += Math.log(Math.max(det, 1e-9)) - 0.5 * z * z + logNorm;
          }
        }
        terms.push(ll);
      }
    }
    let max = -Infinity;
    for (const t of terms) max = Math.max(max, t);
    let sum = 0;
    for (const t of terms) sum += Math.exp(t - max);
    total += max + Math.log(sum / terms.length);
  }
  return total;
}

/**
 * The radio parameters maximising the likelihood of `steps`, from `params`' values: coordinate-wise
 * pattern search (each parameter in turn moved by ±step while that improves, the step halved down to
 * its tolerance, sweeps repeated until nothing moves). Deterministic.
 */
export function fitRadio(geometry: CalibrationGeometry, steps: readonly CalibrationStep[], params: PresenceParams): RadioFit {
  const packed = steps.map((s) => pack(geometry, s));
  let fit: RadioFit = {
    pathLossExponent: params.pathLossExponent,
    wallLossDb: params.wallLossDb,
    gainOffsetDb: params.gainOffsetDb,
    shadowingSigmaDb: params.shadowingSigmaDb,
    detectionMidpointDbm: params.detectionMidpointDbm,
  };
  if (packed.length === 0) return fit;
  const score = (f: RadioFit) => fitLogLikelihood(geometry, packed, f, params);
  let best = score(fit);
  const steps0 = new Map(RADIO_FIT_BOUNDS.map((b) => [b.key, b.step]));
  for (let sweep = 0; sweep < 8; sweep += 1) {
    let moved = false;
    for (const bound of RADIO_FIT_BOUNDS) {
      if (bound.key === 'gainOffsetDb' && !params.calibrationFitGain) continue;
      let step = steps0.get(bound.key) as number;
      while (step >= bound.tol) {
        let improved = false;
        for (const dir of [1, -1]) {
          const value = Math.min(bound.max, Math.max(bound.min, fit[bound.key] + dir * step));
          if (value === fit[bound.key]) continue;
          const candidate = { ...fit, [bound.key]: value };
          const s = score(candidate);
          if (s > best + 1e-9) {
            best = s;
            fit = candidate;
            improved = true;
            moved = true;
            break;
          }
        }
        if (!improved) step /= 2;
      }
      // the next sweep starts this parameter with a smaller step
      steps0.set(bound.key, Math.max(bound.tol, (steps0.get(bound.key) as number) / 2));
    }
    if (!moved) break;
  }
  return fit;
}

/**
 * The steps of a decoded track usable for calibration: heard steps inside a run of the same zone of
 * at least `minRun` steps, not at the run's first or last step (the move may straddle them).
 */
export function confidentSteps(path: readonly number[], heard: readonly boolean[], minRun: number): number[] {
  const out: number[] = [];
  let start = 0;
  for (let i = 1; i <= path.length; i += 1) {
    if (i < path.length && path[i] === path[start]) continue;
    if (i - start >= minRun) for (let j = start + 1; j < i - 1; j += 1) if (heard[j] === true) out.push(j);
    start = i;
  }
  return out;
}

/** At most `max` of `items`, evenly spaced (all of them when there are fewer). */
export function evenlySpaced<T>(items: readonly T[], max: number): T[] {
  if (items.length <= max) return [...items];
  return Array.from({ length: max }, (_, i) => items[Math.floor(((i + 0.5) * items.length) / max)] as T);
}
