/**
 * The queue's epoch: a random id made once when a queue directory is first used, kept in
 * `<dir>/queue.json`. It goes into every `mid` (`<agentId>-<epoch>-<seq>`), because the spool's seq
 * starts again at 1 in a new directory: without it, a queue that was wiped (new SD card, `rm -rf`)
 * would reuse mids that the gateway still remembers and its first messages would be dropped as replays.
 * Written atomically (temp file, fsync, rename, fsync of the directory).
 */
import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename } from 'node:fs/promises';
import { join } from 'node:path';

import { z } from 'zod';

import { EdgeQueueError } from '../agent/errors.js';

export const QUEUE_IDENTITY_FILE = 'queue.json';

const IdentitySchema = z.object({ version: z.literal(1), epoch: z.string().regex(/^[0-9a-f]{8}$/) });

/** Reads the queue's epoch, creating it (durably) when the directory has none. */
export async function readOrCreateEpoch(dir: string): Promise<{ epoch: string; created: boolean }> {
  const file = join(dir, QUEUE_IDENTITY_FILE);
  let text: string | undefined;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw new EdgeQueueError(`cannot read ${file}`, { cause: err, context: { file } });
  }
  if (text !== undefined) {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (err) {
      throw new EdgeQueueError(`${file} is not JSON: refusing to guess the queue's epoch`, { cause: err, context: { file } });
    }
    const parsed = IdentitySchema.safeParse(value);
    if (!parsed.success) throw new EdgeQueueError(`${file} is not { version: 1, epoch: <8 hex digits> }: refusing to guess`, { context: { file } });
    return { epoch: parsed.data.epoch, created: false };
  }
  const epoch = randomBytes(4).toString('hex');
  await writeDurably(dir, file, `${JSON.stringify({ version: 1, epoch })}\n`);
  return { epoch, created: true };
}

async function writeDurably(dir: string, file: string, content: string): Promise<void> {
  try {
    await mkdir(dir, { recursive: true });
    const tmp = `${file}.tmp`;
    const handle = await open(tmp, 'w');
    try {
      await handle.writeFile(content);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(tmp, file);
    const dirHandle = await open(dir, 'r');
    try {
      await dirHandle.sync();
    } finally {
      await dirHandle.close();
    }
  } catch (err) {
    throw new EdgeQueueError(`cannot write ${file}`, { cause: err, context: { file } });
  }
}
