import { describe, expect, it } from 'vitest';

import { INGEST_RATE_MINUTES, IngestRate } from './ingest-rate.js';

const MINUTE = 60_000;
const T0 = 1_800_000_000_000 - (1_800_000_000_000 % MINUTE); // a minute boundary

describe('IngestRate', () => {
  it('counts what the totals grew by in the minute it was sampled, and gives 60 minutes oldest first', () => {
    let now = T0 + 5_000;
    const totals = { accepted: 100, rejected: 7 }; // before the start: counted in no minute
    const rate = new IngestRate(
      () => ({ ...totals }),
      () => now,
    );
    rate.start();
    rate.stop();
    totals.accepted += 30;
    totals.rejected += 2;
    now += 1_000;
    rate.sample();
    now = T0 + MINUTE + 10_000;
    totals.accepted += 5;
    const hour = rate.lastHour();
    expect(hour).toHaveLength(INGEST_RATE_MINUTES);
    expect(hour.at(-1)).toEqual({ minute: new Date(T0 + MINUTE).toISOString(), accepted: 5, rejected: 0 });
    expect(hour.at(-2)).toEqual({ minute: new Date(T0).toISOString(), accepted: 30, rejected: 2 });
    expect(hour.slice(0, -2).every((m) => m.accepted === 0 && m.rejected === 0)).toBe(true);
    expect(rate.sampledSince).toBe(T0 + 5_000);
  });

  it('forgets a minute once it is more than an hour old, whatever the ring slot held', () => {
    let now = T0;
    const totals = { accepted: 0, rejected: 0 };
    const rate = new IngestRate(
      () => ({ ...totals }),
      () => now,
    );
    rate.start();
    rate.stop();
    totals.rejected += 4;
    rate.sample();
    now = T0 + INGEST_RATE_MINUTES * MINUTE; // the same ring slot, an hour later
    expect(rate.lastHour().every((m) => m.rejected === 0)).toBe(true);
    totals.accepted += 1;
    const hour = rate.lastHour();
    expect(hour.at(-1)).toEqual({ minute: new Date(now).toISOString(), accepted: 1, rejected: 0 });
    expect(hour[0]?.minute).toBe(new Date(T0 + MINUTE).toISOString());
  });
});
