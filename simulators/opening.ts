/**
 * When the store is open: its `stores[].openingHours` in its `timezone` (config/layout-schema.ts), or
 * 09:00-21:00 every day for a store that lists none (the simulator's earlier fixed hours). Staff
 * (staff.ts) work around these hours; the daily arrival profile (arrivals.ts) is zero outside them.
 */
import type { StoreConfig } from '../config/index.js';
import { parseDayHours, WEEKDAYS, type OpeningRange, type Weekday } from '../config/index.js';

/** Opening ranges of a store without `openingHours`, minutes after local midnight. */
export const FALLBACK_RANGES: readonly OpeningRange[] = [{ fromMin: 9 * 60, toMin: 21 * 60 }];
const MS_PER_DAY = 86_400_000;

/** An interval of epoch ms, `from` included, `to` excluded. */
export interface Span {
  from: number;
  to: number;
}

/** The store's opening ranges on a weekday, minutes after local midnight. */
export function rangesOn(store: Pick<StoreConfig, 'openingHours'>, day: Weekday): readonly OpeningRange[] {
  if (!store.openingHours) return FALLBACK_RANGES;
  const parsed = parseDayHours(store.openingHours[day]);
  return typeof parsed === 'string' ? [] : parsed; // the schema checked the text
}

const formatters = new Map<string, Intl.DateTimeFormat>();
function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    const options: Intl.DateTimeFormatOptions = {
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
      hourCycle: 'h23',
    };
    try {
      f = new Intl.DateTimeFormat('en-GB', { ...options, timeZone });
    } catch (err) {
      if (!(err instanceof RangeError)) throw err;
      f = new Intl.DateTimeFormat('en-GB', { ...options, timeZone: 'UTC' });
    }
    formatters.set(timeZone, f);
  }
  return f;
}

/** The local calendar date and time of an instant: y, m (1-12), d, minutes after midnight (fractional), weekday. */
export function localTime(epochMs: number, timeZone: string): { y: number; m: number; d: number; minute: number; weekday: Weekday } {
  const parts = formatter(timeZone).formatToParts(new Date(epochMs));
  const get = (type: string) => Number(parts.find((p) => p.type === type)?.value ?? 0);
  const y = get('year');
  const m = get('month');
  const d = get('day');
  const minute = get('hour') * 60 + get('minute') + get('second') / 60 + (epochMs % 1000 >= 0 ? epochMs % 1000 : 0) / 60_000;
  // 1970-01-05 was a Monday
  const dayNumber = Math.floor(Date.UTC(y, m - 1, d) / MS_PER_DAY);
  const weekday = WEEKDAYS[(((dayNumber - 4) % 7) + 7) % 7] as Weekday;
  return { y, m, d, minute, weekday };
}

/** Epoch ms of a local date and minute in a time zone (two fixed-point steps over the zone's offset). */
export function epochOfLocal(y: number, m: number, d: number, minute: number, timeZone: string): number {
  const wall = Date.UTC(y, m - 1, d) + minute * 60_000;
  let guess = wall;
  for (let i = 0; i < 2; i += 1) {
    const lt = localTime(guess, timeZone);
    const seen = Date.UTC(lt.y, lt.m - 1, lt.d) + Math.round(lt.minute * 60_000);
    guess += wall - seen;
  }
  return guess;
}

/** Whether the store is open at an instant. */
export function isOpenAt(store: Pick<StoreConfig, 'openingHours' | 'timezone'>, epochMs: number): boolean {
  const lt = localTime(epochMs, store.timezone);
  return rangesOn(store, lt.weekday).some((r) => lt.minute >= r.fromMin && lt.minute < r.toMin);
}

/** A day the store opens: its local date, ranges, and its first opening and last closing as epoch ms. */
export interface OpenDay {
  weekday: Weekday;
  ranges: readonly OpeningRange[];
  /** First opening of the day, epoch ms. */
  opens: number;
  /** Last closing of the day, epoch ms. */
  closes: number;
}

/** Every local day with opening hours whose span [opens − marginMs, closes + marginMs] meets [startMs, endMs]. */
export function openDays(store: Pick<StoreConfig, 'openingHours' | 'timezone'>, startMs: number, endMs: number, marginMs: number): OpenDay[] {
  const out: OpenDay[] = [];
  // every 12 h: a local date is never stepped over, even across a 23-hour day (duplicates are dropped below)
  for (let t = startMs - MS_PER_DAY; t <= endMs + MS_PER_DAY; t += MS_PER_DAY / 2) {
    const lt = localTime(t, store.timezone);
    const ranges = rangesOn(store, lt.weekday);
    const first = ranges[0];
    const last = ranges[ranges.length - 1];
    if (!first || !last) continue;
    const opens = epochOfLocal(lt.y, lt.m, lt.d, first.fromMin, store.timezone);
    const closes = epochOfLocal(lt.y, lt.m, lt.d, last.toMin, store.timezone);
    if (closes + marginMs < startMs || opens - marginMs > endMs) continue;
    if (out.some((o) => o.opens === opens)) continue;
    out.push({ weekday: lt.weekday, ranges, opens, closes });
  }
  return out;
}
