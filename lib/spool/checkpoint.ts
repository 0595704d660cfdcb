/**
 * The checkpoint `checkpoint.json` = `{ version, ackedUpto, nextSeq }`: what the drainer has
 * acknowledged, and the next seq to hand out (so seqs are never reused, even once every segment
 * holding them is gone). Replaced atomically: write a temp file, fsync it, rename it over the old
 * one, fsync the directory. A power cut leaves either the old or the new checkpoint, never a mix.
 */
import { open, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';

import { z } from 'zod';

import { syncDir, syncFile, type SyncCounter } from './durable-fs.js';
import { SpoolOpenError } from './spool-errors.js';

export const CHECKPOINT_FILE = 'checkpoint.json';
const CHECKPOINT_TEMP_FILE = 'checkpoint.json.tmp';

export const CheckpointSchema = z.strictObject({
  version: z.literal(1),
  ackedUpto: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
  nextSeq: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER),
});
export type Checkpoint = z.infer<typeof CheckpointSchema>;

/** The state of a spool that never acked anything. */
export const INITIAL_CHECKPOINT: Checkpoint = { version: 1, ackedUpto: 0, nextSeq: 1 };

/** Loads the checkpoint (INITIAL_CHECKPOINT when there is none) and removes a leftover temp file. */
export async function readCheckpoint(dir: string): Promise<Checkpoint> {
  const path = join(dir, CHECKPOINT_FILE);
  // a temp file left by a crash before its rename was never the checkpoint
  await rm(join(dir, CHECKPOINT_TEMP_FILE), { force: true });
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return INITIAL_CHECKPOINT;
    throw new SpoolOpenError(`cannot read spool checkpoint ${path}`, { cause: err, context: { path } });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new SpoolOpenError(`spool checkpoint ${path} is not JSON`, { cause: err, context: { path, bytes: text.length } });
  }
  const parsed = CheckpointSchema.safeParse(json);
  if (!parsed.success) {
    throw new SpoolOpenError(`spool checkpoint ${path} is malformed`, { cause: parsed.error, context: { path } });
  }
  return parsed.data;
}

/** Replaces the checkpoint atomically and durably (temp file, fsync, rename, fsync dir). */
export async function writeCheckpoint(dir: string, checkpoint: Checkpoint, counter: SyncCounter): Promise<void> {
  const tempPath = join(dir, CHECKPOINT_TEMP_FILE);
  const handle = await open(tempPath, 'w');
  try {
    await handle.writeFile(`${JSON.stringify(checkpoint)}\n`);
    await syncFile(handle, counter);
  } finally {
    await handle.close();
  }
  await rename(tempPath, join(dir, CHECKPOINT_FILE));
  await syncDir(dir, counter);
}
