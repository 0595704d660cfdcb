/**
 * From a decoded path to what an analyst reads: zone segments in continuous time, the zone per clock
 * minute and the zone stays with their dwell. The minute and stay definitions are the truth's
 * (docs/simulator.md#ground-truth), restated here since the engine may not import the simulator.
 */

/** One minute, ms; minutes are epoch-aligned, as InfluxQL's `GROUP BY time(1m)`. */
export const MINUTE_MS = 60_000;
/**
 * A stay shorter than this is `passing` (walked through): a camera analytics vendor counts a visit to
 * a store section only after 30 s in it (Palexy, "Section Traffic Metrics", wiki.palexy.com).
 */
export const PASSING_MS = 30_000;

/** The device in `zone` over [from, to), epoch ms. */
export interface ZoneSegment {
  zone: string;
  from: number;
  to: number;
  /**
   * Present on the stretch before a track's first and after its last heard step: the device was
   * probably inside but silent (the app does not advertise all the time); it counts towards the
   * zone per minute, not towards stays and dwell, which are measured between sightings only.
   */
  imputed?: true;
}

export interface Stay {
  zone: string;
  enter: number;
  exit: number;
  dwellMs: number;
  /** Present when dwellMs < PASSING_MS. */
  passing?: true;
  /**
   * How sure the engine is of the stay, in [0, 1]: the mean posterior chance of its zone
   * (forward-backward, posterior.ts) over the steps inside it. Set by `assignZones`.
   */
  confidence?: number;
}

/** A track's steps: centre time of each step, the decoded zone, and whether the device was heard in it. */
export interface DecodedTrack {
  centres: readonly number[];
  zones: readonly string[];
  heard: readonly boolean[];
  stepMs: number;
}

/**
 * The segments of a decoded track. Each heard step covers [centre − step/2, centre + step/2). A run of
 * silent steps keeps the decoded zones' order but not their timing (Viterbi has no evidence of when a
 * change happened in the silence): each zone the path only passes through in the run gets
 * `passThroughMs` (walked through; at most an equal share), and the zone before and the zone after
 * the run share the rest equally, except that a zone of `walkThrough` (the entrance zones: walked
 * through on the way in and out) against one that is not gets only `passThroughMs` of it, as a zone
 * passed through. `extendMs` adds imputed segments before the first and after the last heard step.
 */
export function trackSegments(track: DecodedTrack, extendMs = 0, passThroughMs = Infinity, walkThrough: ReadonlySet<string> = new Set()): ZoneSegment[] {
  const { centres, zones, heard, stepMs } = track;
  const n = centres.length;
  const out: ZoneSegment[] = [];
  const push = (zone: string, from: number, to: number) => {
    if (to <= from) return;
    const last = out[out.length - 1];
    if (last !== undefined && last.zone === zone && last.to === from) last.to = to;
    else out.push({ zone, from, to });
  };
  const half = stepMs / 2;
  let i = 0;
  while (i < n) {
    if (heard[i] === true || i === 0) {
      push(zones[i] as string, (centres[i] as number) - half, (centres[i] as number) + half);
      i += 1;
      continue;
    }
    let j = i;
    while (j < n && heard[j] !== true) j += 1;
    // silent run [i, j): its time goes to the zones from the step before it to the step after it
    const from = (centres[i] as number) - half;
    const to = (centres[j - 1] as number) + half;
    const chain: string[] = [];
    for (let t = i - 1; t <= Math.min(j, n - 1); t += 1) if (chain[chain.length - 1] !== zones[t]) chain.push(zones[t] as string);
    if (j >= n) chain.splice(1); // a track ends heard; a silent tail carries the last heard zone
    if (chain.length === 1) push(chain[0] as string, from, to);
    else {
      const between = Math.min(passThroughMs, (to - from) / chain.length);
      const ends = to - from - (chain.length - 2) * between;
      // the zone before the run gets `first` of what the zones passed through leave, the zone after the rest
      const walkedBefore = walkThrough.has(chain[0] as string);
      const walkedAfter = walkThrough.has(chain[chain.length - 1] as string);
      const first = walkedBefore === walkedAfter ? ends / 2 : walkedBefore ? Math.min(passThroughMs, ends / 2) : ends - Math.min(passThroughMs, ends / 2);
      let at = from;
      chain.forEach((zone, k) => {
        const length = k === 0 ? first : k === chain.length - 1 ? ends - first : between;
        // whole milliseconds, as the stamps
        push(zone, Math.round(at), k === chain.length - 1 ? to : Math.round(at + length));
        at += length;
      });
    }
    i = j;
  }
  const first = out[0];
  const last = out[out.length - 1];
  if (first === undefined || last === undefined || extendMs <= 0) return out;
  return [
    { zone: first.zone, from: first.from - extendMs, to: first.from, imputed: true },
    ...out,
    { zone: last.zone, from: last.to, to: last.to + extendMs, imputed: true },
  ];
}

