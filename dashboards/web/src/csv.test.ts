import { describe, expect, it } from 'vitest';

import { csvFileName, toCsv } from './csv';

describe('CSV export', () => {
  it('writes a header and rows, quoting only what must be quoted, empty for no value', () => {
    expect(
      toCsv(
        ['time', 'zone', 'count'],
        [
          ['2026-12-01T09:00:00Z', 'Men, upstairs', 3],
          ['2026-12-01T10:00:00Z', 'say "hi"', null],
        ],
      ),
    ).toBe('time,zone,count\r\n2026-12-01T09:00:00Z,"Men, upstairs",3\r\n2026-12-01T10:00:00Z,"say ""hi""",\r\n');
  });

  it('keeps a formula-looking label as text, so a spreadsheet does not run it', () => {
    expect(toCsv(['label'], [['=HYPERLINK("x")'], ['-3']])).toBe(`label\r\n"'=HYPERLINK(""x"")"\r\n'-3\r\n`);
    expect(toCsv(['n'], [[-3]])).toBe('n\r\n-3\r\n');
  });

  it('names the file after the chart and range', () => {
    expect(csvFileName('Footfall per hour', '2026-12-01')).toBe('footfall-per-hour_2026-12-01.csv');
  });
});
