import { describe, expect, it } from 'vitest';

import { formatPresenceTable, type PresenceResult } from './presence-table.js';

const result = (seed: number, engine: number | null): PresenceResult => ({
  seed,
  minutes: 300 + seed,
  engineZonePct: engine,
  baselineZonePct: 60,
  engineDwellPct: 12.34,
  baselineDwellPct: 30,
  dwellPairs: 70,
  silentMinutesPct: 20,
  engineHeardPct: 90,
  engineSilentPct: 50,
});

describe('formatPresenceTable', () => {
  it('prints one column per seed and the mean of the known values', () => {
    const text = formatPresenceTable('title', [result(1, 80), result(2, 90), result(3, null)]);
    const lines = text.trim().split('\n');
    expect(lines[0]).toBe('title');
    expect(lines[2]).toBe('| Figure | seed 1 | seed 2 | seed 3 | mean |');
    expect(text).toContain('| zone accuracy, app carriers: engine | 80.0 % | 90.0 % | n/a | 85.0 % |');
    expect(text).toContain('| dwell MdAPE: engine | 12.3 % | 12.3 % | 12.3 % | 12.3 % |');
    expect(text).toContain('| app visitor-minutes | 301 | 302 | 303 | 302 |');
  });

  it('says so without seeds', () => {
    expect(formatPresenceTable('title', [])).toBe('title: no seeds\n');
  });
});
