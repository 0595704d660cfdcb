/**
 * Wifi device tracks with MAC rotation corrected: one store's wifi observations (a phone's probe
 * requests heard by the wifi sensors, under the phone's current pseudonym) linked into tracks, one per
 * phone and visit, in event time. A phone with a randomised MAC probes under a new pseudonym every few
 * minutes; counted as they are, its pseudonyms are several visitors.
 *
 * **The linking rule** (`WifiLinkParams`). A pseudonym heard for the first time at `f` (a *piece*)
 * continues an open track when
 *
 * - both are randomised (`randomized`: a locally administered MAC; a fixed MAC never rotates);
 * - the track went silent just before: on some sensor that heard both, the piece's first observation
 *   follows the track's last within `linkGapMs` (a phone's probe bursts come every 20 s or so, and a
 *   rotation takes effect between two bursts), and on no sensor that heard both did the track go on
 *   after the piece began (two phones heard at once are two phones). Gaps are compared per sensor, in
 *   that sensor's own clock, so a sensor's clock offset does not open or close a gap;
 * - it sounds like the same place: over the sensors that heard both, the mean absolute difference of
 *   their mean RSSI over the track's last `edgeMs` and the piece's first `edgeMs` is at most
 *   `maxRssiDiffDb` (a phone walks a few metres between two bursts; a phone elsewhere in the store, or
 *   on the pavement, sounds different to at least one of the two sensors);
 * - both were heard for at least `minLinkMs` (the track from its start, the piece within its first
 *   `edgeMs`): someone walking past the shop front is heard for seconds, and is no link (a phone's
 *   short first or last pseudonym is then a short track of its own: a passer-by, not a visit);
 * - neither the track's end nor the piece's start was heard by the entrance sensors only: a phone at
 *   the door is arriving or leaving, not rotating.
 *
 * Of several tracks that qualify, the piece continues the one with the smallest
 * `gap / linkGapMs + rssiDiff / maxRssiDiffDb` (ties by the track's key). Pieces are decided one at
 * a time in the order they began, each once `edgeMs` of it has been heard, and a decision is never
 * revisited: a later, better successor does not take a track already continued.
 *
 * **What it cannot do** (measured on tuning seeds 101–105, docs/analytics.md#wifi-footfall): with
 * two wifi sensors, bursts every 20 s or so and twenty phones inside, a rotation cannot be told from
 * another phone leaving as this one arrives; 17 % of the links join one phone's pseudonyms. The
 * visit count is right on average because the errors balance (a rotation missed adds a visit, a
 * departure linked to an arrival removes one), not because the tracks are phones.
 *
 * A track *closes* when it has been unheard for `maxGapMs` (as a BLE visit does); one heard for longer
 * than `maxVisitMs` is *static* (store equipment, a phone left behind, staff on a shift) and closes
 * without being a visit. What a closed track is (a visit, a passer-by) is wifi-visits.ts's job.
 *
 * **Deterministic**: `close(boundary)` uses only the observations stamped before the boundary (later
 * ones wait for theirs), so the same observations give the same tracks whatever the batches and order
 * they came in (the watermark, store-window.ts, sees that they are all in).
 *
 * **Privacy**: linking a phone's rotated pseudonyms undoes what the rotation is for. The pseudonyms of
 * a track are held here only while it is open, and a closed track hands out its first pseudonym (for
 * its id and the staff day) and counts, never the list: nothing written links one pseudonym to another.
 */

/** Why an observation was dropped: stamped before a boundary already processed, or a new pseudonym while `maxOpen` were open. */
export type WifiDrop = 'late_wifi' | 'window_full';

/** One wifi observation as the gateway receives it: stamp (the sensor's clock), sensor, pseudonym, RSSI, randomised MAC. */
export interface WifiObservationRow {
  ts: number;
  sensor: string;
  id: string;
  rssi: number;
  randomized: boolean;
}

export interface WifiLinkParams {
  /** A piece continues a track whose last observation (on a sensor that heard both) is at most this long before its first, ms. */
  linkGapMs: number;
  /** The stretch at the end of a track and at the start of a piece whose RSSI is compared, ms; a piece is decided once this much of it is heard. */
  edgeMs: number;
  /** Largest mean absolute difference of the sensors' mean RSSI between the track's end and the piece's start, dB. */
  maxRssiDiffDb: number;
  /** Only a track heard for at least this long, and a piece heard for this long within its first edgeMs, are linked, ms. */
  minLinkMs: number;
  /** A track unheard for longer than this has closed, ms. */
  maxGapMs: number;
  /** A track heard for longer than this is static, ms. */
  maxVisitMs: number;
}

