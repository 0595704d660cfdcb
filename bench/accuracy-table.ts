/** The accuracy runner's seeds option and its report table (bench/accuracy.ts). */
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

/** A markdown table: one row per figure, one column per seed, then mean, min and max. */
export function formatTable(results: readonly Evaluation[], run: { durationMs: number; visitorsPerHour: number; scenario?: string | undefined }): string {
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
  return `\n${what}\n\n${lines.join('\n')}\n`;
}
