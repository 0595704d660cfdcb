import { describe, expect, it } from 'vitest';

import { createEdgeLogger } from './edge-logger.js';
import { ClockMonitor, checkClock } from './clock-monitor.js';

const JAN_2025 = Date.UTC(2025, 0, 15);
const BOOT_1970 = 42_000;

describe('checkClock', () => {
  it('trusts timedatectl when it answers, and falls back to the year when it cannot', async () => {
    expect(await checkClock('auto', BOOT_1970, async () => true)).toEqual({ synced: true, method: 'timedatectl' });
    expect(await checkClock('auto', JAN_2025, async () => false)).toEqual({ synced: false, method: 'timedatectl' });
    expect(await checkClock('auto', JAN_2025, async () => undefined)).toEqual({ synced: true, method: 'year' });
    expect(await checkClock('auto', BOOT_1970, async () => undefined)).toEqual({ synced: false, method: 'year' });
    expect(await checkClock('timedatectl', JAN_2025, async () => undefined)).toEqual({ synced: false, method: 'timedatectl' });
    expect(await checkClock('year', BOOT_1970, async () => true)).toEqual({ synced: false, method: 'year' });
    expect(await checkClock('off', BOOT_1970)).toEqual({ synced: true, method: 'off' });
  });
});

describe('ClockMonitor', () => {
  it('counts events stamped while the clock is not synchronised, and stops counting once it is', async () => {
    let now = BOOT_1970;
    const monitor = new ClockMonitor('year', createEdgeLogger('silent'), () => now);
    await monitor.refresh();
    monitor.noteEvent();
    monitor.noteEvent();
    expect(monitor.synced).toBe(false);
    now = JAN_2025; // NTP set the clock
    await monitor.refresh();
    monitor.noteEvent();
    expect(monitor.synced).toBe(true);
    expect(monitor.eventsBeforeSync).toBe(2);
  });
});
