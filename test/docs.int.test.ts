/**
 * The docs as a new user follows them. Every fenced block of README.md, CONTRIBUTING.md and docs/*.md
 * carries a mark (test/doc-snippets.ts; the table is in CONTRIBUTING.md); every `storeloop …` and
 * `npm …` command in them uses only the commands, options and choices its --help lists; every config
 * file they show passes `storeloop config check`, the edge agent's passes `storeloop edge --check`.
 * Nothing long-running starts: demo, gateway, edge and bench are only checked against their --help.
 */
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { describe, expect, it, onTestFinished } from 'vitest';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';

import {
  at,
  baseOf,
  checkArgs,
  commandText,
  fencedBlocks,
  invocationOf,
  markProblems,
  mergeConfig,
  npmTarget,
  parseHelp,
  shellCommands,
  type CliTarget,
  type FencedBlock,
  type Help,
} from './doc-snippets.js';
import { testBuild } from './helpers/test-build.js';
import { DEMO_STORE, StoreSchema } from '../config/index.js';
import { parseScenario, scenarioProblems } from '../simulators/scenario.js';

const ROOT = join(import.meta.dirname, '..');
const DOC_FILES = [
  'README.md',
  'CONTRIBUTING.md',
  ...readdirSync(join(ROOT, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .sort()
    .map((f) => `docs/${f}`),
];
const DOCS = DOC_FILES.map((file) => ({ file, blocks: fencedBlocks(file, readFileSync(join(ROOT, file), 'utf8')) }));
const ALL_BLOCKS = DOCS.flatMap((d) => d.blocks);
const SCRIPTS = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;
/** The edge example names a secret file that exists on the store box only; the environment's secret replaces it. */
const EDGE_SECRET = { STORELOOP_EDGE_SECRET: 'a-secret-for-the-docs-example-00' };
/** Child processes at once: the machine has two cores. */
const PARALLEL = 3;

interface Run {
  status: number;
  stdout: string;
  stderr: string;
}

let running = 0;
const waiting: Array<() => void> = [];

/** `node <build>/<entry> …args` in the repository, without the caller's STORELOOP_* variables (only the docs' own). */
async function runNode(entry: string, args: readonly string[], env: Record<string, string> = {}): Promise<Run> {
  if (running >= PARALLEL) await new Promise<void>((resolve) => waiting.push(resolve));
  running += 1;
  const clean = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('STORELOOP_')));
  try {
    return await new Promise<Run>((resolve) => {
      execFile(process.execPath, [join(testBuild().dist, entry), ...args], { cwd: ROOT, env: { ...clean, ...env }, timeout: 30_000 }, (err, stdout, stderr) => {
        resolve({ status: err === null ? 0 : typeof err.code === 'number' ? err.code : 1, stdout, stderr });
      });
    });
  } finally {
    running -= 1;
    waiting.shift()?.();
  }
}

const helps = new Map<string, Promise<Help>>();

/** The parsed --help of a program of the build and a subcommand path, read once. */
function helpFor(entry: string): (path: readonly string[]) => Promise<Help> {
  return (path) => {
    const key = [entry, ...path].join(' ');
    let help = helps.get(key);
    if (help === undefined) {
      help = runNode(entry, [...path, '--help']).then((run) => {
        if (run.status !== 0) throw new Error(`${key} --help exited ${run.status}: ${run.stderr}`);
        return parseHelp(run.stdout);
      });
      helps.set(key, help);
    }
    return help;
  };
}

