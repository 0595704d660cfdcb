import { describe, expect, it } from 'vitest';

import { HistoryStatus } from './history-status.js';

const DAY = 86_400_000;
const T0 = Date.UTC(2026, 10, 23, 12);

describe('HistoryStatus', () => {
  it('answers null until a backfill begins', () => {
    expect(new HistoryStatus().snapshot()).toBeNull();
  });

  it('reports the span, how far it is published (never back, never past its end) and when it is done', () => {
    const history = new HistoryStatus();
    history.begin(T0, T0 + 8 * DAY);
    expect(history.snapshot()).toEqual({
      from: '2026-11-23T12:00:00.000Z',
      to: '2026-12-01T12:00:00.000Z',
      reached: '2026-11-23T12:00:00.000Z',
      done: false,
    });
    history.reach(T0 + DAY);
    history.reach(T0 + DAY / 2); // an outage's replay goes out late: the backfill has still got as far
    expect(history.snapshot()?.reached).toBe('2026-11-24T12:00:00.000Z');
    history.reach(T0 + 9 * DAY);
    expect(history.snapshot()?.reached).toBe('2026-12-01T12:00:00.000Z');
    history.finish();
    expect(history.snapshot()?.done).toBe(true);
  });

  it('extends the span for a catch-up to the present, keeping how far it got', () => {
    const history = new HistoryStatus();
    history.begin(T0, T0 + DAY);
    history.reach(T0 + DAY);
    history.begin(T0, T0 + DAY + 600_000);
    expect(history.snapshot()).toMatchObject({ to: '2026-11-24T12:10:00.000Z', reached: '2026-11-24T12:00:00.000Z', done: false });
  });

  it('refuses a span that ends before it starts', () => {
    expect(() => new HistoryStatus().begin(T0, T0 - 1)).toThrow(/expected from ≤ to/);
  });
});
