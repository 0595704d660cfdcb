/**
 * Runs one source for the agent: a source that cannot start (no Bluetooth adapter yet, BlueZ not up,
 * a port taken) is reported `down` in the status and started again later with a growing delay,
 * while the rest of the agent (queue, ingress, other sources) keeps going.
 */
import type { Logger } from '../../lib/logger.js';
import type { EdgeSource, SourceHealth, SourcePayload } from '../types.js';

const RETRY_MIN_MS = 5_000;
const RETRY_MAX_MS = 300_000;

export class SourceRunner {
  private started = false;
  private stopped = false;
  private retryMs = RETRY_MIN_MS;
  private timer: NodeJS.Timeout | null = null;
  private lastFailure: string | null = null;
  private attempt: Promise<void> | null = null;

  constructor(
    readonly source: EdgeSource,
    private readonly emit: (message: SourcePayload) => void,
    private readonly log: Logger,
    private readonly retry = { minMs: RETRY_MIN_MS, maxMs: RETRY_MAX_MS },
  ) {
    this.retryMs = retry.minMs;
  }

  /** Tries to start the source once; on failure logs it and tries again later. Never throws. */
  async start(): Promise<void> {
    this.attempt = this.tryStart();
    await this.attempt;
  }

  get running(): boolean {
    return this.started;
  }

  health(): SourceHealth {
    if (this.started) return this.source.health();
    return { name: this.source.name, state: 'down', detail: this.lastFailure === null ? 'starting' : `start failed (${this.lastFailure}), retrying` };
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer !== null) clearTimeout(this.timer);
    await this.attempt;
    if (!this.started) return;
    this.started = false;
    try {
      await this.source.stop();
    } catch (err) {
      this.log.warn({ source: this.source.name, code: codeOf(err) }, 'source did not stop cleanly');
    }
  }

  private async tryStart(): Promise<void> {
    if (this.stopped) return;
    try {
      await this.source.start(this.emit);
      this.started = true;
      this.lastFailure = null;
      this.retryMs = this.retry.minMs;
    } catch (err) {
      // the code only: a source's error message might quote what it was reading
      this.lastFailure = codeOf(err);
      this.log.error({ source: this.source.name, code: this.lastFailure, retryInMs: this.retryMs }, 'source failed to start: retrying');
      if (this.stopped) return;
      this.timer = setTimeout(() => {
        this.timer = null;
        this.attempt = this.tryStart();
      }, this.retryMs);
      this.retryMs = Math.min(this.retry.maxMs, this.retryMs * 2);
    }
  }
}

function codeOf(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === 'string') return code.slice(0, 40);
  return err instanceof Error ? err.name : 'error';
}