/** Per sensor: observations, strongest RSSI. */
export type SensorHeard = Record<string, { n: number; maxRssi: number }>;

/** A track the boundary closed: what wifi-visits.ts needs, and no pseudonym but its first. */
export interface ClosedWifiTrack {
  /** The first pseudonym of the track (for its id and the staff day; links nothing). */
  key: string;
  /** First and last observation (stamps), ms. */
  start: number;
  end: number;
  /** Pseudonyms linked into it (1: no rotation seen). */
  pseudonyms: number;
  heard: SensorHeard;
  /** Heard for longer than maxVisitMs: static, not a visit. */
  static: boolean;
}

/** How far two sensors' clocks may be apart for the cheap preselection of tracks (linkCost decides, per sensor), ms. */
const CLOCK_SLACK_MS = 5 * 60_000;

/** An observation as the state holds it. */
export type WifiRow = [ts: number, sensor: string, id: string, rssi: number, randomized: 0 | 1];
type Row = WifiRow;

interface Piece {
  id: string;
  randomized: boolean;
  first: number;
  /** Its observations (all until decided; then those within edgeMs of the track's end). */
  rows: Row[];
  /** The track it belongs to (its key); null until decided. */
  track: string | null;
}

interface Track {
  key: string;
  start: number;
  last: number;
  /** Pseudonyms of the track, in order (the last one is its current). Held only while open. */
  pieces: string[];
  heard: SensorHeard;
}

/** The serialised state (version 1). */
export interface WifiTracksState {
  v: 1;
  /** Observations stamped at or after the last boundary, not taken in yet. */
  pending: Row[];
  pieces: Array<{ id: string; randomized: boolean; first: number; rows: Row[]; track: string | null }>;
  tracks: Track[];
  boundary: number | null;
  /** The first report's stamp (the engine's wifi data begin there), and the earliest while it is not known. */
  since: number | null;
  firstReport: number | null;
}

const byRow = (a: Row, b: Row) => a[0] - b[0] || cmp(a[2], b[2]) || cmp(a[1], b[1]) || a[3] - b[3];
const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** Per sensor: first and last stamp and mean RSSI of rows. */
function perSensor(rows: readonly Row[]): Map<string, { first: number; last: number; mean: number }> {
  const out = new Map<string, { first: number; last: number; sum: number; n: number }>();
  for (const [ts, sensor, , rssi] of rows) {
    const s = out.get(sensor);
    if (s === undefined) out.set(sensor, { first: ts, last: ts, sum: rssi, n: 1 });
    else {
      s.first = Math.min(s.first, ts);
      s.last = Math.max(s.last, ts);
      s.sum += rssi;
      s.n += 1;
    }
  }
  return new Map([...out].map(([sensor, s]) => [sensor, { first: s.first, last: s.last, mean: s.sum / s.n }]));
}

/**
 * The cost of continuing a track whose end is `tail` (its rows within edgeMs of its last) with a
 * piece whose start is `head`: `gap / linkGapMs + rssiDiff / maxRssiDiffDb`, or null when the rule
 * (module comment) says they are not one phone.
 */
export function linkCost(
  tail: readonly Row[],
  head: readonly Row[],
  params: Pick<WifiLinkParams, 'linkGapMs' | 'maxRssiDiffDb'>,
  entranceSensors: ReadonlySet<string>,
): number | null {
  const t = perSensor(tail);
  const h = perSensor(head);
  if (atDoor(t, entranceSensors) || atDoor(h, entranceSensors)) return null;
  let gap = Infinity;
  let diff = 0;
  let shared = 0;
  for (const [sensor, end] of t) {
    const start = h.get(sensor);
    if (start === undefined) continue;
    if (end.last >= start.first) return null; // the track went on after the piece began
    gap = Math.min(gap, start.first - end.last);
    diff += Math.abs(end.mean - start.mean);
    shared += 1;
  }
  if (shared === 0 || gap > params.linkGapMs) return null;
  const rssiDiff = diff / shared;
  if (rssiDiff > params.maxRssiDiffDb) return null;
  return gap / params.linkGapMs + rssiDiff / params.maxRssiDiffDb;
}

