/** The few fsync-ordered file operations the spool needs, each counting the syncs it issues. */
import { open, rename, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';

/** Counts fsync/fdatasync calls, so stats can show how well group commit batches. */
export class SyncCounter {
  count = 0;
}

/** fdatasync: flushes the file's data and the metadata needed to read it back (its size). */
export async function syncData(handle: FileHandle, counter: SyncCounter): Promise<void> {
  counter.count += 1;
  await handle.datasync();
}

/** fsync: data and all metadata (used after truncating, where the size is what matters). */
export async function syncFile(handle: FileHandle, counter: SyncCounter): Promise<void> {
  counter.count += 1;
  await handle.sync();
}

/** fsync on a directory: makes created, renamed and removed entries in it durable. */
export async function syncDir(dir: string, counter: SyncCounter): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    counter.count += 1;
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Writes all of `buffers` at `position`, looping over short writes. */
export async function writeAllAt(handle: FileHandle, buffers: Buffer[], position: number): Promise<void> {
  let rest = buffers;
  let at = position;
  while (rest.length > 0) {
    const { bytesWritten } = await handle.writev(rest, at);
    if (bytesWritten === 0 && rest.some((b) => b.length > 0)) throw new Error(`writev made no progress at offset ${at}`);
    at += bytesWritten;
    rest = dropWritten(rest, bytesWritten);
  }
}

/** Reads exactly `length` bytes at `position`, or fewer if the file ends first. */
export async function readAt(handle: FileHandle, length: number, position: number): Promise<Buffer> {
  const target = Buffer.allocUnsafe(length);
  let filled = 0;
  while (filled < length) {
    const { bytesRead } = await handle.read(target, filled, length - filled, position + filled);
    if (bytesRead === 0) break;
    filled += bytesRead;
  }
  return filled === length ? target : target.subarray(0, filled);
}

/** What is left of `buffers` after `written` bytes of them went out. */
function dropWritten(buffers: Buffer[], written: number): Buffer[] {
  let skip = written;
  let index = 0;
  while (index < buffers.length) {
    const head = buffers[index] as Buffer; // index < length
    if (skip < head.length) break;
    skip -= head.length;
    index += 1;
  }
  const rest = buffers.slice(index);
  const first = rest[0];
  if (first !== undefined && skip > 0) rest[0] = first.subarray(skip);
  return rest;
}

/**
 * Replaces `dir/name` atomically and durably: write `name.tmp`, fsync it, rename it over `name`,
 * fsync `dir`. A crash leaves the old or the new content, never a mix (a leftover `.tmp` is junk).
 */
export async function replaceFileDurably(dir: string, name: string, content: string, counter: SyncCounter): Promise<void> {
  const tempPath = join(dir, `${name}.tmp`);
  const handle = await open(tempPath, 'w');
  try {
    await handle.writeFile(content);
    await syncFile(handle, counter);
  } finally {
    await handle.close();
  }
  await rename(tempPath, join(dir, name));
  await syncDir(dir, counter);
}