/** Checks every storeloop and npm command of a doc:cli or doc:transcript block; runs `config check` on files of the repository. */
async function checkCommands(block: FencedBlock): Promise<{ checked: string[]; problems: string[] }> {
  const checked: string[] = [];
  const problems: string[] = [];
  for (const words of shellCommands(commandText(block))) {
    const invocation = invocationOf(words);
    if (invocation === undefined) continue;
    checked.push(invocation.text);
    const where = `${at(block)}: \`${invocation.text}\``;
    let target: CliTarget | undefined = { entry: 'cli/main.js', args: invocation.args };
    if (invocation.program === 'npm') {
      const npm = npmTarget(invocation.args, SCRIPTS);
      problems.push(...npm.problems.map((p) => `${where}: ${p}`));
      target = npm.target;
    }
    if (target === undefined) continue;
    const result = await checkArgs(target.args, helpFor(target.entry));
    problems.push(...result.problems.map((p) => `${where}: ${p}`));
    const file = result.positionals[0];
    if (result.problems.length === 0 && target.entry === 'cli/main.js' && result.path.join(' ') === 'config check' && file !== undefined) {
      if (!existsSync(join(ROOT, file))) continue; // a file on the user's machine
      const run = await runNode('cli/main.js', ['config', 'check', file], invocation.env);
      if (run.status !== 0) problems.push(`${where}: exited ${run.status}: ${run.stderr.trim()}`);
    }
  }
  return { checked, problems };
}

