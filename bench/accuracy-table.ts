/** The accuracy runner's seeds and end options and its report table (bench/accuracy.ts). */
import type { Evaluation } from '../evaluation/evaluate.js';

/** `1-5` or `1,4,9` → the seeds. */
export function parseSeeds(text: string): number[] {
  const range = /^(\d+)-(\d+)$/.exec(text.trim());
  const seeds = range
    ? Array.from({ length: Number(range[2]) - Number(range[1]) + 1 }, (_, i) => Number(range[1]) + i)
    : text.split(',').map((s) => Number(s.trim()));
  if (seeds.length === 0 || seeds.length > 50 || seeds.some((s) => !Number.isInteger(s) || s < 0))
    throw new Error(`--seeds: expected e.g. 1-5 or 1,4,9 (at most 50), got '${text}'`);
  return seeds;
}

/** `--end`: an ISO 8601 time in the past (with its offset or Z), else now. */
export function parseEnd(text: string | undefined, now = Date.now()): number {
  if (text === undefined) return now;
  const end = Date.parse(text);
  if (!/^\d{4}-\d{2}-\d{2}T/.test(text) || Number.isNaN(end)) throw new Error(`--end: expected an ISO 8601 time such as 2026-11-30T15:18:00Z, got '${text}'`);
  if (end > now) throw new Error(`--end: ${text} is in the future; the windows must lie in the past`);
  return end;
}

/** A markdown table: one row per figure, one column per seed, then mean, min and max. */
export function formatTable(
  results: readonly Evaluation[],
  run: { durationMs: number; visitorsPerHour: number; scenario?: string | undefined; timezone: string },
): string {
  const first = results[0];
  if (!first) return 'no seeds\n';
  const header = ['Figure', ...results.map((r) => `seed ${r.seed}`), 'mean', 'min', 'max'];
  const rows = first.figures.map((figure) => {
    const values = results.map((r) => r.figures.find((f) => f.key === figure.key)?.value ?? null);
    const known = values.filter((v): v is number => v !== null);
    const cell = (v: number | null) => (v === null ? 'n/a' : `${v.toFixed(1)}${figure.unit === '%' ? ' %' : ' pp'}`);
    const mean = known.length > 0 ? known.reduce((a, b) => a + b, 0) / known.length : null;
    return [
      `${figure.label} (\`${figure.key}\`)`,
      ...values.map(cell),
      cell(mean),
      cell(known.length > 0 ? Math.min(...known) : null),
      cell(known.length > 0 ? Math.max(...known) : null),
    ];
  });
  const lines = [header, header.map(() => '---'), ...rows].map((r) => `| ${r.join(' | ')} |`);
  const what = `${results.length} seeds, ${run.durationMs / 60_000} min each at ${run.visitorsPerHour} visitors/h${run.scenario ? `, scenario ${run.scenario}` : ''}`;
  const windows = results.map((r) => `- seed ${r.seed}: ${isoWindow(r.windowStart, r.windowEnd)} (${localWindow(r.windowStart, r.windowEnd, run.timezone)})`);
  return `\n${what}\n\n${windows.join('\n')}\n\n${lines.join('\n')}\n`;
}

function isoWindow(start: number, end: number): string {
  return `${new Date(start).toISOString()} to ${new Date(end).toISOString()}`;
}

/** The window in the store's own time zone, as its opening hours are: `Mon 30 Nov 2026 11:14–12:14 Europe/Paris`. */
function localWindow(start: number, end: number, timezone: string): string {
  const day = new Intl.DateTimeFormat('en-GB', { timeZone: timezone, weekday: 'short', day: 'numeric', month: 'short', year: 'numeric' });
  const time = new Intl.DateTimeFormat('en-GB', { timeZone: timezone, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
  return `${day.format(start).replace(',', '')} ${time.format(start)}–${time.format(end)} ${timezone}`;
}
