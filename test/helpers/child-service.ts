/**
 * One storeloop process for a test (`node <build>/cli/main.js <command> …`): spawn and wait until it
 * answers over HTTP, SIGKILL (no goodbye) or SIGTERM (and its exit code), everything it printed.
 */
import { spawn, type ChildProcess } from 'node:child_process';

export class ChildService {
  private child: ChildProcess | undefined;
  private output = '';

  /** `name` is used in errors, e.g. "gateway". */
  constructor(private readonly name: string) {}

  /** Everything the process wrote to stdout and stderr (its pino log). */
  get log(): string {
    return this.output;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Spawns node with `args` and waits until GET `healthUrl` answers 2xx (at most `attempts` × 50 ms). */
  async start(args: string[], healthUrl: string, options: { env?: Record<string, string>; attempts?: number } = {}): Promise<void> {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...options.env } });
    this.child = child;
    child.stdout?.on('data', (d: Buffer) => (this.output += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (this.output += d.toString()));
    for (let i = 0; i < (options.attempts ?? 200); i++) {
      if (child.exitCode !== null) throw new Error(`${this.name} exited with ${child.exitCode}:\n${this.output.slice(-2000)}`);
      const up = await fetch(healthUrl).then(
        (r) => r.ok,
        () => false,
      );
      if (up) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`${this.name} did not answer ${healthUrl}:\n${this.output.slice(-2000)}`);
  }

  /** SIGKILL: no flush, no goodbye. */
  async kill9(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await exited;
    this.child = undefined;
  }

  /** SIGTERM and the exit code. */
  async stop(): Promise<number | null> {
    const child = this.child;
    if (!child || child.exitCode !== null) return child?.exitCode ?? null;
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    child.kill('SIGTERM');
    const code = await exited;
    this.child = undefined;
    return code;
  }
}
