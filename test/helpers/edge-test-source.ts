/**
 * An EdgeSource the test drives by hand (a real implementation of the contract, not a mock): it
 * emits what the test hands it, reports the health the test sets, and accepts runtime config for its
 * `intervalMs` (1-60000), so remote config for a source block can be exercised without radio hardware.
 */
import type { EdgeSource, SourceHealth, SourcePayload } from '../../edge/types.js';

export class ScriptedSource implements EdgeSource {
  emitted = 0;
  intervalMs = 1000;
  state: SourceHealth['state'] = 'ok';
  detail: string | undefined;
  private emitFn: ((message: SourcePayload) => void) | undefined;

  constructor(readonly name: string) {}

  async start(emit: (message: SourcePayload) => void): Promise<void> {
    this.emitFn = emit;
  }

  async stop(): Promise<void> {
    this.emitFn = undefined;
  }

  health(): SourceHealth {
    return { name: this.name, state: this.state, ...(this.detail === undefined ? {} : { detail: this.detail }) };
  }

  emit(message: SourcePayload): void {
    if (this.emitFn === undefined) throw new Error(`${this.name} is not started`);
    this.emitted += 1;
    this.emitFn(message);
  }

  checkReconfigure(block: Record<string, unknown>): string | undefined {
    const value = block.intervalMs;
    if (value === undefined) return undefined;
    return typeof value === 'number' && Number.isInteger(value) && value >= 1 && value <= 60_000 ? undefined : 'intervalMs: expected an integer 1-60000';
  }

  reconfigure(block: Record<string, unknown>): void {
    this.intervalMs = typeof block.intervalMs === 'number' ? block.intervalMs : 1000;
  }
}
