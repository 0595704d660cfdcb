/**
 * Staff and equipment, per local day of the store (its `timezone`): which devices the engine has
 * classed staff today, and how long each device has been heard in all today. A track of a device
 * classed staff for its day is not a visit (and counts towards no occupancy). A device is classed
 * staff for the rest of its day when
 *
 * - (hours) a track of it, heard for at least `minTrackMs` (what would otherwise be a visit), starts
 *   while the store is closed (its `openingHours`, more than `CLOSED_MARGIN_MS` from an opening
 *   range): the doors are shut, so whoever is inside is staff or equipment;
 * - (day) its tracks of the day, this one included, add up to more than `maxVisitMs`: nobody shops for
 *   longer than the static threshold in a day, with or without a break;
 * - (static) it was classed static (heard for longer than `maxVisitMs` without a gap).
 *
 * The decision is made when a track closes, from that track and the tracks before it (never from
 * later ones): a visit already made final stays a visit. Deterministic (the store window calls it at
 * each boundary in order) and bounded: an entry is forgotten once no track that can still close
 * started on its day. Serialisable with the window (store-window.ts).
 */
import { parseDayHours, WEEKDAYS, type OpeningRange, type StoreConfig, type Weekday } from '../../config/index.js';

/** A store's opening hours and time zone, as the config has them (`openingHours` absent: not known). */
export type StoreHours = Pick<StoreConfig, 'openingHours' | 'timezone'>;

/**
 * A track counts as started while closed only this far from any opening range, both ways: room for
 * a sensor's clock off by a few minutes and for a customer let in at the opening minute. Staff arrive
 * 15–30 min before opening in the simulator (assumed there too).
 */
export const CLOSED_MARGIN_MS = 5 * 60_000;

export type StaffReason = 'hours' | 'day' | 'static';

/** Serialised: device, local day (YYYY-MM-DD), ms heard that day, why classed staff (null: not staff). */
export type StaffDaysState = Array<[device: string, day: string, heardMs: number, staff: StaffReason | null]>;

const formatters = new Map<string, Intl.DateTimeFormat>();
function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (f === undefined) {
    f = new Intl.DateTimeFormat('en-GB', {
      timeZone,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      weekday: 'short',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
      hourCycle: 'h23',
    });
    formatters.set(timeZone, f);
  }
  return f;
}

/** The local day (YYYY-MM-DD), weekday and minute after midnight of an instant in a time zone. */
export function localDay(epochMs: number, timeZone: string): { day: string; weekday: Weekday; minute: number } {
  const parts = formatter(timeZone).formatToParts(new Date(epochMs));
  const get = (type: string) => parts.find((p) => p.type === type)?.value ?? '';
  const weekday = get('weekday').toLowerCase().slice(0, 3) as Weekday;
  const minute = Number(get('hour')) * 60 + Number(get('minute')) + Number(get('second')) / 60;
  return { day: `${get('year')}-${get('month')}-${get('day')}`, weekday: WEEKDAYS.includes(weekday) ? weekday : 'mon', minute };
}

function rangesOn(hours: StoreHours, weekday: Weekday): readonly OpeningRange[] {
  const text = hours.openingHours?.[weekday];
  if (text === undefined) return [];
  const parsed = parseDayHours(text);
  return typeof parsed === 'string' ? [] : parsed; // the schema checked the text
}

/** Whether the store is open at an instant (undefined: its hours are not known). */
export function isOpenAt(hours: StoreHours, epochMs: number): boolean | undefined {
  if (hours.openingHours === undefined) return undefined;
  const t = localDay(epochMs, hours.timezone);
  return rangesOn(hours, t.weekday).some((r) => t.minute >= r.fromMin && t.minute < r.toMin);
}

/** Whether an instant lies in closed time, more than CLOSED_MARGIN_MS from any opening (false when the hours are not known). */
export function closedAt(hours: StoreHours, epochMs: number): boolean {
  return [epochMs - CLOSED_MARGIN_MS, epochMs, epochMs + CLOSED_MARGIN_MS].every((t) => isOpenAt(hours, t) === false);
}

export class StaffDays {
  private readonly days = new Map<string, { day: string; heardMs: number; staff: StaffReason | null }>();

  constructor(
    private readonly hours: StoreHours,
    private readonly options: { maxVisitMs: number; minTrackMs: number },
  ) {}

  private dayOf(epochMs: number): string {
    return localDay(epochMs, this.hours.timezone).day;
  }

  /** The device's entry for the day of `epochMs` (a fresh one when its last entry is of another day). */
  private entry(device: string, epochMs: number): { day: string; heardMs: number; staff: StaffReason | null } {
    const day = this.dayOf(epochMs);
    let entry = this.days.get(device);
    if (entry === undefined || entry.day !== day) {
      entry = { day, heardMs: 0, staff: null };
      this.days.set(device, entry);
    }
    return entry;
  }

  /** A device classed static while heard at `epochMs`: staff for the rest of that day. */
  markStatic(device: string, epochMs: number): void {
    const entry = this.entry(device, epochMs);
    entry.staff ??= 'static';
  }

  /**
   * A track of `device` heard from `first` to `last` has closed: staff (why) or null (a visit or a
   * passer-by, as its length says). Its heard time is added to the device's day.
   */
  closeTrack(device: string, first: number, last: number): StaffReason | null {
    const entry = this.entry(device, first);
    const heardMs = last - first;
    entry.heardMs += heardMs;
    if (entry.staff === null && heardMs >= this.options.minTrackMs && closedAt(this.hours, first)) entry.staff = 'hours';
    if (entry.staff === null && entry.heardMs > this.options.maxVisitMs) entry.staff = 'day';
    return entry.staff;
  }

  /** Forgets the days before the local day of `epochMs` (no track that can still close started on them). */
  prune(epochMs: number): void {
    const day = this.dayOf(epochMs);
    for (const [device, entry] of this.days) if (entry.day < day) this.days.delete(device);
  }

  /** Devices classed staff on their current day. */
  get staffDevices(): number {
    let n = 0;
    for (const entry of this.days.values()) if (entry.staff !== null) n += 1;
    return n;
  }

  toState(): StaffDaysState {
    return [...this.days].map(([device, e]) => [device, e.day, e.heardMs, e.staff]);
  }

  static fromState(hours: StoreHours, options: { maxVisitMs: number; minTrackMs: number }, state: StaffDaysState | undefined): StaffDays {
    const days = new StaffDays(hours, options);
    for (const [device, day, heardMs, staff] of state ?? []) days.days.set(device, { day, heardMs, staff });
    return days;
  }
}
