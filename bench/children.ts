/**
 * The runner's side of a benchmark child process (publisher, subscriber, idle client or attacker): spawns it with an IPC
 * channel, waits for `ready`, forwards `start`/`stop`, keeps its progress count and its result.
 */
import { fileURLToPath } from 'node:url';

import { ChildMessageSchema, type ChildMessage, type ParentMessage } from './ipc.js';
import type { ProcessGroup, TrackedProcess } from './processes.js';

export type ChildScript = 'publisher.js' | 'subscriber.js' | 'idle-client.js' | 'attacker.js';
/** How long after a child's exit its last IPC messages may still arrive. */
const EXIT_GRACE_MS = 200;

type ResultMessage = Extract<ChildMessage, { type: 'publisher-result' | 'subscriber-result' | 'idle-result' | 'attacker-result' }>;

export class BenchChild {
  /** The latest running total the child reported (acks, deliveries or open connections). */
  progress = 0;
  private readonly readyPromise: Promise<void>;
  private readonly resultPromise: Promise<ResultMessage>;

  constructor(readonly proc: TrackedProcess) {
    const failed = new Promise<never>((_, reject) => {
      proc.child.on('message', (raw: unknown) => {
        const parsed = ChildMessageSchema.safeParse(raw);
        if (!parsed.success) reject(new Error(`${proc.name} sent a malformed IPC message`));
        else if (parsed.data.type === 'failed') reject(new Error(`${proc.name} failed: ${parsed.data.message}`));
        else if (parsed.data.type === 'progress') this.progress = parsed.data.count;
      });
      // IPC messages sent just before exiting may be read after 'exit': give them a moment
      void proc.exited.then(({ code, signal }) =>
        setTimeout(
          () => reject(new Error(`${proc.name} exited (${signal ?? `code ${code}`}) early. stderr: ${proc.stderrTail().slice(-500) || '(empty)'}`)),
          EXIT_GRACE_MS,
        ),
      );
    });
    failed.catch(() => undefined); // observed through ready() and result()
    this.readyPromise = Promise.race([failed, this.waitFor('ready').then(() => undefined)]);
    this.resultPromise = Promise.race([
      failed,
      this.waitFor('publisher-result', 'subscriber-result', 'idle-result', 'attacker-result') as Promise<ResultMessage>,
    ]);
    this.readyPromise.catch(() => undefined);
    this.resultPromise.catch(() => undefined);
  }

  ready(timeoutMs: number): Promise<void> {
    return withTimeout(this.readyPromise, timeoutMs, `${this.proc.name} was not ready within ${timeoutMs} ms`);
  }

  result(timeoutMs: number): Promise<ResultMessage> {
    return withTimeout(this.resultPromise, timeoutMs, `${this.proc.name} did not report within ${timeoutMs} ms`);
  }

  send(message: ParentMessage): void {
    if (this.proc.child.connected) this.proc.child.send(message);
  }

  private waitFor(...types: ChildMessage['type'][]): Promise<ChildMessage> {
    return new Promise((resolve) => {
      const onMessage = (raw: unknown) => {
        const parsed = ChildMessageSchema.safeParse(raw);
        if (parsed.success && types.includes(parsed.data.type)) {
          this.proc.child.off('message', onMessage);
          resolve(parsed.data);
        }
      };
      this.proc.child.on('message', onMessage);
    });
  }
}

/** Spawns `dist/bench/<script>` with `spec` as its JSON argument and an IPC channel. */
export function spawnBenchChild(group: ProcessGroup, name: string, script: ChildScript, spec: object): BenchChild {
  const path = fileURLToPath(new URL(`./${script}`, import.meta.url));
  const proc = group.spawn(name, process.execPath, [path, JSON.stringify(spec)], { stdio: ['ignore', 'inherit', 'pipe', 'ipc'] });
  return new BenchChild(proc);
}

/** Rejects with `message` when `promise` has not settled within `ms`. */
export function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
