/**
 * Spawns and tracks every process the benchmark starts, so none outlives it: `stopAll()` in the
 * runner's finally and on SIGINT/SIGTERM sends SIGTERM, then SIGKILL after a grace period, and an
 * `exit` hook SIGKILLs whatever is still alive if the runner dies some other way.
 */
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { createWriteStream } from 'node:fs';

const STOP_GRACE_MS = 5_000;
const STDERR_TAIL_CHARS = 4_000;

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface TrackedProcess {
  readonly name: string;
  readonly child: ChildProcess;
  /** The pid; spawning without one throws, so it is always set. */
  readonly pid: number;
  /** Resolves when the process has exited (never rejects). */
  readonly exited: Promise<ExitInfo>;
  /** True once the process has exited. */
  hasExited(): boolean;
  /** The last few KB of stderr (when stderr was piped). */
  stderrTail(): string;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves once it has exited. Safe to call twice. */
  stop(graceMs?: number): Promise<ExitInfo>;
}

export interface SpawnTrackedOptions extends SpawnOptions {
  /** Append stdout and stderr to this file instead of piping them to the runner. */
  logFile?: string;
}

/** Everything one benchmark run started: child processes and other things with a stop(). */
export class ProcessGroup {
  private readonly processes = new Set<TrackedProcess>();
  private readonly others = new Map<string, () => Promise<void>>();
  private readonly killOnExit = () => {
    for (const p of this.processes) if (!p.hasExited()) p.child.kill('SIGKILL');
  };

  constructor() {
    process.on('exit', this.killOnExit);
  }

  /** Spawns `command` and tracks it until it exits. */
  spawn(name: string, command: string, args: string[], options: SpawnTrackedOptions = {}): TrackedProcess {
    const { logFile, ...spawnOptions } = options;
    const stdio: SpawnOptions['stdio'] = logFile !== undefined ? ['ignore', 'pipe', 'pipe'] : (spawnOptions.stdio ?? ['ignore', 'inherit', 'pipe']);
    const child: ChildProcess = spawn(command, args, { ...spawnOptions, stdio });
    if (child.pid === undefined) throw new Error(`could not spawn ${name} (${command})`);
    if (logFile !== undefined) {
      const out = createWriteStream(logFile, { flags: 'a' });
      child.stdout?.pipe(out);
      child.stderr?.pipe(out, { end: false });
    }
    const tracked = track(name, child, child.pid);
    this.processes.add(tracked);
    void tracked.exited.then(() => this.processes.delete(tracked));
    return tracked;
  }

  /** Tracks something started elsewhere (e.g. influxd from startLocalInfluxd) by its stop(). */
  adopt(name: string, stop: () => Promise<void>): () => Promise<void> {
    let stopping: Promise<void> | undefined;
    const once = () => {
      stopping ??= stop().finally(() => this.others.delete(name));
      return stopping;
    };
    this.others.set(name, once);
    return once;
  }

  /** Names of the processes still running. */
  running(): string[] {
    return [...this.processes].filter((p) => !p.hasExited()).map((p) => `${p.name} (pid ${p.pid})`);
  }

  /** Stops every tracked process (children first, then adopted ones); bounded by the grace period. */
  async stopAll(): Promise<void> {
    await Promise.all([...this.processes].map((p) => p.stop()));
    await Promise.all([...this.others.values()].map((stop) => stop().catch(() => undefined)));
  }

  dispose(): void {
    process.off('exit', this.killOnExit);
  }
}

function track(name: string, child: ChildProcess, pid: number): TrackedProcess {
  let exitInfo: ExitInfo | undefined;
  let tail = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    tail = (tail + chunk.toString('utf8')).slice(-STDERR_TAIL_CHARS);
  });
  const exited = new Promise<ExitInfo>((resolve) => {
    child.once('exit', (code, signal) => {
      exitInfo = { code, signal };
      resolve(exitInfo);
    });
    child.once('error', (err) => {
      tail += `\nspawn error: ${err.message}`;
      exitInfo ??= { code: null, signal: null };
      resolve(exitInfo);
    });
  });
  let stopping: Promise<ExitInfo> | undefined;
  const stop = (graceMs = STOP_GRACE_MS) => {
    stopping ??= (async () => {
      if (exitInfo !== undefined) return exitInfo;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      const info = await exited;
      clearTimeout(timer);
      return info;
    })();
    return stopping;
  };
  return { name, child, pid, exited, hasExited: () => exitInfo !== undefined, stderrTail: () => tail, stop };
}

/** Resolves after `ms`, or rejects early when `signal` aborts. */
export function delay(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason as Error);
      return;
    }
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason as Error);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
