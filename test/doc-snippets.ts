/**
 * The fenced blocks of the docs and the commands in them, for test/docs.int.test.ts. Pure: text in,
 * blocks, commands, parsed --help and problems out.
 *
 * Every fenced block says what the docs test does with it: a mark in its info string, after the
 * language (CONTRIBUTING.md has the table):
 *
 *   ```sh doc:cli                        shell commands; each `storeloop …` / `npm …` is checked
 *                                        against the --help of what it runs, nothing is executed
 *                                        (except `storeloop config check FILE` of a file in the repo)
 *   ```text doc:transcript               a terminal session: lines after `$ ` as doc:cli, the rest output
 *   ```yaml doc:config [name=ID]         a whole gateway config file: `storeloop config check` passes
 *   ```yaml doc:config-fragment base=ID  keys merged over the doc:config named ID in the same file
 *   ```yaml doc:edge-config              a whole edge agent config: `storeloop edge --check` passes
 *   ```yaml doc:scenario                 a whole simulator scenario: valid for the demo store in an hour's run
 *   ```text doc:skip                     not run: output, diagrams, payloads, queries, unit files
 */

export const MARKS = ['doc:cli', 'doc:transcript', 'doc:config', 'doc:config-fragment', 'doc:edge-config', 'doc:scenario', 'doc:skip'] as const;
export type Mark = (typeof MARKS)[number];

/** Languages whose blocks are commands: they are checked, never skipped. */
const SHELL_LANGS = new Set(['sh', 'bash', 'shell', 'console', 'zsh']);
const YAML_LANGS = new Set(['yaml', 'yml']);
const PARAMS: Record<Mark, readonly string[]> = {
  'doc:cli': [],
  'doc:transcript': [],
  'doc:config': ['name'],
  'doc:config-fragment': ['base'],
  'doc:edge-config': [],
  'doc:scenario': [],
  'doc:skip': [],
};

export interface FencedBlock {
  file: string;
  /** Line of the opening fence, from 1. */
  line: number;
  lang: string | undefined;
  /** The `doc:` word of the info string, as written (checked by `markProblems`). */
  mark: string | undefined;
  /** `key=value` words after the mark. */
  params: Record<string, string>;
  body: string;
}

/** Where a block is, for messages: `docs/edge.md:39`. */
export function at(block: FencedBlock): string {
  return `${block.file}:${block.line}`;
}

/** Every fenced block (``` or ~~~, CommonMark rules for opening and closing) of a markdown text. */
export function fencedBlocks(file: string, text: string): FencedBlock[] {
  const blocks: FencedBlock[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i += 1) {
    const open = /^ {0,3}(`{3,}|~{3,})(.*)$/.exec(lines[i] ?? '');
    if (!open) continue;
    const fence = open[1] ?? '```';
    const info = (open[2] ?? '').trim().split(/\s+/).filter(Boolean);
    const closing = new RegExp(`^ {0,3}${fence[0] === '`' ? '`' : '~'}{${fence.length},}\\s*$`);
    let end = i + 1;
    while (end < lines.length && !closing.test(lines[end] ?? '')) end += 1;
    const lang = info[0] !== undefined && !info[0].startsWith('doc:') ? info[0] : undefined;
    const params = Object.fromEntries(info.filter((w) => w.includes('=')).map((w) => [w.slice(0, w.indexOf('=')), w.slice(w.indexOf('=') + 1)]));
    blocks.push({ file, line: i + 1, lang, mark: info.find((w) => w.startsWith('doc:')), params, body: lines.slice(i + 1, end).join('\n') });
    i = end;
  }
  return blocks;
}

function isMark(word: string | undefined): word is Mark {
  return (MARKS as readonly string[]).includes(word ?? '');
}

/** What is wrong with a block's mark: missing, unknown, not fit for its language, a fragment without its base. */
export function markProblems(block: FencedBlock, sameFile: readonly FencedBlock[]): string[] {
  const where = at(block);
  if (block.mark === undefined) return [`${where}: the block has no mark (${MARKS.join(', ')})`];
  if (!isMark(block.mark)) return [`${where}: unknown mark ${block.mark} (${MARKS.join(', ')})`];
  const problems: string[] = [];
  const lang = block.lang ?? '';
  if (SHELL_LANGS.has(lang) && block.mark !== 'doc:cli' && block.mark !== 'doc:transcript')
    problems.push(`${where}: a ${lang} block is commands: mark it doc:cli (or doc:transcript), not ${block.mark}`);
  if (block.mark === 'doc:cli' && !SHELL_LANGS.has(lang)) problems.push(`${where}: doc:cli needs a shell language (sh), not '${lang}'`);
  if (['doc:config', 'doc:config-fragment', 'doc:edge-config'].includes(block.mark) && !YAML_LANGS.has(lang))
    problems.push(`${where}: ${block.mark} needs a yaml block, not '${lang}'`);
  for (const key of Object.keys(block.params))
    if (!PARAMS[block.mark].includes(key)) problems.push(`${where}: ${block.mark} takes no ${key}= (only ${PARAMS[block.mark].join(', ') || 'nothing'})`);
  if (block.mark === 'doc:config-fragment') {
    const base = block.params.base;
    if (base === undefined) problems.push(`${where}: doc:config-fragment needs base=<name of a doc:config block in ${block.file}>`);
    else if (baseOf(block, sameFile) === undefined) problems.push(`${where}: no doc:config name=${base} in ${block.file}`);
  }
  return problems;
}

/** The doc:config block a fragment is merged into. */
export function baseOf(fragment: FencedBlock, sameFile: readonly FencedBlock[]): FencedBlock | undefined {
  return sameFile.find((b) => b.mark === 'doc:config' && b.params.name !== undefined && b.params.name === fragment.params.base);
}

/** A fragment over its base: mappings merged key by key, anything else replaced. */
export function mergeConfig(base: unknown, fragment: unknown): unknown {
  const isMap = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
  if (!isMap(base) || !isMap(fragment)) return fragment;
  const merged: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(fragment)) merged[key] = mergeConfig(base[key], value);
  return merged;
}

