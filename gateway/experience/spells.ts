/**
 * Short, unsure spells of another zone inside a stay, merged back into it. The radio confuses some
 * neighbouring zones (menswear and the shoe wall on the demo store): a few steps read as the
 * neighbour split one stay into two, cutting its dwell and, when a part is under 30 s, dropping
 * that part as passing. A spell of zone B between two stretches of the same zone A, no longer than
 * `maxSteps` steps, whose mean posterior chance of B (forward-backward, posterior.ts) is below
 * `minConfidence`, is given to A: the whole track does not back B there.
 */

/**
 * `path` (zone index per step) with each short unsure spell merged into the zone around it (above).
 * `posteriors[t][z]`: the posterior chance of zone z at step t. A new array; `path` is left as is.
 */
export function mergeUnsureSpells(path: readonly number[], posteriors: ReadonlyArray<ArrayLike<number>>, maxSteps: number, minConfidence: number): number[] {
  const out = [...path];
  if (maxSteps <= 0) return out;
  let i = 0;
  while (i < out.length) {
    let j = i;
    while (j < out.length && out[j] === out[i]) j += 1;
    // the run [i, j) of zone out[i]
    const before = out[i - 1];
    const after = out[j];
    if (before !== undefined && before === after && j - i <= maxSteps) {
      const zone = out[i] as number;
      let sum = 0;
      for (let t = i; t < j; t += 1) sum += posteriors[t]?.[zone] ?? 0;
      if (sum / (j - i) < minConfidence) {
        for (let t = i; t < j; t += 1) out[t] = before;
        // the merged run joins the stretch before it: rescan from that stretch's start
        let k = i - 1;
        while (k > 0 && out[k - 1] === before) k -= 1;
        i = k;
        continue;
      }
    }
    i = j;
  }
  return out;
}
