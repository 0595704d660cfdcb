/**
 * A sink's checkpoint file `<state.dir>/log/sinks/<name>.json`: the log seq up to which the sink has
 * settled every record, and its ledger counts up to there. Replaced atomically (temp file, fsync,
 * rename, fsync dir), so after a crash it is the old or the new one; the records since then are
 * delivered again, and their counts with them.
 */
import { mkdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';

import { z } from 'zod';

import { StoreloopError } from '../../lib/errors.js';
import { SyncCounter, replaceFileDurably, syncDir } from '../../lib/spool/durable-fs.js';

export const SETTLED_STATES = ['delivered', 'dead_lettered', 'filtered', 'expired'] as const;
export type SettledState = (typeof SETTLED_STATES)[number];

const CountsSchema = z.strictObject({
  delivered: z.number().int().min(0),
  dead_lettered: z.number().int().min(0),
  filtered: z.number().int().min(0),
  expired: z.number().int().min(0),
});
export type SettledCounts = z.infer<typeof CountsSchema>;

const SinkCheckpointSchema = z.strictObject({
  version: z.literal(1),
  sink: z.string(),
  /** Every record with seq <= position is settled. */
  position: z.number().int().min(0),
  attachedAt: z.string(),
  /** Settled counts per `store/kind`. */
  settled: z.record(z.string(), CountsSchema),
});
export type SinkCheckpoint = z.infer<typeof SinkCheckpointSchema>;

export class SinkCheckpointError extends StoreloopError {
  constructor(message: string, context: Record<string, unknown>, cause?: unknown) {
    super('SL_ERR_SINK_CHECKPOINT', message, context, { cause });
  }
}

export function emptyCounts(): SettledCounts {
  return { delivered: 0, dead_lettered: 0, filtered: 0, expired: 0 };
}

export class SinkCheckpointFile {
  private readonly syncs = new SyncCounter();
  readonly path: string;

  constructor(
    private readonly dir: string,
    private readonly sink: string,
  ) {
    this.path = join(dir, `${sink}.json`);
  }

  /** The checkpoint, or null when the sink was never attached (or was detached). */
  async read(): Promise<SinkCheckpoint | null> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw new SinkCheckpointError(`cannot read sink checkpoint ${this.path}`, { path: this.path }, err);
    }
    const parsed = SinkCheckpointSchema.safeParse(safeJson(text));
    if (!parsed.success)
      throw new SinkCheckpointError(`sink checkpoint ${this.path} is malformed (move it away to re-attach the sink from the oldest retained record)`, {
        path: this.path,
      });
    return parsed.data;
  }

  async write(checkpoint: SinkCheckpoint): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    await replaceFileDurably(this.dir, `${this.sink}.json`, `${JSON.stringify(checkpoint)}\n`, this.syncs);
  }

  async remove(): Promise<void> {
    await rm(this.path, { force: true });
    await syncDir(this.dir, this.syncs).catch(() => undefined);
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
