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
export function trackSegments(
  track: DecodedTrack,
  extendMs = 0,
  passThroughMs = Infinity,
  walkThrough: ReadonlySet<string> = new Set(),
  /** The share of a silent run's end time the zone before it gets (between two zones neither walked through); absent: half. */
  splitShare?: (before: string, after: string, endsMs: number) => number,
  /**
   * A zone heard for at most this long between a silent run and a heard change to another zone was
   * walked through, as an entrance zone is (0: off).
   */
  walkedHeardMs = 0,
): ZoneSegment[] {
  const { centres, zones, heard, stepMs } = track;
  const n = centres.length;
  // the heard steps of one zone from `at` in direction `dir`: walked through when a heard step of another zone ends them soon
  const walkedFrom = (at: number, dir: 1 | -1): boolean => {
    if (walkedHeardMs <= 0) return false;
    let k = at;
    while (k >= 0 && k < n && heard[k] === true && zones[k] === zones[at]) k += dir;
    return k >= 0 && k < n && heard[k] === true && Math.abs(k - at) * stepMs <= walkedHeardMs;
  };
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
      const walkedBefore = walkThrough.has(chain[0] as string) || walkedFrom(i - 1, -1);
      const walkedAfter = walkThrough.has(chain[chain.length - 1] as string) || (j < n && walkedFrom(j, 1));
      const even =
        walkedBefore === walkedAfter && splitShare !== undefined ? splitShare(chain[0] as string, chain[chain.length - 1] as string, ends) * ends : ends / 2;
      const first = walkedBefore === walkedAfter ? even : walkedBefore ? Math.min(passThroughMs, ends / 2) : ends - Math.min(passThroughMs, ends / 2);
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

/**
 * The change inside a silent run between stays in A (a ms of the track's time in A outside the run)
 * and B (b ms), run length L, the change at u·L with u uniform: the u that minimises the expected sum
 * of the two dwells' relative errors, the median of u weighted by 1/(a + uL) + 1/(b + (1 − u)L).
 * Closed form: (a + uL) / (b + (1 − u)L) = √(a(a + L) / (b(b + L))).
 */
export function dwellWeightedShare(a: number, b: number, lengthMs: number, floorMs: number): number {
  const x = Math.max(a, floorMs);
  const y = Math.max(b, floorMs);
  const r = Math.sqrt((x * (x + lengthMs)) / (y * (y + lengthMs)));
  return Math.min(1, Math.max(0, (r * (y + lengthMs) - x) / (lengthMs * (1 + r))));
}

/**
 * The segments of a track for its stays and dwell: as `trackSegments`, then each change inside a
 * silent run between two zones neither walked through placed by `dwellWeightedShare`, with a and b
 * the zones' time in the track outside the run (from the middle-placed segments).
 */
export function dwellPlacedSegments(track: DecodedTrack, passThroughMs = Infinity, walkThrough: ReadonlySet<string> = new Set()): ZoneSegment[] {
  const middle = trackSegments(track, 0, passThroughMs, walkThrough);
  const total = new Map<string, number>();
  for (const seg of middle) total.set(seg.zone, (total.get(seg.zone) ?? 0) + seg.to - seg.from);
  return trackSegments(track, 0, passThroughMs, walkThrough, (before, after, endsMs) =>
    dwellWeightedShare((total.get(before) ?? 0) - endsMs / 2, (total.get(after) ?? 0) - endsMs / 2, endsMs, track.stepMs),
  );
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
 * Stays with a spell of other zones between two stays of one zone, the spell lasting at most
 * `maxSpellMs` and without a gap, merged into one stay of that zone (0: none merged).
 */
export function mergeSpells(list: readonly Stay[], maxSpellMs: number): Stay[] {
  const out: Stay[] = [];
  for (const stay of list) {
    out.push({ ...stay });
    if (maxSpellMs <= 0) continue;
    // the latest earlier stay of the same zone, reached through contiguous stays only
    let k = out.length - 2;
    while (k >= 0 && (out[k] as Stay).zone !== stay.zone && (out[k] as Stay).exit === (out[k + 1] as Stay).enter) k -= 1;
    const head = out[k];
    if (k < 0 || k === out.length - 2 || head === undefined || head.zone !== stay.zone || head.exit !== (out[k + 1] as Stay).enter) continue;
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
