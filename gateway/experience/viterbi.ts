/**
 * Viterbi over zones. States are (zone, k): k counts the steps spent in the zone up to
 * `minStaySteps` − 1, the last k the settled state; a device can only leave a zone from the settled
 * state (minimum stay) and only into an adjacent zone (config adjacency), else it stays with
 * `selfTransition` (hysteresis; `entranceSelfTransition` in an entrance zone, walked through). A step
 * without an emission (silence) scores every zone alike, so the state carries through. Tracks start
 * and end at entrance zones by preference (`nonEntrancePrior`).
 */

export interface HmmModel {
  zones: readonly string[];
  /** Zone id → adjacent zone ids. */
  adjacency: Readonly<Record<string, readonly string[]>>;
  entrances: ReadonlySet<string>;
  selfTransition: number;
  /** The chance of staying in an entrance zone from one step to the next (absent: `selfTransition`). */
  entranceSelfTransition?: number;
  minStaySteps: number;
  /** Log prior of starting or ending outside an entrance zone (0: no preference). */
  nonEntrancePrior: number;
}

/** For each zone (by index in `model.zones`), the indices of the zones a device may move to from it. */
export function zoneNeighbours(model: Pick<HmmModel, 'zones' | 'adjacency'>): number[][] {
  const index = new Map(model.zones.map((z, i) => [z, i]));
  return model.zones.map((z) => (model.adjacency[z] ?? []).map((n) => index.get(n)).filter((i): i is number => i !== undefined));
}

/** Each zone's chance of staying from one step to the next (by index in `model.zones`). */
export function zoneStays(model: Pick<HmmModel, 'zones' | 'entrances' | 'selfTransition' | 'entranceSelfTransition'>): number[] {
  return model.zones.map((z) => (model.entrances.has(z) ? (model.entranceSelfTransition ?? model.selfTransition) : model.selfTransition));
}

/**
 * The most likely zone index per step. `emissions[t]` is the log-likelihood per zone of step t, or
 * undefined for a step without zone information. Deterministic: ties go to the lower zone index.
 */
export function viterbi(model: HmmModel, emissions: ReadonlyArray<Float64Array | undefined>): number[] {
  const Z = model.zones.length;
  const K = Math.max(1, model.minStaySteps);
  const T = emissions.length;
  if (T === 0 || Z === 0) return [];
  const S = Z * K;
  const neighbours = zoneNeighbours(model);
  const stays = zoneStays(model);
  const logStay = stays.map(Math.log);
  const logMove = neighbours.map((n, z) => (n.length === 0 ? -Infinity : Math.log((1 - (stays[z] as number)) / n.length)));
  const edge = model.zones.map((z) => (model.entrances.has(z) ? 0 : model.nonEntrancePrior));
  const st = (z: number, k: number) => z * K + k;

  let score = new Float64Array(S).fill(-Infinity);
  const back: Int32Array[] = [];
  const e0 = emissions[0];
  // a track starts settled: its first step is already inside the zone for a while (silence before it)
  for (let z = 0; z < Z; z += 1) score[st(z, K - 1)] = (edge[z] as number) + (e0 ? (e0[z] as number) : 0);
  back.push(new Int32Array(S).fill(-1));

  for (let t = 1; t < T; t += 1) {
    const next = new Float64Array(S).fill(-Infinity);
    const from = new Int32Array(S).fill(-1);
    const offer = (to: number, fromState: number, value: number) => {
      if (value > (next[to] as number) || (value === next[to] && fromState < (from[to] as number))) {
        next[to] = value;
        from[to] = fromState;
      }
    };
    for (let z = 0; z < Z; z += 1) {
      for (let k = 0; k < K; k += 1) {
        const s = st(z, k);
        const v = score[s] as number;
        if (v === -Infinity) continue;
        if (k < K - 1) {
          offer(st(z, k + 1), s, v);
          continue;
        }
        offer(s, s, v + (logStay[z] as number));
        for (const n of neighbours[z] as number[]) offer(st(n, K === 1 ? K - 1 : 0), s, v + (logMove[z] as number));
      }
    }
    const e = emissions[t];
    if (e) for (let s = 0; s < S; s += 1) next[s] = (next[s] as number) + (e[Math.floor(s / K)] as number);
    score = next;
    back.push(from);
  }

  let best = -1;
  let bestValue = -Infinity;
  for (let s = 0; s < S; s += 1) {
    const v = (score[s] as number) + (edge[Math.floor(s / K)] as number);
    if (v > bestValue) {
      bestValue = v;
      best = s;
    }
  }
  const path = new Array<number>(T);
  let s = best;
  for (let t = T - 1; t >= 0; t -= 1) {
    path[t] = Math.floor(s / K);
    s = (back[t] as Int32Array)[s] as number;
  }
  return path;
}