/** The command lines of a doc:cli block, or of the `$ ` lines of a doc:transcript. */
export function commandText(block: FencedBlock): string {
  if (block.mark !== 'doc:transcript') return block.body;
  const out: string[] = [];
  let continued = false;
  for (const line of block.body.split('\n')) {
    if (continued || line.startsWith('$ ')) {
      out.push(continued ? line : line.slice(2));
      continued = line.endsWith('\\');
    }
  }
  return out.join('\n');
}

/**
 * Splits shell text into simple commands, each a list of words with the quotes removed. Operators
 * (`&&`, `||`, `;`, `|`, `&`), comments and redirections separate or disappear; `$(…)` stays inside
 * its word as written. Enough for the docs' commands, not a shell.
 */
export function shellCommands(text: string): string[][] {
  const src = text.replace(/\\\n/g, ' ');
  const commands: string[][] = [];
  let words: string[] = [];
  let word = '';
  let inWord = false;
  let dropNextWord = false;
  const endWord = () => {
    if (inWord && !dropNextWord) words.push(word);
    if (inWord) dropNextWord = false;
    word = '';
    inWord = false;
  };
  const endCommand = () => {
    endWord();
    if (words.length > 0) commands.push(words);
    words = [];
  };
  for (let i = 0; i < src.length; i += 1) {
    const c = src[i] ?? '';
    if (c === "'") {
      const close = src.indexOf("'", i + 1);
      const end = close < 0 ? src.length : close;
      word += src.slice(i + 1, end);
      inWord = true;
      i = end;
    } else if (c === '"') {
      let j = i + 1;
      for (; j < src.length && src[j] !== '"'; j += 1) {
        if (src[j] === '\\' && j + 1 < src.length) j += 1;
        word += src[j];
      }
      inWord = true;
      i = j;
    } else if (c === '$' && src[i + 1] === '(') {
      let depth = 0;
      let j = i + 1;
      for (; j < src.length; j += 1) {
        if (src[j] === '(') depth += 1;
        else if (src[j] === ')' && --depth === 0) break;
      }
      word += src.slice(i, j + 1);
      inWord = true;
      i = j;
    } else if (c === '\\') {
      word += src[i + 1] ?? '';
      inWord = true;
      i += 1;
    } else if (c === '#' && !inWord) {
      const eol = src.indexOf('\n', i);
      i = (eol < 0 ? src.length : eol) - 1;
    } else if (c === '>' || c === '<') {
      // `2>&1`, `> file`, `>> file`, `< file`: the operator, its fd and its target are no words
      if (/^\d+$/.test(word)) {
        word = '';
        inWord = false;
      } else endWord();
      while (src[i + 1] === '>') i += 1;
      const dup = /^&\d+/.exec(src.slice(i + 1));
      if (dup) i += dup[0].length;
      else dropNextWord = true;
    } else if (c === '\n' || c === ';' || c === '&' || c === '|') {
      endCommand();
    } else if (c === ' ' || c === '\t') {
      endWord();
    } else {
      word += c;
      inWord = true;
    }
  }
  endCommand();
  return commands;
}

