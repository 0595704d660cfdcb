/**
 * Forward-backward over the same hidden Markov model as viterbi.ts (duration-expanded zone states,
 * adjacency-only moves from a settled state, `selfTransition`, the entrance prior at both ends, a
 * silent step scoring every zone alike): the posterior chance of each zone at each step given the
 * whole track. Viterbi gives the single most likely path; the posterior says how sure that path is
 * step by step, which is what a stay's confidence is made of.
 */
import type { Stay } from './segments.js';
import { zoneNeighbours, zoneStays, type HmmModel } from './viterbi.js';

/** Scaled probabilities of a step's log-likelihoods (max 1), or all 1 for a step without evidence. */
function likelihoods(e: Float64Array | undefined, zones: number): Float64Array {
  const out = new Float64Array(zones).fill(1);
  if (e === undefined) return out;
  let max = -Infinity;
  for (let z = 0; z < zones; z += 1) max = Math.max(max, e[z] as number);
  for (let z = 0; z < zones; z += 1) out[z] = max === -Infinity ? 1 : Math.exp((e[z] as number) - max);
  return out;
}

function normalise(v: Float64Array): void {
  let sum = 0;
  for (let i = 0; i < v.length; i += 1) sum += v[i] as number;
  if (sum > 0) for (let i = 0; i < v.length; i += 1) v[i] = (v[i] as number) / sum;
}

/**
 * The posterior chance of each zone (in `model.zones` order) at each step: `emissions[t]` as for
 * `viterbi`. Each row sums to 1. Deterministic.
 */
export function zonePosteriors(model: HmmModel, emissions: ReadonlyArray<Float64Array | undefined>): Float64Array[] {
  const Z = model.zones.length;
  const K = Math.max(1, model.minStaySteps);
  const T = emissions.length;
  if (T === 0 || Z === 0) return [];
  const S = Z * K;
  const neighbours = zoneNeighbours(model);
  const stay = zoneStays(model);
  const move = neighbours.map((n, z) => (n.length === 0 ? 0 : (1 - (stay[z] as number)) / n.length));
  const edge = model.zones.map((z) => Math.exp(model.entrances.has(z) ? 0 : model.nonEntrancePrior));
  // a move lands in k = 0 (the settled state itself when K is 1)
  const entered = 0;
  const settled = K - 1;
  const emit = emissions.map((e) => likelihoods(e, Z));

  /** One step of the chain forward: mass in `from` → mass in `to`. */
  const forward = (from: Float64Array): Float64Array => {
    const to = new Float64Array(S);
    for (let z = 0; z < Z; z += 1) {
      for (let k = 0; k < K - 1; k += 1) to[z * K + k + 1] = (to[z * K + k + 1] as number) + (from[z * K + k] as number);
      const v = from[z * K + settled] as number;
      to[z * K + settled] = (to[z * K + settled] as number) + v * (stay[z] as number);
      for (const n of neighbours[z] as number[]) to[n * K + entered] = (to[n * K + entered] as number) + v * (move[z] as number);
    }
    return to;
  };
  /** One step of the chain backward: β of the next step (already times its emission) → β of this one. */
  const backward = (next: Float64Array): Float64Array => {
    const out = new Float64Array(S);
    for (let z = 0; z < Z; z += 1) {
      for (let k = 0; k < K - 1; k += 1) out[z * K + k] = next[z * K + k + 1] as number;
      let v = (stay[z] as number) * (next[z * K + settled] as number);
      for (const n of neighbours[z] as number[]) v += (move[z] as number) * (next[n * K + entered] as number);
      out[z * K + settled] = v;
    }
    return out;
  };
  const times = <V extends Float64Array>(v: V, e: Float64Array): V => {
    for (let s = 0; s < S; s += 1) v[s] = (v[s] as number) * (e[Math.floor(s / K)] as number);
    return v;
  };

  const alpha: Float64Array[] = [];
  // a track starts settled (viterbi.ts)
  let a: Float64Array = new Float64Array(S);
  for (let z = 0; z < Z; z += 1) a[z * K + settled] = edge[z] as number;
  a = times(a, emit[0] as Float64Array);
  normalise(a);
  alpha.push(a);
  for (let t = 1; t < T; t += 1) {
    a = times(forward(a), emit[t] as Float64Array);
    normalise(a);
    alpha.push(a);
  }
  const out = new Array<Float64Array>(T);
  let b: Float64Array = new Float64Array(S);
  for (let s = 0; s < S; s += 1) b[s] = edge[Math.floor(s / K)] as number;
  for (let t = T - 1; t >= 0; t -= 1) {
    if (t < T - 1) {
      b = backward(times(b, emit[t + 1] as Float64Array));
      normalise(b);
    }
    const zones = new Float64Array(Z);
    const at = alpha[t] as Float64Array;
    for (let s = 0; s < S; s += 1) zones[Math.floor(s / K)] = (zones[Math.floor(s / K)] as number) + (at[s] as number) * (b[s] as number);
    normalise(zones);
    out[t] = zones;
  }
  return out;
}

/** A step of a device's track: its centre (epoch ms), the posterior chance of each zone, and whether it had evidence (a sighting or an anchor). */
export interface StepPosterior {
  centre: number;
  zones: Float64Array;
  evidence: boolean;
}

/**
 * The zone per minute re-read from the posteriors: a covered minute (`minutes`, from the segments)
 * that holds a step with evidence takes the zone of the largest posterior chance summed over all
 * its steps, heard or silent (the most likely zone step by step, rather than along the single most
 * likely path); a minute without evidence keeps its zone. `steps` ascending by centre.
 */
export function posteriorMinutes(
  minutes: ReadonlyMap<number, string>,
  steps: readonly StepPosterior[],
  zones: readonly string[],
  minuteMs: number,
): Map<number, string> {
  const out = new Map(minutes);
  let i = 0;
  for (const minute of [...minutes.keys()].sort((a, b) => a - b)) {
    while (i < steps.length && (steps[i] as StepPosterior).centre < minute) i += 1;
    const sum = new Float64Array(zones.length);
    let evidence = false;
    for (let j = i; j < steps.length && (steps[j] as StepPosterior).centre < minute + minuteMs; j += 1) {
      const step = steps[j] as StepPosterior;
      evidence ||= step.evidence;
      for (let z = 0; z < zones.length; z += 1) sum[z] = (sum[z] as number) + (step.zones[z] as number);
    }
    if (!evidence) continue;
    let best = 0;
    for (let z = 1; z < zones.length; z += 1) if ((sum[z] as number) > (sum[best] as number)) best = z;
    out.set(minute, zones[best] as string);
  }
  return out;
}

/**
 * A stay's confidence: the mean posterior chance of its zone over the steps whose centre lies in the
 * stay ([enter, exit)), heard or silent; a stay too short to hold a step centre takes the step
 * nearest its middle. `steps` ascending by centre; `zone` the stay's zone index.
 */
export function stayConfidence(stay: Pick<Stay, 'enter' | 'exit'>, zone: number, steps: readonly StepPosterior[]): number {
  let sum = 0;
  let n = 0;
  let nearest: StepPosterior | undefined;
  const middle = (stay.enter + stay.exit) / 2;
  for (const step of steps) {
    if (step.centre >= stay.enter && step.centre < stay.exit) {
      sum += step.zones[zone] as number;
      n += 1;
    }
    if (nearest === undefined || Math.abs(step.centre - middle) < Math.abs(nearest.centre - middle)) nearest = step;
  }
  if (n > 0) return sum / n;
  return nearest === undefined ? 0 : (nearest.zones[zone] as number);
}
