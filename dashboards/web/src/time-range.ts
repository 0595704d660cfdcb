/**
 * The time ranges the pickers offer, in the store's own time zone: "today" is the store's day, not
 * the analyst's browser's. Pure functions (no DOM), unit-tested in time-range.test.ts.
 */

export const RANGE_PRESETS = ['today', 'yesterday', 'last7', 'last28'] as const;
export type RangePreset = (typeof RANGE_PRESETS)[number];

export const PRESET_LABELS: Record<RangePreset, string> = {
  today: 'Today',
  yesterday: 'Yesterday',
  last7: 'Last 7 days',
  last28: 'Last 28 days',
};

/** A range picked in the UI: a preset, or whole local days from `from` to `to` (YYYY-MM-DD, both included). */
export type RangeChoice = { preset: RangePreset } | { from: string; to: string };

export interface TimeRange {
  /** Start, epoch ms (inclusive). */
  fromMs: number;
  /** End, epoch ms (exclusive). */
  toMs: number;
  /** The metrics API interval for charts over this range. */
  interval: '1h' | '1d';
  intervalMs: number;
  /** The label shown with every figure of the range, e.g. "Today (Tue 1 Dec), Europe/Paris". */
  label: string;
  /** Whether the range reaches past now (its last interval is still filling). */
  includesNow: boolean;
}

const DAY_MS = 86_400_000;
const WEEK_MS = 7 * DAY_MS;

/** The offset of `timeZone` from UTC at `atMs`, in ms (Europe/Paris in winter: +3 600 000). */
export function zoneOffsetMs(timeZone: string, atMs: number): number {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone,
    hourCycle: 'h23',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  }).formatToParts(new Date(atMs));
  const get = (type: string) => Number(parts.find((p) => p.type === type)?.value);
  const asUtc = Date.UTC(get('year'), get('month') - 1, get('day'), get('hour'), get('minute'), get('second'));
  return asUtc - Math.floor(atMs / 1000) * 1000;
}

/** The local calendar date (YYYY-MM-DD) of an instant in `timeZone`. */
export function localDate(timeZone: string, atMs: number): string {
  return new Date(atMs + zoneOffsetMs(timeZone, atMs)).toISOString().slice(0, 10);
}

/** The instant a local day (YYYY-MM-DD) starts in `timeZone` (its midnight; DST days included). */
export function dayStartMs(timeZone: string, date: string): number {
  const naive = Date.parse(`${date}T00:00:00Z`);
  if (Number.isNaN(naive)) throw new Error(`not a date: '${date}' (use YYYY-MM-DD)`);
  // the offset at the guessed instant, then again at the corrected one (a day that starts next to a DST change)
  const first = naive - zoneOffsetMs(timeZone, naive);
  return naive - zoneOffsetMs(timeZone, first);
}

/** The local date `days` after `date` (negative: before). */
export function addDays(date: string, days: number): string {
  return new Date(Date.parse(`${date}T00:00:00Z`) + days * DAY_MS).toISOString().slice(0, 10);
}

const WEEKDAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** "Tue 1 Dec 2026" (the same in every browser: not left to Intl's locale data). */
export function dayLabel(date: string): string {
  const d = new Date(`${date}T00:00:00Z`);
  return `${WEEKDAYS[d.getUTCDay()]} ${d.getUTCDate()} ${MONTHS[d.getUTCMonth()]} ${d.getUTCFullYear()}`;
}

/** The range a choice stands for at `nowMs`, in the store's time zone. */
export function resolveRange(choice: RangeChoice, timeZone: string, nowMs: number): TimeRange {
  const today = localDate(timeZone, nowMs);
  let first: string;
  let last: string;
  let name: string;
  if ('preset' in choice) {
    const span = { today: [0, 0], yesterday: [-1, -1], last7: [-6, 0], last28: [-27, 0] }[choice.preset];
    first = addDays(today, span[0] ?? 0);
    last = addDays(today, span[1] ?? 0);
    name = PRESET_LABELS[choice.preset];
  } else {
    if (choice.to < choice.from) throw new Error(`the range ends (${choice.to}) before it starts (${choice.from})`);
    first = choice.from;
    last = choice.to;
    name = 'From';
  }
  const fromMs = dayStartMs(timeZone, first);
  const toMs = dayStartMs(timeZone, addDays(last, 1));
  const days = first === last ? dayLabel(first) : `${dayLabel(first)} – ${dayLabel(last)}`;
  const interval = toMs - fromMs <= 2 * DAY_MS + 2 * 3_600_000 ? '1h' : '1d';
  return {
    fromMs,
    toMs,
    interval,
    intervalMs: interval === '1h' ? 3_600_000 : DAY_MS,
    label: `${name === 'From' ? days : `${name} (${days})`}, ${timeZone}`,
    includesNow: fromMs <= nowMs && nowMs < toMs,
  };
}

/**
 * The same range a week earlier, for week-over-week figures ("today vs the same weekday last week").
 * A range still running is compared up to the same time of day a week ago, not with a whole day.
 */
export function weekBefore(range: TimeRange, nowMs: number): { fromMs: number; toMs: number } {
  const toMs = range.includesNow ? Math.min(range.toMs, nowMs) : range.toMs;
  return { fromMs: range.fromMs - WEEK_MS, toMs: toMs - WEEK_MS };
}

/** A choice from the address bar's `range` parameter (`today`, `last7`, `2026-11-20..2026-11-27`); unknown: today. */
export function parseRangeChoice(text: string | null): RangeChoice {
  if (text !== null && (RANGE_PRESETS as readonly string[]).includes(text)) return { preset: text as RangePreset };
  const custom = /^(\d{4}-\d{2}-\d{2})\.\.(\d{4}-\d{2}-\d{2})$/.exec(text ?? '');
  if (custom?.[1] && custom[2] && custom[1] <= custom[2]) return { from: custom[1], to: custom[2] };
  return { preset: 'today' };
}

export function formatRangeChoice(choice: RangeChoice): string {
  return 'preset' in choice ? choice.preset : `${choice.from}..${choice.to}`;
}
