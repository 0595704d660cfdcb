/**
 * Is the agent's clock worth trusting? Many store boxes (Raspberry Pi class) have no real-time clock:
 * they boot at 1970 or at the last time fake-hwclock saved, and only NTP sets them right. Events
 * stamped before that are counted and flagged in the status (not dropped: the gateway's time window
 * decides, and the operator sees how many there were).
 *
 * `timedatectl show -p NTPSynchronized --value` answers `yes` once systemd-timesyncd (or chrony)
 * has synchronised; without systemd (containers) the fallback is a plausibility check on the year.
 */
import { execFile } from 'node:child_process';

import type { Logger } from '../../lib/logger.js';
import type { ClockCheck } from './config-schema.js';

/** A clock that reads before this year has not been set since boot. */
export const MIN_PLAUSIBLE_YEAR = 2024;
const TIMEDATECTL_TIMEOUT_MS = 2000;

export interface ClockState {
  synced: boolean;
  /** How `synced` was decided. */
  method: 'timedatectl' | 'year' | 'off';
}

/** Runs `timedatectl`; answers its NTPSynchronized value, or undefined when it cannot tell. */
export type TimedatectlProbe = () => Promise<boolean | undefined>;

export const probeTimedatectl: TimedatectlProbe = () =>
  new Promise((resolve) => {
    execFile('timedatectl', ['show', '-p', 'NTPSynchronized', '--value'], { timeout: TIMEDATECTL_TIMEOUT_MS }, (err, stdout) => {
      if (err) {
        resolve(undefined); // no systemd (container), no D-Bus, or not installed: the caller falls back
        return;
      }
      const value = stdout.trim();
      resolve(value === 'yes' ? true : value === 'no' ? false : undefined);
    });
  });

/** Decides whether the clock is synchronised, following the configured check (pure but for the probe). */
export async function checkClock(mode: ClockCheck, now: number, probe: TimedatectlProbe = probeTimedatectl): Promise<ClockState> {
  if (mode === 'off') return { synced: true, method: 'off' };
  if (mode === 'timedatectl' || mode === 'auto') {
    const answer = await probe();
    if (answer !== undefined) return { synced: answer, method: 'timedatectl' };
    // timedatectl mode without an answer: not known to be synced
    if (mode === 'timedatectl') return { synced: false, method: 'timedatectl' };
  }
  return { synced: new Date(now).getUTCFullYear() >= MIN_PLAUSIBLE_YEAR, method: 'year' };
}

/** Keeps the clock state fresh and counts events stamped while it was not synchronised. */
export class ClockMonitor {
  private state: ClockState = { synced: false, method: 'year' };
  private unsyncedEvents = 0;
  private log: Logger;

  constructor(
    private readonly mode: ClockCheck,
    log: Logger,
    private readonly now: () => number = Date.now,
    private readonly probe: TimedatectlProbe = probeTimedatectl,
  ) {
    this.log = log.child({ module: 'clock' });
  }

  /** Checks again; logs a change. */
  async refresh(): Promise<ClockState> {
    const next = await checkClock(this.mode, this.now(), this.probe);
    if (next.synced !== this.state.synced || next.method !== this.state.method) {
      if (next.synced) this.log.info({ method: next.method, unsyncedEvents: this.unsyncedEvents }, 'clock synchronised');
      else this.log.warn({ method: next.method, now: new Date(this.now()).toISOString() }, 'clock not synchronised: events are flagged');
    }
    this.state = next;
    return next;
  }

  get synced(): boolean {
    return this.state.synced;
  }

  get current(): ClockState {
    return this.state;
  }

  /** Counts one event if it is being stamped while the clock is not synchronised. */
  noteEvent(): void {
    if (!this.state.synced) this.unsyncedEvents += 1;
  }

  /** Events stamped while the clock was not synchronised, since start. */
  get eventsBeforeSync(): number {
    return this.unsyncedEvents;
  }
}
