/**
 * A position-grid hidden Markov model (`positionGrid`, tried): the hidden state is a sample point
 * (cell) of the store — the emission model's ~1.5 m points of every zone — instead of a zone. A step
 * moves to the same cell (`gridStay`) or to a cell within walking reach (`gridReachM`, weighted by a
 * Gaussian of the distance), across a zone boundary only between adjacent zones (the layout's
 * adjacency). Forward-backward gives each step's posterior over cells; summed per zone, it is the
 * per-zone posterior the zone-level decoding (`posteriorPath`, the minutes, the confidence) reads.
 * A step without evidence has no emission; the transitions still spread the position. Deterministic.
 */
import type { Point } from '../../config/index.js';

export interface GridCell extends Point {
  /** Index of the cell's zone. */
  zone: number;
}

export interface GridModel {
  cells: readonly GridCell[];
  zones: readonly string[];
  /** Zone id → adjacent zone ids. */
  adjacency: Readonly<Record<string, readonly string[]>>;
  entrances: ReadonlySet<string>;
  /** Chance of staying in the same cell from one step to the next. */
  stay: number;
  /** Farthest move in one step, m. */
  reachM: number;
  /** Log prior of starting or ending outside an entrance zone. */
  nonEntrancePrior: number;
}

/** Sparse transitions: for each cell, the cells it may move to and the chances (summing to 1). */
export interface GridTransitions {
  to: Int32Array[];
  p: Float64Array[];
}

export function gridTransitions(model: Pick<GridModel, 'cells' | 'zones' | 'adjacency' | 'stay' | 'reachM'>): GridTransitions {
  const index = new Map(model.zones.map((z, i) => [z, i]));
  const adjacent = model.zones.map((z) => new Set((model.adjacency[z] ?? []).map((n) => index.get(n))));
  const sigma = model.reachM / 2;
  const to: Int32Array[] = [];
  const p: Float64Array[] = [];
  model.cells.forEach((c, i) => {
    const targets: number[] = [];
    const weights: number[] = [];
    model.cells.forEach((d, j) => {
      if (j === i) return;
      const dist = Math.hypot(d.x - c.x, d.y - c.y);
      if (dist > model.reachM) return;
      if (d.zone !== c.zone && !(adjacent[c.zone] as Set<number | undefined>).has(d.zone)) return;
      targets.push(j);
      weights.push(Math.exp((-0.5 * dist * dist) / (sigma * sigma)));
    });
    const sum = weights.reduce((a, b) => a + b, 0);
    const stay = targets.length === 0 ? 1 : model.stay;
    to.push(Int32Array.from([i, ...targets]));
    p.push(Float64Array.from([stay, ...weights.map((w) => ((1 - stay) * w) / sum)]));
  });
  return { to, p };
}

function normalise(v: Float64Array): void {
  let sum = 0;
  for (let i = 0; i < v.length; i += 1) sum += v[i] as number;
  if (sum > 0) for (let i = 0; i < v.length; i += 1) v[i] = (v[i] as number) / sum;
}

/** Scaled likelihoods (max 1) of a step's per-cell log-likelihoods, undefined for a step without evidence. */
function likelihoods(e: Float64Array | undefined): Float64Array | undefined {
  if (e === undefined) return undefined;
  let max = -Infinity;
  for (let i = 0; i < e.length; i += 1) max = Math.max(max, e[i] as number);
  const out = new Float64Array(e.length);
  for (let i = 0; i < e.length; i += 1) out[i] = max === -Infinity ? 1 : Math.exp((e[i] as number) - max);
  return out;
}

/**
 * The posterior chance of each zone (in `model.zones` order) at each step, by forward-backward over
 * the cells: `emissions[t]` the (tempered) log-likelihood per cell of step t, or undefined for a step
 * without evidence. Each row sums to 1. `transitions` may be passed when decoding many tracks.
 */
export function gridZonePosteriors(
  model: GridModel,
  emissions: ReadonlyArray<Float64Array | undefined>,
  transitions: GridTransitions = gridTransitions(model),
): Float64Array[] {
  const N = model.cells.length;
  const Z = model.zones.length;
  const T = emissions.length;
  if (T === 0 || N === 0) return [];
  const { to, p } = transitions;
  const cellsPerZone = new Float64Array(Z);
  for (const c of model.cells) cellsPerZone[c.zone] = (cellsPerZone[c.zone] as number) + 1;
  const edgeZone = model.zones.map((z) => Math.exp(model.entrances.has(z) ? 0 : model.nonEntrancePrior));
  const emit = emissions.map(likelihoods);
  const times = (v: Float64Array, e: Float64Array | undefined): Float64Array => {
    if (e !== undefined) for (let i = 0; i < N; i += 1) v[i] = (v[i] as number) * (e[i] as number);
    return v;
  };

  const alpha: Float64Array[] = [];
  // a zone's prior shared by its cells, as the zone-level model's mean over its sample points
  let a: Float64Array = new Float64Array(N);
  model.cells.forEach((c, i) => (a[i] = (edgeZone[c.zone] as number) / (cellsPerZone[c.zone] as number)));
  times(a, emit[0]);
  normalise(a);
  alpha.push(a);
  for (let t = 1; t < T; t += 1) {
    const next = new Float64Array(N);
    for (let i = 0; i < N; i += 1) {
      const v = a[i] as number;
      if (v === 0) continue;
      const ti = to[i] as Int32Array;
      const pi = p[i] as Float64Array;
      for (let k = 0; k < ti.length; k += 1) next[ti[k] as number] = (next[ti[k] as number] as number) + v * (pi[k] as number);
    }
    a = times(next, emit[t]);
    normalise(a);
    alpha.push(a);
  }
  const out = new Array<Float64Array>(T);
  let b: Float64Array = new Float64Array(N);
  model.cells.forEach((c, i) => (b[i] = edgeZone[c.zone] as number));
  for (let t = T - 1; t >= 0; t -= 1) {
    if (t < T - 1) {
      const after = times(b, emit[t + 1]);
      const prev = new Float64Array(N);
      for (let i = 0; i < N; i += 1) {
        const ti = to[i] as Int32Array;
        const pi = p[i] as Float64Array;
        let v = 0;
        for (let k = 0; k < ti.length; k += 1) v += (pi[k] as number) * (after[ti[k] as number] as number);
        prev[i] = v;
      }
      normalise(prev);
      b = prev;
    }
    const zones = new Float64Array(Z);
    const at = alpha[t] as Float64Array;
    for (let i = 0; i < N; i += 1) {
      const z = (model.cells[i] as GridCell).zone;
      zones[z] = (zones[z] as number) + (at[i] as number) * (b[i] as number);
    }
    normalise(zones);
    out[t] = zones;
  }
  return out;
}
