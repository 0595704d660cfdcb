/**
 * The one build of a test run. The integration project's global setup (test/global-setup.ts)
 * compiles tsconfig.build.json and bundles the analyst pages once into a fresh directory laid out
 * like the installed package (`package.json`, `bin/storeloop.js`, `dist/`, `dist/web/`); every test that runs JavaScript on plain node (a
 * gateway or edge agent process, the CLI, a node:test suite, a crash child) uses that build. No test
 * compiles, so nothing rewrites files while a child loads them.
 */
import { execFile } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';

import { inject } from 'vitest';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The root of the run's build (see TestBuild.root). */
    testBuildRoot: string;
  }
}

const REPO = join(import.meta.dirname, '..', '..');

export interface TestBuild {
  /** Laid out like the installed package: `package.json`, `bin/storeloop.js`, `dist/`. */
  root: string;
  /** The compiled tree: `<root>/dist/cli/main.js`, `<root>/dist/gateway/...`. */
  dist: string;
  /** `<root>/dist/cli/main.js`, what the `storeloop` command runs. */
  cliMain: string;
  /** `<root>/bin/storeloop.js`, the bin as a user runs it. */
  bin: string;
  /** `<root>/dist/web`: the analyst pages' bundle (index.html, assets/). */
  web: string;
}

function layout(root: string): TestBuild {
  const dist = join(root, 'dist');
  return { root, dist, cliMain: join(dist, 'cli', 'main.js'), bin: join(root, 'bin', 'storeloop.js'), web: join(dist, 'web') };
}

/**
 * Compiles the sources into a fresh directory under dist/ (inside the checkout, so the compiled
 * modules resolve its node_modules). For the global setup only; tests call testBuild().
 */
export async function buildForTests(): Promise<{ build: TestBuild; remove: () => Promise<void> }> {
  await mkdir(join(REPO, 'dist'), { recursive: true });
  const root = await mkdtemp(join(REPO, 'dist', 'test-build-'));
  const remove = () => rm(root, { recursive: true, force: true });
  const build = layout(root);
  const tsc = join(REPO, 'node_modules', 'typescript', 'bin', 'tsc');
  // type errors are the typecheck's job (tsc emits regardless): a failed check does not stop the emit
  const result = await promisify(execFile)(process.execPath, [tsc, '-p', join(REPO, 'tsconfig.build.json'), '--outDir', build.dist], { cwd: REPO }).catch(
    (err: { stdout?: string; stderr?: string }) => err,
  );
  if (!existsSync(build.cliMain)) {
    await remove();
    throw new Error(`tsc did not emit ${build.cliMain}:\n${result.stdout ?? ''}${result.stderr ?? ''}`);
  }
  // the analyst pages' bundle, where the built package has it (dist/web)
  const vite = join(REPO, 'node_modules', 'vite', 'bin', 'vite.js');
  const bundled = await promisify(execFile)(
    process.execPath,
    [vite, 'build', '--config', join(REPO, 'dashboards', 'web', 'vite.config.ts'), '--outDir', build.web, '--emptyOutDir'],
    { cwd: REPO },
  ).catch((err: { stdout?: string; stderr?: string }) => err);
  if (!existsSync(join(build.web, 'index.html'))) {
    await remove();
    throw new Error(`vite did not bundle the dashboards into ${build.web}:\n${bundled.stdout ?? ''}${bundled.stderr ?? ''}`);
  }
  await mkdir(join(root, 'bin'));
  await copyFile(join(REPO, 'bin', 'storeloop.js'), build.bin);
  await copyFile(join(REPO, 'package.json'), join(root, 'package.json'));
  return { build, remove };
}

/** The run's build, made by the integration project's global setup. */
export function testBuild(): TestBuild {
  return layout(inject('testBuildRoot'));
}