/** Zone per clock minute: the zone the device spent most of the minute in (first on a tie), for minutes it spent at least half of inside. */
export function minuteZones(segments: readonly ZoneSegment[]): Map<number, string> {
  const perMinute = new Map<number, Map<string, number>>();
  for (const seg of segments) {
    for (let minute = Math.floor(seg.from / MINUTE_MS) * MINUTE_MS; minute < seg.to; minute += MINUTE_MS) {
      const overlap = Math.min(seg.to, minute + MINUTE_MS) - Math.max(seg.from, minute);
      if (overlap <= 0) continue;
      const zones = perMinute.get(minute) ?? new Map<string, number>();
      zones.set(seg.zone, (zones.get(seg.zone) ?? 0) + overlap);
      perMinute.set(minute, zones);
    }
  }
  const out = new Map<number, string>();
  for (const minute of [...perMinute.keys()].sort((a, b) => a - b)) {
    let total = 0;
    let best: [string, number] | undefined;
    for (const [zone, ms] of perMinute.get(minute) as Map<string, number>) {
      total += ms;
      if (best === undefined || ms > best[1]) best = [zone, ms];
    }
    if (best !== undefined && total * 2 >= MINUTE_MS) out.set(minute, best[0]);
  }
  return out;
}

/** Consecutive observed segments in one zone merged into stays, each with its dwell and `passing` flag; imputed segments are left out. */
export function stays(segments: readonly ZoneSegment[]): Stay[] {
  const merged: ZoneSegment[] = [];
  for (const seg of segments) {
    if (seg.imputed === true) continue;
    const last = merged[merged.length - 1];
    if (last !== undefined && last.zone === seg.zone && last.to === seg.from) last.to = seg.to;
    else merged.push({ zone: seg.zone, from: seg.from, to: seg.to });
  }
  return merged.map(({ zone, from, to }) => ({
    zone,
    enter: from,
    exit: to,
    dwellMs: to - from,
    ...(to - from < PASSING_MS ? { passing: true as const } : {}),
  }));
}

/**
 * Stays with a short spell of other zones between two stays of one zone merged into one stay of that
 * zone: the spell, lasting at most `maxSpellMs` and without a gap, is most often the radio taking the
 * zone for a neighbour (0: none merged). For stays and dwell; the zone per minute keeps the spell.
 */
export function mergeSpells(list: readonly Stay[], maxSpellMs: number): Stay[] {
  const out: Stay[] = [];
  for (const stay of list) {
    out.push({ ...stay });
    if (maxSpellMs <= 0) continue;
    // back over contiguous stays of other zones to the latest stay of this one
    let k = out.length - 2;
    while (k >= 0 && (out[k] as Stay).zone !== stay.zone && (out[k] as Stay).exit === (out[k + 1] as Stay).enter) k -= 1;
    const head = out[k];
    if (head === undefined || k === out.length - 2 || head.zone !== stay.zone || head.exit !== (out[k + 1] as Stay).enter) continue;
    if (stay.enter - head.exit > maxSpellMs) continue;
    const dwellMs = stay.exit - head.enter;
    out.splice(k, out.length - k, {
      zone: stay.zone,
      enter: head.enter,
      exit: stay.exit,
      dwellMs,
      ...(dwellMs < PASSING_MS ? { passing: true as const } : {}),
    });
  }
  return out;
}

/** Dwell per zone, ms: the sum of the non-passing stays in it. */
export function dwellByZone(list: readonly Stay[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const stay of list) if (stay.passing !== true) out.set(stay.zone, (out.get(stay.zone) ?? 0) + stay.dwellMs);
  return out;
}
