/** The presence accuracy runner's report table (bench/presence-accuracy.ts). */

/** One seed's figures: the engine's and the strongest-scanner baseline's. */
export interface PresenceResult {
  seed: number;
  /** App carriers' visitor-minutes in the truth. */
  minutes: number;
  /** Zone accuracy of app carriers' visitor-minutes, %. */
  engineZonePct: number | null;
  baselineZonePct: number | null;
  /** Dwell MdAPE over app carriers' visit-zones (non-passing stays), %. */
  engineDwellPct: number | null;
  baselineDwellPct: number | null;
  /** Visit-zone pairs the dwell median is over. */
  dwellPairs: number;
  /** Share of the visitor-minutes in which the beacon was never heard (stamped in the minute), %. */
  silentMinutesPct: number | null;
  /** The engine's zone accuracy over the minutes the beacon was heard in, and over the others, %. */
  engineHeardPct: number | null;
  engineSilentPct: number | null;
}

const ROWS: ReadonlyArray<{ label: string; value: (r: PresenceResult) => number | null; unit: string }> = [
  { label: 'zone accuracy, app carriers: engine', value: (r) => r.engineZonePct, unit: ' %' },
  { label: 'zone accuracy, app carriers: strongest scanner', value: (r) => r.baselineZonePct, unit: ' %' },
  { label: 'dwell MdAPE: engine', value: (r) => r.engineDwellPct, unit: ' %' },
  { label: 'dwell MdAPE: strongest scanner', value: (r) => r.baselineDwellPct, unit: ' %' },
  { label: 'minutes without a sighting of the beacon', value: (r) => r.silentMinutesPct, unit: ' %' },
  { label: 'engine zone accuracy in minutes with a sighting', value: (r) => r.engineHeardPct, unit: ' %' },
  { label: 'engine zone accuracy in minutes without one', value: (r) => r.engineSilentPct, unit: ' %' },
  { label: 'app visitor-minutes', value: (r) => r.minutes, unit: '' },
  { label: 'visit-zone stays (dwell pairs)', value: (r) => r.dwellPairs, unit: '' },
];

/** A markdown table: one row per figure, one column per seed, then the mean. */
export function formatPresenceTable(title: string, results: readonly PresenceResult[]): string {
  if (results.length === 0) return `${title}: no seeds\n`;
  const header = ['Figure', ...results.map((r) => `seed ${r.seed}`), 'mean'];
  const rows = ROWS.map(({ label, value, unit }) => {
    const values = results.map(value);
    const known = values.filter((v): v is number => v !== null);
    const digits = unit === '' ? 0 : 1;
    const cell = (v: number | null) => (v === null ? 'n/a' : `${v.toFixed(digits)}${unit}`);
    return [label, ...values.map(cell), cell(known.length > 0 ? known.reduce((a, b) => a + b, 0) / known.length : null)];
  });
  const lines = [header, header.map(() => '---'), ...rows].map((r) => `| ${r.join(' | ')} |`);
  return `\n${title}\n\n${lines.join('\n')}\n`;
}
