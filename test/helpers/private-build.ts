/**
 * A build of the sources for tests that run JavaScript on plain node (a gateway child process, a
 * node:test suite): in a temp dir of its own under node_modules/.cache, so packages still resolve and
 * no other test's concurrent `tsc` into dist/ rewrites files while a child loads them.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';

const ROOT = join(import.meta.dirname, '..', '..');

export interface PrivateBuild {
  /** The build's root: `<dir>/cli/main.js`, `<dir>/gateway/...`. */
  dir: string;
  remove(): Promise<void>;
}

/** Compiles tsconfig.build.json into a fresh dir; fails unless `expectFile` (relative to it) was emitted. */
export async function buildPrivately(expectFile: string): Promise<PrivateBuild> {
  mkdirSync(join(ROOT, 'node_modules', '.cache'), { recursive: true });
  const dir = await mkdtemp(join(ROOT, 'node_modules', '.cache', 'storeloop-test-build-'));
  // type errors are the typecheck's job (tsc emits regardless); a test only needs the JavaScript
  const tsc = spawnSync('npx', ['tsc', '-p', 'tsconfig.build.json', '--outDir', dir], { cwd: ROOT, encoding: 'utf8' });
  if (!existsSync(join(dir, expectFile))) {
    await rm(dir, { recursive: true, force: true });
    throw new Error(`tsc did not emit ${expectFile} (exit ${tsc.status}):\n${tsc.stdout}${tsc.stderr}`);
  }
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}