/** A command the docs test checks: the storeloop CLI (however it is launched) or npm. */
export interface Invocation {
  program: 'storeloop' | 'npm';
  /** The words after the launcher (`config check FILE`, `run bench -- --only idle`). */
  args: string[];
  /** `NAME=value` words before the command. */
  env: Record<string, string>;
  text: string;
}

const STORELOOP_ENTRY = /(^|\/)(bin\/storeloop\.js|dist\/cli\/main\.js)$/;

/** The invocation a command is, or undefined for any other program (apt-get, curl, mosquitto_pub…). */
export function invocationOf(words: readonly string[]): Invocation | undefined {
  let start = 0;
  const env: Record<string, string> = {};
  for (; start < words.length && /^[A-Za-z_][A-Za-z0-9_]*=/.test(words[start] ?? ''); start += 1) {
    const assignment = words[start] ?? '';
    env[assignment.slice(0, assignment.indexOf('='))] = assignment.slice(assignment.indexOf('=') + 1);
  }
  const [first, second] = [words[start] ?? '', words[start + 1] ?? ''];
  const text = words.join(' ');
  const storeloop = (skip: number): Invocation => ({ program: 'storeloop', args: words.slice(start + skip), env, text });
  if (first === 'storeloop' || STORELOOP_ENTRY.test(first)) return storeloop(1);
  if (first === 'npx' && second === 'storeloop') return storeloop(2);
  if (/(^|\/)node$/.test(first) && STORELOOP_ENTRY.test(second)) return storeloop(2);
  if (first === 'npm') return { program: 'npm', args: words.slice(start + 1), env, text };
  return undefined;
}

/** A node program whose --help the docs test reads: a file of the build and the words it starts with. */
export interface CliTarget {
  /** Relative to the build (`cli/main.js`, `bench/run.js`). */
  entry: string;
  args: string[];
}

/**
 * What an npm command runs: nothing to check (`npm ci`), a node program of dist/ with the words after
 * `--` appended (`npm run bench -- …`), or problems (an unknown script, options npm would take itself).
 */
export function npmTarget(args: readonly string[], scripts: Readonly<Record<string, string>>): { target?: CliTarget; problems: string[] } {
  const [sub, ...rest] = args;
  if (sub === 'install' || sub === 'ci')
    return { problems: rest.length > 0 ? [`npm ${sub} takes no package here: storeloop's dependencies are in package.json`] : [] };
  const [name, ...passed] = sub === 'test' ? ['test', ...rest] : sub === 'run' || sub === 'run-script' ? rest : [];
  if (name === undefined) return { problems: [`npm ${sub ?? ''}: the docs use npm install, ci, test and run <script>`] };
  const script = scripts[name];
  if (script === undefined) return { problems: [`npm run ${name}: package.json has no script '${name}' (scripts: ${Object.keys(scripts).join(', ')})`] };
  if (passed.length === 0) return { problems: [] };
  if (passed[0] !== '--')
    return { problems: [`npm run ${name} ${passed.join(' ')}: npm reads options before \`--\` as its own; write \`npm run ${name} -- …\``] };
  const tail = script.split('&&').at(-1)?.trim() ?? '';
  const node = /^node (?:\.\/)?dist\/(\S+\.js)((?: [\w:-]+)*)$/.exec(tail);
  if (!node) return { problems: [`npm run ${name} -- …: the script ends in \`${tail}\`, whose --help the docs test cannot read`] };
  return { target: { entry: node[1] ?? '', args: [...(node[2] ?? '').split(' ').filter(Boolean), ...passed.slice(1)] }, problems: [] };
}

export interface HelpOption {
  flags: string[];
  value: 'none' | 'required' | 'optional';
  choices?: string[];
}

/** A command's --help (commander's layout): its subcommands, options and positional arguments. */
export interface Help {
  usage: string;
  commands: string[];
  options: HelpOption[];
  args: Array<{ name: string; required: boolean; variadic: boolean }>;
}