/** Whether rows were heard by the entrance sensors only (a store with others): at the door, or outside it. */
function atDoor(sensors: ReadonlyMap<string, unknown>, entranceSensors: ReadonlySet<string>): boolean {
  const heard = [...sensors.keys()];
  return entranceSensors.size > 0 && heard.length > 0 && heard.every((sensor) => entranceSensors.has(sensor));
}

export class WifiTracks {
  private pending: Row[] = [];
  private readonly pieces = new Map<string, Piece>();
  private readonly tracks = new Map<string, Track>();
  private boundary: number | null = null;
  /** The stamp of the first wifi report taken in (null: none yet): the engine's wifi data begin there. */
  since: number | null = null;
  /** The earliest report stamp not before the last boundary, while `since` is not known. */
  private firstReport: number | null = null;

  /** Pseudonyms taken in since the last boundary that are not open pieces yet (for `maxOpen`). */
  private pendingIds = new Set<string>();

  /**
   * `entranceSensors`: the wifi sensors in the store's entrance zones. `maxOpen`: at most this many
   * pseudonyms open at once (pieces and new ones waiting for the next boundary); a new one beyond it
   * is dropped (`window_full`), as the BLE window's `maxOpenDevices` (a flood of random MACs).
   */
  constructor(
    private readonly params: WifiLinkParams,
    private readonly entranceSensors: ReadonlySet<string> = new Set(),
    private readonly maxOpen = Infinity,
  ) {}

  /** A wifi sensor's report stamped `ts`, with or without observations: where the engine's wifi data begin. */
  report(ts: number): void {
    if (this.since !== null || (this.boundary !== null && ts < this.boundary)) return;
    this.firstReport = Math.min(this.firstReport ?? ts, ts);
  }

  /** An observation; why it was dropped (stamped before a boundary already processed, or a new pseudonym with `maxOpen` open), or undefined when kept. */
  add(o: WifiObservationRow): WifiDrop | undefined {
    if (this.boundary !== null && o.ts < this.boundary) return 'late_wifi';
    if (!this.pieces.has(o.id) && !this.pendingIds.has(o.id)) {
      if (this.pieces.size + this.pendingIds.size >= this.maxOpen) return 'window_full';
      this.pendingIds.add(o.id);
    }
    this.report(o.ts);
    this.pending.push([o.ts, o.sensor, o.id, o.rssi, o.randomized ? 1 : 0]);
    return undefined;
  }

  /** Tracks open (pseudonyms being linked). */
  get openTracks(): number {
    return this.tracks.size;
  }

  /** Moves to `boundary`: takes in the observations stamped before it, decides the pieces heard for edgeMs, and hands out the tracks that closed. */
  close(boundary: number): ClosedWifiTrack[] {
    this.boundary = boundary;
    const { edgeMs, maxGapMs, maxVisitMs } = this.params;
    const now = this.pending.filter((r) => r[0] < boundary).sort(byRow);
    this.pending = this.pending.filter((r) => r[0] >= boundary);
    if (this.since === null && this.firstReport !== null && this.firstReport < boundary) this.since = this.firstReport;
    for (const row of now) this.take(row);
    const undecided = [...this.pieces.values()].filter((p) => p.track === null && p.first <= boundary - edgeMs);
    undecided.sort((a, b) => a.first - b.first || cmp(a.id, b.id));
    this.decideAll(undecided);
    const out: ClosedWifiTrack[] = [];
    for (const track of [...this.tracks.values()].sort((a, b) => cmp(a.key, b.key))) {
      if (track.last >= boundary - maxGapMs) {
        this.trim(track);
        continue;
      }
      out.push({
        key: track.pieces[0] as string,
        start: track.start,
        end: track.last,
        pseudonyms: track.pieces.length,
        heard: track.heard,
        static: track.last - track.start > maxVisitMs,
      });
      for (const id of track.pieces) if (this.pieces.get(id)?.track === track.key) this.pieces.delete(id);
      this.tracks.delete(track.key);
    }
    this.pendingIds = new Set(this.pending.map((r) => r[2]).filter((id) => !this.pieces.has(id)));
    return out.sort((a, b) => a.start - b.start || cmp(a.key, b.key));
  }

  /** One observation into its pseudonym's piece (a new piece for a pseudonym not open), and its track's figures. */
  private take(row: Row): void {
    const [ts, , id, , randomized] = row;
    let piece = this.pieces.get(id);
    if (piece === undefined) {
      piece = { id, randomized: randomized === 1, first: ts, rows: [], track: null };
      this.pieces.set(id, piece);
    }
    piece.rows.push(row);
    if (piece.track !== null) this.heard(this.tracks.get(piece.track) as Track, row);
  }