/** The whole file a doc:config or doc:config-fragment block stands for. */
function configFile(block: FencedBlock): string {
  if (block.mark === 'doc:config') return block.body;
  const sameFile = DOCS.find((d) => d.file === block.file)?.blocks ?? [];
  return stringifyYaml(mergeConfig(parseYaml(baseOf(block, sameFile)?.body ?? ''), parseYaml(block.body)));
}

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'storeloop-docs-'));
  onTestFinished(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

describe('the docs', () => {
  it('mark every fenced block with what this test does with it', () => {
    const problems = DOCS.flatMap(({ blocks }) => blocks.flatMap((block) => markProblems(block, blocks)));
    expect(problems).toEqual([]);
    expect(ALL_BLOCKS.length).toBeGreaterThan(50);
  });

  it('use only the commands, options and choices that --help lists, and npm scripts that exist', async () => {
    const results = await Promise.all(ALL_BLOCKS.filter((b) => b.mark === 'doc:cli' || b.mark === 'doc:transcript').map(checkCommands));
    expect(results.flatMap((r) => r.problems)).toEqual([]);
    // the README's demo, test, config check, edge and bench commands at least
    expect(results.flatMap((r) => r.checked).length).toBeGreaterThanOrEqual(12);
  });

  it('show config files that `storeloop config check` accepts, fragments merged into their base', async () => {
    const dir = await tempDir();
    const configs = ALL_BLOCKS.filter((b) => b.mark === 'doc:config' || b.mark === 'doc:config-fragment');
    const problems = await Promise.all(
      configs.map(async (block, i) => {
        const file = join(dir, `config-${i}.yaml`);
        await writeFile(file, configFile(block));
        const run = await runNode('cli/main.js', ['config', 'check', file]);
        return run.status === 0 ? [] : [`${at(block)}: storeloop config check exited ${run.status}: ${run.stderr.trim()}`];
      }),
    );
    expect(problems.flat()).toEqual([]);
    expect(configs.length).toBeGreaterThan(0);
  });

  it('show an edge agent config that `storeloop edge --check` accepts', async () => {
    const dir = await tempDir();
    const configs = ALL_BLOCKS.filter((b) => b.mark === 'doc:edge-config');
    const problems = await Promise.all(
      configs.map(async (block, i) => {
        const file = join(dir, `edge-${i}.yaml`);
        await writeFile(file, block.body);
        const run = await runNode('cli/main.js', ['edge', '--config', file, '--check'], EDGE_SECRET);
        return run.status === 0 ? [] : [`${at(block)}: storeloop edge --check exited ${run.status}: ${run.stderr.trim()}`];
      }),
    );
    expect(problems.flat()).toEqual([]);
    expect(configs.length).toBeGreaterThan(0);
  });
});

describe('the docs’ scenarios', () => {
  it('are valid simulator scenarios for the demo store in an hour’s run', () => {
    const store = StoreSchema.parse(DEMO_STORE);
    const scenarios = ALL_BLOCKS.filter((b) => b.mark === 'doc:scenario');
    const problems = scenarios.flatMap((block) => {
      try {
        return scenarioProblems(parseScenario(parseYaml(block.body), at(block)), store, 3_600_000).map((p) => `${at(block)}: ${p}`);
      } catch (err) {
        return [`${at(block)}: ${(err as Error).message}`];
      }
    });
    expect(problems).toEqual([]);
    expect(scenarios.length).toBeGreaterThan(0);
  });
});

describe('the docs checker', () => {
  it('reads each fenced block with its mark, and names a block without one', () => {
    const text = ['# t', '```sh doc:cli', 'npm test', '```', '````text', '```', '````', '```yaml doc:config-fragment base=nope', 'a: 1', '```'].join('\n');
    const blocks = fencedBlocks('t.md', text);
    expect(blocks.map((b) => [b.line, b.lang, b.mark, b.body])).toEqual([
      [2, 'sh', 'doc:cli', 'npm test'],
      [5, 'text', undefined, '```'],
      [8, 'yaml', 'doc:config-fragment', 'a: 1'],
    ]);
    expect(blocks.flatMap((b) => markProblems(b, blocks))).toEqual([
      expect.stringMatching(/^t\.md:5: the block has no mark/),
      't.md:8: no doc:config name=nope in t.md',
    ]);
    expect(markProblems({ ...blocks[0]!, mark: 'doc:skip' }, blocks)).toEqual([
      't.md:2: a sh block is commands: mark it doc:cli (or doc:transcript), not doc:skip',
    ]);
  });

  it('splits shell text into commands the way a shell would for the docs', () => {
    const text = [
      'STORELOOP_INFLUX_URL=http://h:8086 npx storeloop gateway -c a.yaml   # comment',
      "mosquitto_pub -t t -m '{\"ts\":'$(date +%s%3N)',\"a\":1}' && curl -s 'http://x/?a=1&b=2'",
      'openssl rand -base64 32 > /etc/secret 2>&1; node bin/storeloop.js edge \\',
      '  --config e.yaml --check',
    ].join('\n');
    expect(shellCommands(text)).toEqual([
      ['STORELOOP_INFLUX_URL=http://h:8086', 'npx', 'storeloop', 'gateway', '-c', 'a.yaml'],
      ['mosquitto_pub', '-t', 't', '-m', '{"ts":$(date +%s%3N),"a":1}'],
      ['curl', '-s', 'http://x/?a=1&b=2'],
      ['openssl', 'rand', '-base64', '32'],
      ['node', 'bin/storeloop.js', 'edge', '--config', 'e.yaml', '--check'],
    ]);
    expect(invocationOf(shellCommands(text)[0]!)).toMatchObject({
      program: 'storeloop',
      args: ['gateway', '-c', 'a.yaml'],
      env: { STORELOOP_INFLUX_URL: 'http://h:8086' },
    });
    expect(invocationOf(['curl', '-s'])).toBeUndefined();
  });

  it('refuses an unknown option, command or choice, a missing argument, an unknown npm script and options npm would take itself', async () => {
    const problemsOf = async (line: string) => {
      const block: FencedBlock = { file: 't.md', line: 1, lang: 'sh', mark: 'doc:cli', params: {}, body: line };
      return (await checkCommands(block)).problems;
    };
    expect(await problemsOf('npx storeloop simulate --seed 2 --arrival-profile daily --no-progress')).toEqual([]);
    expect(await problemsOf('npx storeloop simulate --seeds 2')).toEqual([expect.stringContaining('`storeloop simulate` has no option --seeds')]);
    expect(await problemsOf('storeloop simulate --qos 2')).toEqual([expect.stringContaining('--qos 2 is not one of 0, 1')]);
    expect(await problemsOf('storeloop confg check x.yaml')).toEqual([expect.stringContaining('`storeloop` has no command confg')]);
    expect(await problemsOf('storeloop config check')).toEqual([expect.stringContaining('`storeloop config check` needs file')]);
    expect(await problemsOf('storeloop config check config/missing-from-the-repo.yaml')).toEqual([]);
    expect(await problemsOf('npm run bench -- --only idle --bogus 1')).toEqual([expect.stringContaining('`npm run bench --` has no option --bogus')]);
    expect(await problemsOf('npm run bench --only idle')).toEqual([expect.stringContaining('npm reads options before `--` as its own')]);
    expect(await problemsOf('npm run demo -- --backfill 0 --speed 2')).toEqual([expect.stringContaining('`storeloop demo` has no option --speed')]);
    expect(await problemsOf('npm run tests')).toEqual([expect.stringContaining("package.json has no script 'tests'")]);
  });
});
