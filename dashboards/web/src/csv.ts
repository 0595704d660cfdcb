/** CSV of a chart's or table's data (RFC 4180: comma separated, CRLF, fields quoted when they must be). */

export type CsvCell = string | number | boolean | null | undefined;

function cell(value: CsvCell): string {
  if (value === null || value === undefined) return '';
  const text = String(value);
  return /[",\r\n]/.test(text) || /^\s|\s$/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** The header row, then one row per record; a formula-looking text is kept as text (a leading ' for =, +, -, @). */
export function toCsv(header: readonly string[], rows: readonly (readonly CsvCell[])[]): string {
  const safe = (value: CsvCell) => (typeof value === 'string' && /^[=+\-@\t\r]/.test(value) ? `'${value}` : value);
  return [header, ...rows].map((row) => row.map((value) => cell(safe(value))).join(',')).join('\r\n') + '\r\n';
}

/** A file name from a chart's title and range: "footfall-per-hour_2026-12-01.csv". */
export function csvFileName(title: string, rangeKey: string): string {
  const slug = (s: string) =>
    s
      .toLowerCase()
      .replace(/[^a-z0-9.]+/g, '-')
      .replace(/^-+|-+$/g, '');
  return `${slug(title)}_${slug(rangeKey)}.csv`;
}