  private heard(track: Track, [ts, sensor, , rssi]: Row): void {
    track.last = Math.max(track.last, ts);
    const h = track.heard[sensor];
    if (h === undefined) track.heard[sensor] = { n: 1, maxRssi: rssi };
    else {
      h.n += 1;
      h.maxRssi = Math.max(h.maxRssi, rssi);
    }
  }

  /**
   * Decides the pieces heard for edgeMs, one at a time in the order they began: each continues the
   * cheapest track the rule allows (one begun in this same step too), or begins one. (Matching all the
   * step's pieces at once, cheapest pairs first, made fewer links and no more right ones: tuning
   * seeds 101–105, docs/analytics.md#wifi-footfall.)
   */
  private decideAll(pieces: readonly Piece[]): void {
    for (const piece of pieces) {
      const best = this.candidates(piece)[0];
      const track: Track = best?.track ?? { key: `${piece.id}@${piece.first}`, start: piece.first, last: piece.first, pieces: [], heard: {} };
      if (best === undefined) this.tracks.set(track.key, track);
      this.join(piece, track);
    }
  }

  /** The open tracks the rule lets the piece continue, cheapest first (ties by key). */
  private candidates(piece: Piece): Array<{ track: Track; cost: number }> {
    const head = piece.rows.filter((r) => r[0] < piece.first + this.params.edgeMs);
    const headMs = head.reduce((last, r) => Math.max(last, r[0]), piece.first) - piece.first;
    if (!piece.randomized || headMs < this.params.minLinkMs) return [];
    const out: Array<{ track: Track; cost: number }> = [];
    for (const track of this.tracks.values()) {
      if (track.last - track.start < this.params.minLinkMs) continue;
      // stamps of different sensors differ by their clocks' offsets: linkCost compares per sensor
      if (Math.abs(track.last - piece.first) > this.params.linkGapMs + CLOCK_SLACK_MS) continue;
      const current = this.pieces.get(track.pieces[track.pieces.length - 1] as string);
      if (current === undefined || !current.randomized || current === piece) continue;
      const cost = linkCost(this.tail(track), head, this.params, this.entranceSensors);
      if (cost !== null) out.push({ track, cost });
    }
    return out.sort((a, b) => a.cost - b.cost || cmp(a.track.key, b.track.key));
  }

  private join(piece: Piece, track: Track): void {
    track.pieces.push(piece.id);
    piece.track = track.key;
    for (const row of piece.rows) this.heard(track, row);
  }

  /** The track's rows within edgeMs of its last observation, over its pieces. */
  private tail(track: Track): Row[] {
    const from = track.last - this.params.edgeMs;
    const out: Row[] = [];
    for (const id of track.pieces) for (const r of this.pieces.get(id)?.rows ?? []) if (r[0] >= from) out.push(r);
    return out;
  }

  /** Forgets the rows of an open track older than edgeMs before its end (bounded state). */
  private trim(track: Track): void {
    const from = track.last - this.params.edgeMs;
    for (const id of track.pieces) {
      const piece = this.pieces.get(id);
      if (piece !== undefined) piece.rows = piece.rows.filter((r) => r[0] >= from);
    }
  }

  toState(): WifiTracksState {
    return {
      v: 1,
      pending: this.pending,
      pieces: [...this.pieces.values()].map((p) => ({ id: p.id, randomized: p.randomized, first: p.first, rows: p.rows, track: p.track })),
      tracks: [...this.tracks.values()],
      boundary: this.boundary,
      since: this.since,
      firstReport: this.firstReport,
    };
  }

  static fromState(params: WifiLinkParams, state: WifiTracksState, entranceSensors?: ReadonlySet<string>, maxOpen?: number): WifiTracks {
    const tracks = new WifiTracks(params, entranceSensors, maxOpen);
    tracks.pending = state.pending;
    for (const p of state.pieces) tracks.pieces.set(p.id, { ...p });
    tracks.pendingIds = new Set(state.pending.map((r) => r[2]).filter((id) => !tracks.pieces.has(id)));
    for (const t of state.tracks) tracks.tracks.set(t.key, t);
    tracks.boundary = state.boundary;
    tracks.since = state.since;
    tracks.firstReport = state.firstReport;
    return tracks;
  }
}