/** Reads commander's --help text. */
export function parseHelp(text: string): Help {
  const lines = text.split('\n');
  const usage = (lines.find((l) => l.startsWith('Usage:')) ?? '').replace(/^Usage:\s*/, '');
  const args = [...usage.matchAll(/([<[])([^>\]]+)[>\]]/g)]
    .filter((m) => m[2] !== 'options' && m[2] !== 'command')
    .map((m) => ({ name: m[2] ?? '', required: m[1] === '<', variadic: (m[2] ?? '').endsWith('...') }));
  const commands: string[] = [];
  const entries: string[] = [];
  let section = '';
  for (const line of lines) {
    const header = /^(\S.*):$/.exec(line);
    if (header) section = header[1] ?? '';
    else if (section === 'Commands' && /^ {2}\S/.test(line)) commands.push(line.trim().split(/\s+/)[0] ?? '');
    else if (section === 'Options' && /^ {2}-/.test(line)) entries.push(line.trim());
    else if (section === 'Options' && /^ {3,}\S/.test(line) && entries.length > 0) entries[entries.length - 1] += ` ${line.trim()}`;
  }
  const options = entries.map((entry): HelpOption => {
    const [spec = '', description = ''] = entry.split(/\s{2,}(.*)/s);
    const words = spec.split(/,?\s+/);
    const value = words.find((w) => w.startsWith('<')) ? 'required' : words.find((w) => w.startsWith('[')) ? 'optional' : 'none';
    const choices = /\(choices: ((?:"[^"]*",? ?)+)/.exec(description)?.[1];
    return {
      flags: words.filter((w) => w.startsWith('-')),
      value,
      ...(choices ? { choices: [...choices.matchAll(/"([^"]*)"/g)].map((m) => m[1] ?? '') } : {}),
    };
  });
  return { usage, commands, options, args };
}

/** Where the args of an invocation led: the (sub)command path, its positional arguments, and what --help does not list. */
export interface ArgsCheck {
  path: string[];
  positionals: string[];
  options: Record<string, string | true>;
  problems: string[];
}

/**
 * Walks `args` through the --help of the program and each subcommand: a word that --help does not
 * list (command, option, choice), a missing option value or a wrong number of arguments is a problem.
 */
export async function checkArgs(args: readonly string[], helpOf: (path: readonly string[]) => Promise<Help>): Promise<ArgsCheck> {
  const path: string[] = [];
  let help = await helpOf(path);
  const positionals: string[] = [];
  const options: Record<string, string | true> = {};
  const problems: string[] = [];
  const name = () => help.usage.split(' [')[0]?.split(' <')[0] ?? '';
  for (let i = 0; i < args.length; i += 1) {
    const arg = args[i] ?? '';
    if (arg.startsWith('-') && arg !== '-' && arg !== '--') {
      const [flag = '', inline] = arg.startsWith('--') && arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg];
      const option = help.options.find((o) => o.flags.includes(flag));
      if (!option) {
        problems.push(`\`${name()}\` has no option ${flag} (its --help lists ${help.options.map((o) => o.flags.join('/')).join(', ')})`);
        continue;
      }
      let value: string | true = true;
      if (option.value === 'none' && inline !== undefined) problems.push(`\`${name()}\`: ${flag} takes no value`);
      if (option.value !== 'none') {
        const next = args[i + 1];
        if (inline !== undefined) value = inline;
        else if (next !== undefined && !next.startsWith('-')) value = next;
        else if (option.value === 'required') problems.push(`\`${name()}\`: ${flag} needs a value`);
        if (inline === undefined && value !== true) i += 1;
      }
      if (option.choices && typeof value === 'string' && !option.choices.includes(value))
        problems.push(`\`${name()}\`: ${flag} ${value} is not one of ${option.choices.join(', ')}`);
      options[option.flags.at(-1) ?? flag] = value;
    } else if (help.commands.length > 0 && positionals.length === 0 && arg !== '--') {
      if (!help.commands.includes(arg)) {
        problems.push(`\`${name()}\` has no command ${arg} (its --help lists ${help.commands.join(', ')})`);
        break;
      }
      path.push(arg);
      help = await helpOf(path);
    } else if (arg !== '--') {
      positionals.push(arg);
    }
  }
  const required = help.args.filter((a) => a.required).length;
  const variadic = help.args.some((a) => a.variadic);
  if (problems.length === 0 && positionals.length < required) problems.push(`\`${name()}\` needs ${help.args.map((a) => a.name).join(' ')}`);
  if (problems.length === 0 && !variadic && positionals.length > help.args.length)
    problems.push(
      `\`${name()}\` takes ${help.args.length === 0 ? 'no arguments' : `at most ${help.args.map((a) => a.name).join(' ')}`}, got ${positionals.join(' ')}`,
    );
  return { path, positionals, options, problems };
}
