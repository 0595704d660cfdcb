/**
 * The emission model: how likely one step's observation of a device is in each zone, from the config
 * geometry only. Expected RSSI at scanner s from position x (log-distance path loss):
 *
 *   μ_s(x) = rssiAt1m_s + g − 10·n·log10(max(d, 0.5 m)) − walls(x, s)·wallLoss + b
 *
 * b a common carry offset (body, pocket) from `carryOffsetsDb`, equally likely. A scanner that
 * reported in the step heard the device with chance p(μ) (logistic in μ) and then read RSSI ~ N(μ, σ²);
 * it did not hear it with chance 1 − p(μ). A zone's likelihood is the mean over sample points of its
 * rectangle and over b (the device is anywhere in the zone). A step in which no scanner heard the
 * device carries no zone information (the app is silent) and is not scored here.
 */
import { isPointInRect, type Point, type Rect } from '../../config/index.js';
import type { PresenceParams } from './params.js';
import type { PresenceStore, Scanner } from './store-model.js';

const LN_SQRT_2PI = 0.5 * Math.log(2 * Math.PI);
/** Distance under which path loss is not extrapolated (near field), m. */
const MIN_DISTANCE_M = 0.5;
/** Steps along a line when counting walls, m. */
const WALL_PROBE_M = 0.25;

/** Points on a grid of about `spacing` inside the rectangle (cell centres). */
export function samplePoints(rect: Rect, spacing: number): Point[] {
  const nx = Math.max(1, Math.round(rect.width / spacing));
  const ny = Math.max(1, Math.round(rect.height / spacing));
  const out: Point[] = [];
  for (let i = 0; i < nx; i += 1)
    for (let j = 0; j < ny; j += 1) out.push({ x: rect.x + ((i + 0.5) * rect.width) / nx, y: rect.y + ((j + 0.5) * rect.height) / ny });
  return out;
}

/** Zone boundaries the straight line from `a` to `b` crosses (a stretch outside every zone does not count). */
export function wallsBetween(store: Pick<PresenceStore, 'zones' | 'rects'>, a: Point, b: Point): number {
  const zoneAt = (p: Point) => store.zones.find((z) => isPointInRect(p, store.rects.get(z) as Rect));
  const length = Math.hypot(b.x - a.x, b.y - a.y);
  const n = Math.max(1, Math.ceil(length / WALL_PROBE_M));
  let walls = 0;
  let last = zoneAt(a);
  for (let i = 1; i <= n; i += 1) {
    const zone = zoneAt({ x: a.x + ((b.x - a.x) * i) / n, y: a.y + ((b.y - a.y) * i) / n });
    if (zone === undefined) continue;
    if (last !== undefined && zone !== last) walls += 1;
    last = zone;
  }
  return walls;
}

function logSumExp(values: ArrayLike<number>): number {
  let max = -Infinity;
  for (let i = 0; i < values.length; i += 1) max = Math.max(max, values[i] as number);
  if (max === -Infinity) return -Infinity;
  let sum = 0;
  for (let i = 0; i < values.length; i += 1) sum += Math.exp((values[i] as number) - max);
  return max + Math.log(sum);
}

/** A sample point of a zone with the expected RSSI at every scanner (before the carry offset). */
export interface SamplePoint extends Point {
  /** Index of its zone in `zones`. */
  zone: number;
  expected: Float64Array;
}

export class EmissionModel {
  readonly zones: readonly string[];
  /** Every zone's sample points, zone by zone. */
  readonly points: readonly SamplePoint[];
  private readonly scannerIds: string[];

  constructor(
    store: PresenceStore,
    private readonly params: PresenceParams,
  ) {
    this.zones = store.zones;
    this.scannerIds = [...store.scanners.keys()];
    this.points = store.zones.flatMap((zone, zi) =>
      samplePoints(store.rects.get(zone) as Rect, params.sampleSpacingM).map((p) => ({
        ...p,
        zone: zi,
        expected: Float64Array.from(
          this.scannerIds.map((id) => {
            const s = store.scanners.get(id) as Scanner;
            const d = Math.max(MIN_DISTANCE_M, Math.hypot(p.x - s.x, p.y - s.y));
            return s.rssiAt1m + params.gainOffsetDb - 10 * params.pathLossExponent * Math.log10(d) - wallsBetween(store, p, s) * params.wallLossDb;
          }),
        ),
      })),
    );
  }

  /** Chance a reporting scanner catches an advertising device whose expected RSSI is `mu`. */
  detection(mu: number): number {
    const p = this.params;
    return p.detectionMax / (1 + Math.exp((p.detectionMidpointDbm - mu) / p.detectionSlopeDb));
  }

  /**
   * Log-likelihood of one step at each sample point (in `points` order, untempered), averaged over
   * the carry offsets: `heard` sensor → RSSI, `reporting` the scanners that reported in the step.
   * Scanners not in the layout are ignored. Undefined when no known scanner heard the device.
   */
  pointLogLikelihoods(heard: ReadonlyMap<string, number>, reporting: ReadonlySet<string> | undefined): Float64Array | undefined {
    const p = this.params;
    const obs = this.scannerIds.map((id) => (heard.has(id) ? (heard.get(id) as number) : reporting?.has(id) === true ? null : undefined));
    if (!obs.some((o) => typeof o === 'number')) return undefined;
    const sigma = p.shadowingSigmaDb;
    const out = new Float64Array(this.points.length);
    const terms = new Float64Array(p.carryOffsetsDb.length);
    this.points.forEach((point, pi) => {
      p.carryOffsetsDb.forEach((b, bi) => {
        let ll = 0;
        for (let s = 0; s < obs.length; s += 1) {
          const o = obs[s];
          if (o === undefined) continue;
          const mu = (point.expected[s] as number) + b;
          const det = this.detection(mu);
          if (o === null) ll += Math.log(1 - det);
          else {
            const z = (o - mu) / sigma;
            ll += Math.log(Math.max(det, 1e-9)) - 0.5 * z * z - Math.log(sigma) - LN_SQRT_2PI;
          }
        }
        terms[bi] = ll;
      });
      out[pi] = logSumExp(terms) - Math.log(terms.length);
    });
    return out;
  }

  /**
   * Log-likelihood per zone (in `zones` order) of one step: the mean likelihood over the zone's
   * sample points (the device anywhere in it), tempered by `emissionWeight`. Undefined when no known
   * scanner heard the device (no zone information).
   */
  zoneLogLikelihoods(heard: ReadonlyMap<string, number>, reporting: ReadonlySet<string> | undefined): Float64Array | undefined {
    const points = this.pointLogLikelihoods(heard, reporting);
    if (points === undefined) return undefined;
    const byZone: number[][] = this.zones.map(() => []);
    this.points.forEach((point, pi) => (byZone[point.zone] as number[]).push(points[pi] as number));
    return Float64Array.from(byZone.map((lls) => this.params.emissionWeight * (logSumExp(lls) - Math.log(lls.length))));
  }
}
