import { describe, expect, it } from 'vitest';

import { formatDuration, parseDuration } from './duration.js';

describe('parseDuration', () => {
  it.each([
    ['90s', 90_000],
    ['30m', 1_800_000],
    ['2h', 7_200_000],
    ['1h30m', 5_400_000],
    ['500ms', 500],
    ['1d', 86_400_000],
    ['1.5h', 5_400_000],
    ['45', 45_000],
    [' 10m ', 600_000],
  ])('reads %s as %d ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each(['', 'abc', '10x', '5 m', '-3m', 'm'])('rejects %j and names it', (text) => {
    expect(() => parseDuration(text)).toThrow(/invalid duration/);
  });
});

describe('formatDuration', () => {
  it('writes hours, minutes and seconds', () => {
    expect(formatDuration(3_723_000)).toBe('1h02m03s');
    expect(formatDuration(61_000)).toBe('1m01s');
    expect(formatDuration(4_000)).toBe('4s');
  });
});
