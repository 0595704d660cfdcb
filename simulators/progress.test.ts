import { describe, expect, it } from 'vitest';

import { createProgressReporter } from './progress.js';

/** Just enough of a write stream for the reporter to decide between a bar and lines. */
const pipe = { isTTY: false } as unknown as NodeJS.WriteStream;

describe('progress', () => {
  it('prints nothing when disabled', () => {
    const lines: string[] = [];
    const p = createProgressReporter({ enabled: false, windowStartMs: 0, windowEndMs: 3_600_000, stream: pipe, log: (l) => lines.push(l) });
    p.update({ sent: 5, completed: 4, simulatedTs: 60_000 });
    p.stop({ sent: 10, completed: 10, simulatedTs: 120_000 });
    expect(lines).toEqual([]);
  });

  it('prints one-line progress when stderr is not a terminal', () => {
    const lines: string[] = [];
    const p = createProgressReporter({ enabled: true, windowStartMs: 0, windowEndMs: 3_600_000, stream: pipe, log: (l) => lines.push(l), lineIntervalMs: 0 });
    p.update({ sent: 5, completed: 4, simulatedTs: 90_000 });
    p.stop({ sent: 10, completed: 10, simulatedTs: 3_600_000 });
    expect(lines).toEqual([
      'simulate: simulated +1m30s of 1h00m00s (2%), 5 messages sent, 4 acknowledged',
      'simulate: simulated +1h00m00s of 1h00m00s (100%), 10 messages sent, 10 acknowledged',
    ]);
  });
});
