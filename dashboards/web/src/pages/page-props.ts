import type { LiveAnswer, Store } from '../api';
import type { TimeRange } from '../time-range';

/** What every page gets: the store picked, the range picked (resolved in the store's time zone), the live counts. */
export interface PageProps {
  store: Store;
  range: TimeRange;
  /** The range as the address bar has it (today, last7, 2026-11-20..2026-11-27): CSV file names, data keys. */
  rangeKey: string;
  nowMs: number;
  live: LiveAnswer | null;
}
