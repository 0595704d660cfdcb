/**
 * CPU time and memory of a process from Linux /proc: user+system seconds from /proc/<pid>/stat
 * (fields 14 and 15, in clock ticks), resident memory from /proc/<pid>/status (VmRSS, VmHWM).
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

export interface CpuSample {
  /** user + system CPU seconds since the process started. */
  cpuSeconds: number;
  /** performance.now() when read, in ms. */
  atMs: number;
}

export interface MemorySample {
  rssBytes: number;
  /** Peak resident set size so far (VmHWM). */
  peakRssBytes: number;
}

/** CPU used between two samples, as a percentage of one core. */
export interface CpuUsage {
  cpuSeconds: number;
  wallSeconds: number;
  percentOfCore: number;
}

let ticksPerSecond: number | undefined;

/** Clock ticks per second (`getconf CLK_TCK`, 100 on every common Linux). */
function clockTicks(): number {
  if (ticksPerSecond === undefined) {
    const out = spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' });
    const parsed = Number(out.stdout?.trim());
    ticksPerSecond = Number.isInteger(parsed) && parsed > 0 ? parsed : 100;
  }
  return ticksPerSecond;
}

/** Reads the CPU time of `pid`; undefined once the process is gone. */
export function readCpu(pid: number): CpuSample | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // The command name (field 2) is in parentheses and may contain spaces: split after the last ')'.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  // fields[0] is field 3 (state), so utime (field 14) is fields[11] and stime (field 15) fields[12]
  const ticks = Number(fields[11]) + Number(fields[12]);
  return { cpuSeconds: ticks / clockTicks(), atMs: performance.now() };
}

/** Reads the current and peak resident memory of `pid`; undefined once the process is gone. */
export function readMemory(pid: number): MemorySample | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return undefined;
  }
  const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? Number.NaN) * 1024;
  return { rssBytes: kb('VmRSS'), peakRssBytes: kb('VmHWM') };
}

/** CPU between two samples of one process. */
export function cpuBetween(from: CpuSample, to: CpuSample): CpuUsage {
  const cpuSeconds = to.cpuSeconds - from.cpuSeconds;
  const wallSeconds = (to.atMs - from.atMs) / 1000;
  return { cpuSeconds, wallSeconds, percentOfCore: wallSeconds > 0 ? (100 * cpuSeconds) / wallSeconds : Number.NaN };
}

/** What the report prints about one process over the measured interval. */
export interface ProcessUsage {
  name: string;
  cpu: CpuUsage | undefined;
  /** Resident memory at the start and the end of the measured interval, and the peak (VmHWM). */
  rssStartBytes: number;
  rssEndBytes: number;
  peakRssBytes: number;
  /** RSS growth over the second half of the interval, MB per minute (growth that has not levelled off). */
  rssGrowthMbPerMin: number;
}

/**
 * Watches one process during a run: call `begin()` when measuring starts and `end()` when it stops;
 * RSS is polled in between so a process that dies mid-run still has its last known figures.
 */
export class ProcessWatch {
  private startCpu: CpuSample | undefined;
  private endCpu: CpuSample | undefined;
  private rssStart = Number.NaN;
  private rssLast = Number.NaN;
  private peak = Number.NaN;
  /** [performance.now() ms, RSS bytes], one per poll. */
  private readonly timeline: Array<[number, number]> = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(
    readonly name: string,
    readonly pid: number,
    private readonly pollMs = 1_000,
  ) {}

  begin(): void {
    this.startCpu = readCpu(this.pid);
    this.poll();
    this.rssStart = this.rssLast;
    this.timer = setInterval(() => this.poll(), this.pollMs);
    this.timer.unref();
  }

  end(): ProcessUsage {
    this.endCpu = readCpu(this.pid);
    this.poll();
    clearInterval(this.timer);
    const cpu = this.startCpu && this.endCpu ? cpuBetween(this.startCpu, this.endCpu) : undefined;
    return {
      name: this.name,
      cpu,
      rssStartBytes: this.rssStart,
      rssEndBytes: this.rssLast,
      peakRssBytes: this.peak,
      rssGrowthMbPerMin: this.secondHalfGrowth(),
    };
  }

  private secondHalfGrowth(): number {
    const first = this.timeline[0];
    const last = this.timeline[this.timeline.length - 1];
    if (first === undefined || last === undefined || last[0] - first[0] < 2 * this.pollMs) return Number.NaN;
    const midTime = (first[0] + last[0]) / 2;
    const mid = this.timeline.find(([t]) => t >= midTime) ?? last;
    const minutes = (last[0] - mid[0]) / 60_000;
    return minutes > 0 ? (last[1] - mid[1]) / (1024 * 1024) / minutes : Number.NaN;
  }

  private poll(): void {
    const mem = readMemory(this.pid);
    if (mem === undefined) return;
    this.rssLast = mem.rssBytes;
    this.timeline.push([performance.now(), mem.rssBytes]);
    this.peak = Number.isNaN(this.peak) ? mem.peakRssBytes : Math.max(this.peak, mem.peakRssBytes);
  }
}
