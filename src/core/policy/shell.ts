import type { ShParser } from 'mvdan-sh';
import type * as MvdanSh from 'mvdan-sh';
import { isDeepStrictEqual } from 'node:util';
import { scanOptions, type OptionFinding } from './options';
import { parseSimpleLine, type SimpleStatement } from './simpleLine';
import type { ShellWord } from './words';

/**
 * Shell-aware command analysis: what a command line really runs, for the policy.
 *
 * The parser is mvdan/sh (the Go parser behind shfmt, here as the `mvdan-sh` package: the
 * same code compiled to JavaScript, synchronous, full bash AST). `sh-syntax` (the same
 * parser as WebAssembly) was evaluated first and rejected: its JSON AST drops the command
 * nodes (`Cmd` comes back as `{Pos, End}`), so inner commands cannot be seen. `shell-quote`
 * tokenizes only (no subshells, `$(...)` or backticks as structure).
 *
 * Every inner command is found: chains (`&&`, `||`, `;`), pipes, subshells, `{ ...; }`
 * groups, `$(...)`, backticks, process substitution, bodies of if/for/while/case and
 * functions, and commands hidden behind wrappers (`env`, `xargs`, `timeout`, `nice`,
 * `nohup`, `command`, `exec`, `stdbuf`, `sudo`, `find -exec`, `sh -c`, `bash -c`, ...).
 * Words are taken after quote removal (`-e"x"ec` is `-exec`). What cannot be known before
 * it runs (a command name from a variable, `eval`, a script fed to a shell on stdin,
 * a redirection to a computed path) is reported as a concern: the policy asks at least.
 * A line that does not parse has `ok: false`: the policy asks.
 */

export type { ShellWord } from './words';

export interface InnerCommand {
  argv: ShellWord[];
  /** Wrappers it was found behind, outermost first (e.g. ["timeout", "sh -c"]). */
  via: string[];
  /** Options that make it run other programs (`rg --pre`, `sort --compress-program`, `sed …e`): see options.ts. */
  runs?: OptionFinding[];
}

export interface FileAccess {
  path: ShellWord;
  action: 'read' | 'write' | 'delete';
  /** What produced it: "redirection >", "rm", "tee"... */
  by: string;
}

export interface ShellConcern {
  code: 'eval' | 'dynamic-command' | 'stdin-script' | 'dynamic-path' | 'env-override' | 'unknown-wrapper-option' | 'nesting';
  detail: string;
}

export interface ShellAnalysis {
  ok: boolean;
  /** Why the line could not be parsed (with line:column). */
  error?: string;
  commands: InnerCommand[];
  files: FileAccess[];
  concerns: ShellConcern[];
}

const MAX_DEPTH = 8;

/**
 * Plain lines (words, quotes, `&&`, `||`, `|`, `;`, redirections to plain words) are read by
 * `parseSimpleLine` (a few µs; with the analysis about six times faster than mvdan-sh, and
 * without loading it); every other line goes to mvdan-sh. Off only to compare with the full parser.
 */
let fastPath = true;
/** When on, every line the fast reader answers is analyzed by the full parser too, and a difference throws (tests). */
let checkFastPath = false;

/** Tests: check every fast-path analysis against the full parser (a difference throws). */
export function setShellFastPathCheck(on: boolean): void {
  checkFastPath = on;
}

/** What `analyzeShell` computes for a line it has not cached (benchmarks). */
export function analyzeShellUncached(line: string): ShellAnalysis {
  const result: ShellAnalysis = { ok: true, commands: [], files: [], concerns: [] };
  analyzeInto(line, [], result, 0);
  return result;
}

/** The analysis by mvdan-sh alone, without the fast reader and without the cache (tests and benchmarks). */
export function analyzeShellFull(line: string): ShellAnalysis {
  const result: ShellAnalysis = { ok: true, commands: [], files: [], concerns: [] };
  const before = fastPath;
  fastPath = false;
  try {
    analyzeInto(line, [], result, 0);
  } finally {
    fastPath = before;
  }
  return result;
}

/** The analysis by the fast reader alone (no cache), or undefined when the line needs the full parser (tests and benchmarks). */
export function analyzeShellFast(line: string): ShellAnalysis | undefined {
  if (!parseSimpleLine(line)) return undefined;
  const result: ShellAnalysis = { ok: true, commands: [], files: [], concerns: [] };
  analyzeInto(line, [], result, 0);
  return result;
}

/** One parser, reused: Parse resets its state, and creating one per call costs more than parsing. */
let loaded: typeof MvdanSh | undefined;
/** Starting the parser's GopherJS runtime takes about 100 ms: done at the first analysis, not when the extension activates. */
function syntax(): (typeof MvdanSh)['syntax'] {
  // A lazy require on purpose (see above); esbuild bundles it either way.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  loaded ??= require('mvdan-sh') as typeof MvdanSh;
  return loaded.syntax;
}

let sharedParser: ShParser | undefined;
function parser(): ShParser {
  sharedParser ??= syntax().NewParser();
  return sharedParser;
}

/**
 * Analyses of recent lines, by the exact line: an agent repeats lines (a test run after every
 * edit), and one proposal's line is analyzed for its risk labels and again for the policy.
 * The analysis depends on the line alone; entries are frozen, so no reader can change another's.
 */
const CACHE_ENTRIES = 256;
const CACHE_MAX_LINE = 4096;
const cache = new Map<string, ShellAnalysis>();

/** Analyzes a command line as the shell would run it. The result is frozen (it may be shared). */
export function analyzeShell(line: string): ShellAnalysis {
  const cached = cache.get(line);
  if (cached) {
    // Most recently used last: Map keeps insertion order.
    cache.delete(line);
    cache.set(line, cached);
    return cached;
  }
  const result = analyzeShellUncached(line);
  deepFreeze(result);
  if (line.length <= CACHE_MAX_LINE) {
    if (cache.size >= CACHE_ENTRIES) cache.delete(cache.keys().next().value!);
    cache.set(line, result);
  }
  return result;
}

function freezeWord(w: ShellWord): void {
  Object.freeze(w);
}

/** Freezes an analysis and everything in it (by its known shape: a generic walk cost as much as the parse of a plain line). */
function deepFreeze(result: ShellAnalysis): void {
  for (const command of result.commands) {
    command.argv.forEach(freezeWord);
    Object.freeze(command.argv);
    Object.freeze(command.via);
    for (const run of command.runs ?? []) {
      if (run.value) freezeWord(run.value);
      Object.freeze(run);
    }
    if (command.runs) Object.freeze(command.runs);
    Object.freeze(command);
  }
  for (const file of result.files) {
    freezeWord(file.path);
    Object.freeze(file);
  }
  result.concerns.forEach((c) => Object.freeze(c));
  Object.freeze(result.commands);
  Object.freeze(result.files);
  Object.freeze(result.concerns);
  Object.freeze(result);
}

/** Analyzes an argv run without a shell (wrappers such as `sh -c` are still looked into). */
export function analyzeArgv(argv: string[]): ShellAnalysis {
  const result: ShellAnalysis = { ok: true, commands: [], files: [], concerns: [] };
  if (argv.length === 0) return { ...result, ok: false, error: 'empty command' };
  addCommand(
    argv.map((text) => ({ text, dynamic: false })),
    [],
    result,
    0,
  );
  return result;
}

function analyzeInto(line: string, via: string[], result: ShellAnalysis, depth: number): void {
  if (depth > MAX_DEPTH) {
    result.concerns.push({ code: 'nesting', detail: 'commands nested too deeply to analyze' });
    return;
  }
  const simple = fastPath ? parseSimpleLine(line) : undefined;
  if (simple) {
    if (checkFastPath) return compareWithFullParser(line, simple, via, result, depth);
    return addStatements(simple, via, result, depth);
  }
  let file: GoNode;
  try {
    file = goNode(parser().Parse(line, 'command'));
  } catch (error) {
    result.ok = false;
    result.error = parseErrorText(error);
    return;
  }
  const source = Buffer.from(line, 'utf8');
  const text = (node: GoNode): string => source.subarray(node.Pos().Offset(), node.End().Offset()).toString('utf8');
  walk(file, (node, type) => {
    switch (type) {
      case 'Stmt':
        for (const redirect of nodes(node.Redirs)) addRedirect(redirect, source, text, result);
        break;
      case 'CallExpr': {
        const args = nodes(node.Args);
        for (const assign of nodes(node.Assigns)) checkAssign(goString(child(assign.Name)?.Value).trim(), args.length > 0, result);
        if (args.length > 0)
          addCommand(
            args.map((w) => word(w, text)),
            via,
            result,
            depth,
          );
        break;
      }
      case 'DeclClause': {
        // export/declare/local/readonly: evaluated as a command named by the keyword.
        const variant = goString(child(node.Variant)?.Value) || 'declare';
        const args = nodes(node.Args);
        for (const assign of args) checkAssign(goString(child(assign.Name)?.Value).trim(), false, result);
        result.commands.push({ argv: [{ text: variant, dynamic: false }, ...args.map((a) => ({ text: text(a), dynamic: true }))], via });
        break;
      }
      default:
        break;
    }
  });
}

/** Records the fast reader's statements as the walk of the full parser's tree would, in the same order. */
function addStatements(statements: SimpleStatement[], via: string[], result: ShellAnalysis, depth: number): void {
  for (const statement of statements) {
    // The walk visits a statement (its redirections) before its command (assignments, then words).
    for (const redirect of statement.redirects) addRedirectTo(redirect.op, redirect.path, result);
    for (const name of statement.assigns) checkAssign(name, statement.argv.length > 0, result);
    if (statement.argv.length > 0) addCommand(statement.argv, via, result, depth);
  }
}

function compareWithFullParser(line: string, statements: SimpleStatement[], via: string[], result: ShellAnalysis, depth: number): void {
  const fast: ShellAnalysis = { ok: true, commands: [], files: [], concerns: [] };
  addStatements(statements, via, fast, depth);
  const full: ShellAnalysis = { ok: true, commands: [], files: [], concerns: [] };
  fastPath = false;
  try {
    analyzeInto(line, via, full, depth);
  } finally {
    fastPath = true;
  }
  if (!isDeepStrictEqual(fast, full)) {
    throw new Error(
      `the fast shell reader and mvdan-sh disagree on ${JSON.stringify(line)}: ${JSON.stringify(fast)} vs ${JSON.stringify(full)}`,
    );
  }
  result.commands.push(...fast.commands);
  result.files.push(...fast.files);
  result.concerns.push(...fast.concerns);
  if (!fast.ok) Object.assign(result, { ok: false, error: fast.error });
}

/**
 * The parser's own node objects. `Parse` hands back a wrapper whose every field read converts
 * the Go value to JavaScript again (new wrapper objects, reflection), and `syntax.Walk` does
 * that for every node: 90 % of an analysis went there. The wrapper keeps the Go value in
 * `__internal_object__`: a struct is an object with its Go fields as properties, a pointer's
 * type name is `constructor.string` ("*syntax.CallExpr"), a nil pointer is
 * `constructor.nil`, a slice is `{$array, $offset, $length}` and a string holds UTF-8 bytes
 * one per character. The package is pinned to one version (it is not developed any more), and
 * a shape that is not this one throws: the line does not parse, so it asks (fail closed).
 */
interface GoNode {
  [field: string]: unknown;
  constructor: { string?: string; nil?: unknown };
  Pos(): { Offset(): number };
  End(): { Offset(): number };
}
interface GoSlice {
  $array: unknown[];
  $offset: number;
  $length: number;
}

function goNode(wrapper: unknown): GoNode {
  const node = (wrapper as { __internal_object__?: unknown } | null)?.__internal_object__;
  if (!isNode(node) || typeName(node) !== 'File') throw new Error('the shell parser returned a tree of an unknown shape');
  return node;
}

const PREFIX = '*syntax.';
function isNode(value: unknown): value is GoNode {
  if (typeof value !== 'object' || value === null) return false;
  const type = (value as GoNode).constructor?.string;
  return typeof type === 'string' && type.startsWith(PREFIX) && value !== (value as GoNode).constructor.nil;
}
function typeName(node: GoNode): string {
  return node.constructor.string!.slice(PREFIX.length);
}
function isSlice(value: unknown): value is GoSlice {
  return (
    typeof value === 'object' &&
    value !== null &&
    Array.isArray((value as GoSlice).$array) &&
    typeof (value as GoSlice).$length === 'number'
  );
}
/** The nodes of a slice field (empty for nil). */
function nodes(value: unknown): GoNode[] {
  if (!isSlice(value)) return [];
  const out: GoNode[] = [];
  for (let i = 0; i < value.$length; i++) {
    const item = value.$array[value.$offset + i];
    if (isNode(item)) out.push(item);
  }
  return out;
}
/** A pointer field's node, or undefined for nil. */
function child(value: unknown): GoNode | undefined {
  return isNode(value) ? value : undefined;
}
/** A Go string (UTF-8 bytes, one per character) as a JavaScript string. */
function goString(value: unknown): string {
  if (typeof value !== 'string') return '';
  // eslint-disable-next-line no-control-regex
  return /[^\x00-\x7f]/.test(value) ? Buffer.from(value, 'latin1').toString('utf8') : value;
}

/** Positions and comments hold no commands. */
const LEAVES = new Set(['Pos', 'Comment']);

/** Per Go type: its name, and its fields (read once from the first node of that type). */
interface GoType {
  name: string;
  leaf: boolean;
  fields: string[];
}
const goTypes = new Map<unknown, GoType>();
function goType(node: GoNode): GoType {
  let type = goTypes.get(node.constructor);
  if (!type) {
    const name = typeName(node);
    // A struct's fields are its own properties, all set by its constructor (zero values included).
    type = { name, leaf: LEAVES.has(name), fields: Object.keys(node).filter((key) => !key.startsWith('$')) };
    goTypes.set(node.constructor, type);
  }
  return type;
}

/**
 * Visits every node of the tree, parents before children and fields in their declared order
 * (as `syntax.Walk` does), by reading every field: a node type this walk does not know is
 * still descended into, so no inner command can hide in a field the analyzer never names.
 */
function walk(node: GoNode, visit: (node: GoNode, type: string) => void): void {
  const type = goType(node);
  if (type.leaf) return;
  visit(node, type.name);
  for (const key of type.fields) {
    const value = node[key];
    if (typeof value !== 'object' || value === null) continue;
    if (isSlice(value)) {
      for (let i = 0; i < value.$length; i++) {
        const item = value.$array[value.$offset + i];
        if (isNode(item)) walk(item, visit);
      }
    } else if (isNode(value)) {
      walk(value, visit);
    }
  }
}

/** The value of a word after quote removal, or its source text when it is only known at run time. */
function word(node: GoNode, text: (n: GoNode) => string): ShellWord {
  let value = '';
  let dynamic = false;
  const visit = (parts: GoNode[], quoted: boolean): void => {
    for (const part of parts) {
      const type = goType(part).name;
      if (type === 'Lit') {
        const lit = goString(part.Value);
        // Unquoted globs, brace expansion and a leading ~ expand at run time.
        if (!quoted && (/[*?[]/.test(lit) || /\{[^}]*(,|\.\.)[^}]*\}/.test(lit) || (value === '' && lit.startsWith('~')))) dynamic = true;
        value += quoted ? lit : lit.replace(/\\(.)/gs, '$1');
      } else if (type === 'SglQuoted') {
        // $'...' (ANSI-C quoting) decodes escapes such as \x72: its value is not its text.
        if (part.Dollar === true) dynamic = true;
        value += goString(part.Value);
      } else if (type === 'DblQuoted') {
        // $"..." is translated through the locale at run time.
        if (part.Dollar === true) dynamic = true;
        visit(nodes(part.Parts), true);
      } else {
        // ParamExp, CmdSubst, ArithmExp, ProcSubst, ExtGlob, BraceExp: known only at run time.
        // (Their inner commands are found by the walk of the whole line.)
        dynamic = true;
      }
    }
  };
  visit(nodes(node.Parts), false);
  return dynamic ? { text: text(node), dynamic: true } : { text: value, dynamic: false };
}

const DANGEROUS_ENV =
  /^(PATH|LD_[A-Z_]+|DYLD_[A-Z_]+|NODE_OPTIONS|NODE_PATH|BASH_ENV|ENV|PYTHONPATH|PYTHONSTARTUP|PERL5LIB|PERL5OPT|RUBYOPT|RUBYLIB|GIT_[A-Z_]+|IFS|PROMPT_COMMAND|SHELLOPTS|BASHOPTS|PAGER|MANPAGER|SYSTEMD_PAGER|EDITOR|VISUAL|LESSOPEN|LESSCLOSE|BROWSER|SHELL|SSH_ASKPASS|SUDO_ASKPASS|RIPGREP_CONFIG_PATH|CURL_HOME|WGETRC|TAR_OPTIONS)$/;

function checkAssign(name: string, prefix: boolean, result: ShellAnalysis): void {
  if (DANGEROUS_ENV.test(name)) {
    result.concerns.push({
      code: 'env-override',
      detail: `sets ${name}${prefix ? ' for the command' : ''}, which changes what later commands run`,
    });
  }
}

const READ_OPS = new Set(['<']);
const WRITE_OPS = new Set(['>', '>>', '>|', '&>', '&>>', '<>']);

function addRedirect(redirect: GoNode, source: Buffer, text: (n: GoNode) => string, result: ShellAnalysis): void {
  const opPos = (redirect.OpPos as { Offset?(): number } | undefined)?.Offset?.();
  const target = child(redirect.Word);
  if (opPos === undefined || !target) return;
  const head = source.subarray(opPos, opPos + 3).toString('utf8');
  const op = ['&>>', '<<<', '<<-', '&>', '>>', '>|', '>&', '<>', '<<', '<&', '>', '<'].find((o) => head.startsWith(o)) ?? head;
  addRedirectTo(op, word(target, text), result);
}

/** A redirection's file access, from its operator and target word (fd duplications and here-documents touch no file). */
function addRedirectTo(op: string, path: ShellWord, result: ShellAnalysis): void {
  if (op === '>&' || op === '<&') {
    // fd duplication (2>&1, >&-) unless the target is a file name (bash's >&file).
    if (/^(\d+|-)$/.test(path.text)) return;
    if (op === '<&') return;
  } else if (!READ_OPS.has(op) && !WRITE_OPS.has(op)) {
    return; // here-documents and here-strings: input only, no file
  }
  if (!path.dynamic && /^\/dev\/(null|stdout|stderr|tty|fd\/\d+)$/.test(path.text)) return;
  result.files.push({ path, action: READ_OPS.has(op) ? 'read' : 'write', by: `redirection ${op}` });
  if (path.dynamic)
    result.concerns.push({ code: 'dynamic-path', detail: `redirection ${op} to ${path.text}, a path known only at run time` });
}

const SHELLS = new Set(['sh', 'bash', 'dash', 'zsh', 'ksh', 'ash', 'mksh', 'busybox']);
const DELETERS = new Set(['rm', 'rmdir', 'unlink', 'shred']);

function basename(name: string): string {
  return name.slice(name.lastIndexOf('/') + 1);
}

/** A wrapper's options: those that take a value, and flags. Constants, not literals made at each call (issue 21, round 6). */
interface WrapperOptions {
  withValue: readonly string[];
  flags: readonly string[];
}
const TIMEOUT_OPTIONS: WrapperOptions = {
  withValue: ['-k', '--kill-after', '-s', '--signal'],
  flags: ['--preserve-status', '--foreground', '-v', '--verbose', '-f'],
};
const NOHUP_OPTIONS: WrapperOptions = { withValue: [], flags: ['-p', '-f', '-w', '-c', '--'] };
const COMMAND_OPTIONS: WrapperOptions = { withValue: [], flags: ['-p'] };
const EXEC_OPTIONS: WrapperOptions = { withValue: ['-a'], flags: ['-c', '-l'] };
const STDBUF_OPTIONS: WrapperOptions = { withValue: ['-i', '-o', '-e', '--input', '--output', '--error'], flags: [] };
const IONICE_OPTIONS: WrapperOptions = { withValue: ['-c', '-n', '--class', '--classdata'], flags: ['-t'] };
const SUDO_OPTIONS: WrapperOptions = {
  withValue: ['-u', '-g', '-C', '-D', '-h', '-p', '-r', '-t', '-U'],
  flags: ['-E', '-H', '-n', '-P', '-S', '-b', '-i', '-s', '-k', '-A'],
};
const XARGS_OPTIONS: WrapperOptions = {
  withValue: [
    '-n',
    '-L',
    '-P',
    '-s',
    '-I',
    '-d',
    '-E',
    '-a',
    '--max-args',
    '--max-lines',
    '--max-procs',
    '--max-chars',
    '--delimiter',
    '--eof',
    '--arg-file',
    '--replace',
  ],
  flags: ['-0', '-r', '-t', '-p', '-x', '-o', '--null', '--no-run-if-empty', '--verbose', '--interactive', '--exit', '--open-tty'],
};
const WATCH_OPTIONS: WrapperOptions = {
  withValue: ['-n', '--interval', '-q', '--equexit'],
  flags: [
    '-d',
    '-t',
    '-b',
    '-e',
    '-g',
    '-c',
    '-x',
    '-p',
    '-w',
    '-r',
    '--differences',
    '--no-title',
    '--beep',
    '--errexit',
    '--chgexit',
    '--color',
    '--exec',
    '--precise',
    '--no-wrap',
  ],
};
const STRACE_OPTIONS: WrapperOptions = {
  withValue: ['-o', '-e', '-p', '-s', '-u', '-E', '-a', '-b', '-I', '-P', '-X'],
  flags: [
    '-f',
    '-ff',
    '-c',
    '-C',
    '-d',
    '-D',
    '-i',
    '-q',
    '-qq',
    '-r',
    '-t',
    '-tt',
    '-ttt',
    '-T',
    '-v',
    '-V',
    '-x',
    '-xx',
    '-y',
    '-yy',
    '-k',
    '-w',
    '-z',
    '-Z',
    '-n',
    '-S',
    '-h',
    '-l',
    '-L',
  ],
};
const TASKSET_OPTIONS: WrapperOptions = {
  withValue: ['-T', '-P', '-D'],
  flags: [
    '-a',
    '-c',
    '-p',
    '--all-tasks',
    '--cpu-list',
    '-b',
    '-d',
    '-f',
    '-i',
    '-o',
    '-r',
    '-R',
    '-v',
    '-m',
    '--batch',
    '--deadline',
    '--fifo',
    '--idle',
    '--other',
    '--rr',
    '--reset-on-fork',
    '--verbose',
  ],
};
const CHROOT_OPTIONS: WrapperOptions = {
  withValue: ['--userspec', '--groups', '-w', '--timeout', '-E', '--conflict-exit-code'],
  flags: [
    '-s',
    '-x',
    '-n',
    '-u',
    '-o',
    '-F',
    '--shared',
    '--exclusive',
    '--nonblock',
    '--unlock',
    '--close',
    '--no-fork',
    '--skip-chdir',
    '--verbose',
  ],
};

/** Records the command a wrapper runs (a function, not a closure per command: issue 21, round 6). */
function addInner(words: ShellWord[], wrapper: string, via: string[], result: ShellAnalysis, depth: number): void {
  addCommand(words, [...via, wrapper], result, depth + 1);
}

/** Records a simple command, looking through wrappers to the command they run. */
function addCommand(argv: ShellWord[], via: string[], result: ShellAnalysis, depth: number): void {
  const first = argv[0];
  if (!first) return;
  if (first.dynamic) {
    result.concerns.push({ code: 'dynamic-command', detail: `the command name ${first.text} is known only at run time` });
    result.commands.push({ argv, via });
    return;
  }
  const name = basename(first.text);
  const rest = argv.slice(1);
  if (depth > MAX_DEPTH) {
    result.concerns.push({ code: 'nesting', detail: 'commands nested too deeply to analyze' });
    return;
  }

  switch (name) {
    case 'eval':
      result.concerns.push({ code: 'eval', detail: 'eval runs a command built at run time' });
      result.commands.push({ argv, via });
      return;
    case 'env': {
      const { index, split } = skipEnvOptions(rest, result);
      if (split !== undefined) {
        if (split.dynamic) result.concerns.push({ code: 'dynamic-command', detail: `env -S ${split.text}` });
        else analyzeInto(split.text, [...via, 'env -S'], result, depth + 1);
      }
      let i = index;
      while (i < rest.length && /^[A-Za-z_][A-Za-z0-9_]*=/.test(rest[i]!.text)) {
        const variable = rest[i]!.text.slice(0, rest[i]!.text.indexOf('='));
        if (DANGEROUS_ENV.test(variable))
          result.concerns.push({ code: 'env-override', detail: `env sets ${variable}, which changes what the command runs` });
        i++;
      }
      if (i < rest.length) return addInner(rest.slice(i), 'env', via, result, depth);
      if (split === undefined) result.commands.push({ argv, via });
      return;
    }
    case 'timeout': {
      const i = skipOptions(rest, TIMEOUT_OPTIONS, name, result);
      // then the duration, then the command
      return i + 1 < rest.length ? addInner(rest.slice(i + 1), 'timeout', via, result, depth) : void result.commands.push({ argv, via });
    }
    case 'nice': {
      let i = 0;
      while (i < rest.length) {
        const w = rest[i]!.text;
        if (w === '-n' || w === '--adjustment') i += 2;
        else if (/^(-n.+|--adjustment=.*|-\d+|--)$/.test(w)) {
          i++;
          if (w === '--') break;
        } else if (w.startsWith('-')) {
          result.concerns.push({ code: 'unknown-wrapper-option', detail: `nice ${w}` });
          i++;
        } else break;
      }
      return i < rest.length ? addInner(rest.slice(i), 'nice', via, result, depth) : void result.commands.push({ argv, via });
    }
    case 'nohup':
    case 'time':
    case 'setsid':
    case 'builtin':
    case 'unbuffer': {
      const i = skipOptions(rest, NOHUP_OPTIONS, name, result);
      return i < rest.length ? addInner(rest.slice(i), name, via, result, depth) : void result.commands.push({ argv, via });
    }
    case 'command': {
      if (rest.some((w) => w.text === '-v' || w.text === '-V')) return void result.commands.push({ argv, via }); // a lookup, runs nothing
      const i = skipOptions(rest, COMMAND_OPTIONS, name, result);
      return i < rest.length ? addInner(rest.slice(i), name, via, result, depth) : void result.commands.push({ argv, via });
    }
    case 'exec': {
      const i = skipOptions(rest, EXEC_OPTIONS, name, result);
      return i < rest.length ? addInner(rest.slice(i), name, via, result, depth) : void result.commands.push({ argv, via });
    }
    case 'stdbuf': {
      const i = skipOptions(rest, STDBUF_OPTIONS, name, result);
      return i < rest.length ? addInner(rest.slice(i), name, via, result, depth) : void result.commands.push({ argv, via });
    }
    case 'ionice': {
      const i = skipOptions(rest, IONICE_OPTIONS, name, result);
      return i < rest.length ? addInner(rest.slice(i), name, via, result, depth) : void result.commands.push({ argv, via });
    }
    case 'sudo':
    case 'doas': {
      const i = skipOptions(rest, SUDO_OPTIONS, name, result);
      result.commands.push({ argv: argv.slice(0, 1), via }); // sudo itself is matched too
      return i < rest.length ? addInner(rest.slice(i), name, via, result, depth) : undefined;
    }
    case 'xargs': {
      const i = skipOptions(rest, XARGS_OPTIONS, name, result);
      // xargs appends words read from its input: the command gets arguments known only at run time.
      const words = i < rest.length ? rest.slice(i) : [{ text: 'echo', dynamic: false }];
      return addInner([...words, { text: '<xargs input>', dynamic: true }], 'xargs', via, result, depth);
    }
    case 'find':
      return find(argv, via, result, depth);
    case 'watch': {
      const i = skipOptions(rest, WATCH_OPTIONS, name, result);
      return i < rest.length ? addInner(rest.slice(i), name, via, result, depth) : void result.commands.push({ argv, via });
    }
    case 'strace':
    case 'ltrace': {
      const i = skipOptions(rest, STRACE_OPTIONS, name, result);
      return i < rest.length ? addInner(rest.slice(i), name, via, result, depth) : void result.commands.push({ argv, via });
    }
    case 'taskset':
    case 'chrt': {
      // taskset [-a] [-c] MASK cmd / chrt [options] PRIORITY cmd: one positional before the command.
      const i = skipOptions(rest, TASKSET_OPTIONS, name, result);
      return i + 1 < rest.length ? addInner(rest.slice(i + 1), name, via, result, depth) : void result.commands.push({ argv, via });
    }
    case 'chroot':
    case 'flock': {
      // chroot [options] DIR [cmd...] / flock [options] FILE cmd... (or flock FILE -c 'cmd').
      const i = skipOptions(rest, CHROOT_OPTIONS, name, result);
      const after = rest.slice(i + 1);
      if (after[0]?.text === '-c' || after[0]?.text === '--command') {
        const script = after[1];
        if (!script || script.dynamic)
          result.concerns.push({ code: 'dynamic-command', detail: `${name} -c with a script known only at run time` });
        else analyzeInto(script.text, [...via, `${name} -c`], result, depth + 1);
        return;
      }
      if (after.length > 0) return addInner(after, name, via, result, depth);
      if (name === 'chroot') result.concerns.push({ code: 'stdin-script', detail: 'chroot without a command starts a shell' });
      return void result.commands.push({ argv, via });
    }
    case 'su':
    case 'runuser':
    case 'script': {
      // su [user] -c 'cmd', runuser -u user -- cmd, script -c 'cmd' [file]
      const c = rest.findIndex((w) => w.text === '-c' || w.text === '--command');
      result.commands.push({ argv: argv.slice(0, 1), via });
      if (c >= 0) {
        const script = rest[c + 1];
        if (!script || script.dynamic)
          result.concerns.push({ code: 'dynamic-command', detail: `${name} -c with a script known only at run time` });
        else analyzeInto(script.text, [...via, `${name} -c`], result, depth + 1);
        return;
      }
      const dashes = rest.findIndex((w) => w.text === '--');
      if (dashes >= 0 && dashes + 1 < rest.length) return addInner(rest.slice(dashes + 1), name, via, result, depth);
      if (name !== 'script') result.concerns.push({ code: 'stdin-script', detail: `${name} without -c starts a shell` });
      return;
    }
    case 'unshare':
    case 'nsenter':
    case 'pkexec':
    case 'firejail':
    case 'proxychains':
    case 'proxychains4': {
      let i = 0;
      while (i < rest.length && !rest[i]!.dynamic && rest[i]!.text.startsWith('-')) {
        // Only --opt=value and flag forms are understood; a separate option value would be taken for the command.
        if (!/^--?[A-Za-z][\w-]*(=.*)?$/.test(rest[i]!.text))
          result.concerns.push({ code: 'unknown-wrapper-option', detail: `${name} ${rest[i]!.text}` });
        i++;
      }
      if (i < rest.length) return addInner(rest.slice(i), name, via, result, depth);
      result.concerns.push({ code: 'stdin-script', detail: `${name} without a command starts a shell` });
      return void result.commands.push({ argv, via });
    }
    default:
      break;
  }

  if (SHELLS.has(name)) return shell(name, argv, via, result, depth);

  const options = scanOptions(argv);
  const runs = options.filter((o) => o.effect === 'exec');
  result.commands.push(runs.length > 0 ? { argv, via, runs } : { argv, via });
  for (const o of options) {
    if (o.effect !== 'write') continue;
    // A write flag (sed -i, prettier --write) writes the file operands; a write option names its file.
    const targets = writesOperands(name, o.option)
      ? fileOperands(name, rest)
      : [o.value ?? { text: `<file written by ${o.option}>`, dynamic: true }];
    for (const path of targets) result.files.push({ path, action: 'write', by: o.option });
  }
  if (DELETERS.has(name) || (name === 'git' && gitSubcommand(rest) === 'rm')) {
    for (const w of operands(name === 'git' ? rest.slice(rest.findIndex((x) => x.text === 'rm') + 1) : rest))
      result.files.push({ path: w, action: 'delete', by: name === 'git' ? 'git rm' : name });
  } else if (name === 'tee' || name === 'touch' || name === 'truncate') {
    for (const w of operands(rest)) result.files.push({ path: w, action: 'write', by: name });
  } else if ((name === 'cp' || name === 'mv' || name === 'install' || name === 'ln') && operands(rest).length >= 2) {
    const ops = operands(rest);
    result.files.push({ path: ops[ops.length - 1]!, action: 'write', by: name });
    if (name === 'mv') for (const w of ops.slice(0, -1)) result.files.push({ path: w, action: 'delete', by: name });
  }
}

/** Write flags whose files are the program's operands (the finding's option reads "sed -i"). */
const IN_PLACE = new Set(['sed -i', 'sed --in-place', 'yq -i', 'yq --inplace', 'prettier --write', 'prettier -w', 'eslint --fix']);
function writesOperands(_name: string, option: string): boolean {
  return IN_PLACE.has(option);
}

/** The file operands of an in-place editor: for sed, the words after its script. */
function fileOperands(name: string, rest: ShellWord[]): ShellWord[] {
  // Values of -e SCRIPT, -f FILE, -l N (also last in a cluster such as -ne; -ie is -i with suffix "e").
  const takesValue = (t: string): boolean => /^(--expression|--file|-l)$/.test(t) || /^-[^-i]*[ef]$/.test(t);
  const ops = operands(rest.filter((_, i) => !(i > 0 && takesValue(rest[i - 1]!.text))));
  const scriptGiven = rest.some((w) => takesValue(w.text) || /^--(expression|file)=/.test(w.text));
  return name === 'sed' && !scriptGiven ? ops.slice(1) : ops;
}

/** Words that are not options (a conservative view: everything after `--`, and words not starting with -). */
function operands(words: ShellWord[]): ShellWord[] {
  const out: ShellWord[] = [];
  let afterDashes = false;
  for (const w of words) {
    if (!afterDashes && w.text === '--') {
      afterDashes = true;
      continue;
    }
    if (afterDashes || w.dynamic || !w.text.startsWith('-')) out.push(w);
  }
  return out;
}

function skipOptions(words: ShellWord[], spec: WrapperOptions, wrapper: string, result: ShellAnalysis): number {
  let i = 0;
  while (i < words.length) {
    const w = words[i]!;
    if (w.dynamic) {
      if (w.text.startsWith('-') || w.text.startsWith('$'))
        result.concerns.push({ code: 'unknown-wrapper-option', detail: `${wrapper} ${w.text}` });
      return i;
    }
    const t = w.text;
    if (t === '--') return i + 1;
    if (!t.startsWith('-') || t === '-') return i;
    if (spec.withValue.includes(t)) i += 2;
    else if (spec.withValue.some((o) => o.startsWith('--') && t.startsWith(`${o}=`))) i++;
    else if (spec.withValue.some((o) => !o.startsWith('--') && t.startsWith(o) && t.length > o.length))
      i++; // -n5
    else if (spec.flags.includes(t)) i++;
    else if (/^-[A-Za-z0-9]+$/.test(t) && [...t.slice(1)].every((c) => spec.flags.includes(`-${c}`)))
      i++; // combined flags
    else {
      result.concerns.push({ code: 'unknown-wrapper-option', detail: `${wrapper} ${t}` });
      i++;
    }
  }
  return i;
}

function skipEnvOptions(words: ShellWord[], result: ShellAnalysis): { index: number; split?: ShellWord } {
  let i = 0;
  let split: ShellWord | undefined;
  while (i < words.length) {
    const w = words[i]!;
    const t = w.text;
    if (w.dynamic) break;
    if (t === '--') return { index: i + 1, ...(split ? { split } : {}) };
    if (t === '-' || t === '-i' || t === '--ignore-environment' || t === '-0' || t === '--null' || t === '-v' || t === '--debug') i++;
    else if (t === '-u' || t === '--unset' || t === '-C' || t === '--chdir') i += 2;
    else if (/^(-u.+|--unset=.*|-C.+|--chdir=.*)$/.test(t)) i++;
    else if (t === '-S' || t === '--split-string') {
      split = words[i + 1];
      i += 2;
    } else if (/^(-S.+|--split-string=.*)$/.test(t)) {
      split = { text: t.replace(/^(-S|--split-string=)/, ''), dynamic: false };
      i++;
    } else if (t.startsWith('-')) {
      result.concerns.push({ code: 'unknown-wrapper-option', detail: `env ${t}` });
      i++;
    } else break;
  }
  return { index: i, ...(split ? { split } : {}) };
}

/** `sh -c 'script'` analyzes the script; `sh file` runs a file (matched as a command); bare `sh` reads commands from stdin. */
function shell(name: string, argv: ShellWord[], via: string[], result: ShellAnalysis, depth: number): void {
  const rest = argv.slice(1);
  let i = 0;
  let dashC = false;
  if (name === 'busybox') {
    // busybox sh -c ...: look at the applet.
    if (rest.length > 0) return addCommand(rest, [...via, 'busybox'], result, depth + 1);
    result.commands.push({ argv, via });
    return;
  }
  while (i < rest.length) {
    const w = rest[i]!;
    if (w.dynamic) break;
    const t = w.text;
    if (t === '--' || t === '-') {
      i++;
      break;
    }
    if (t === '-o' || t === '+o' || t === '-O' || t === '+O' || t === '--rcfile' || t === '--init-file') {
      i += 2;
      continue;
    }
    if (/^[-+][A-Za-z]+$/.test(t)) {
      if (t.startsWith('-') && t.includes('c')) dashC = true;
      if (t.startsWith('-') && t.includes('s')) {
        result.concerns.push({ code: 'stdin-script', detail: `${name} ${t} reads its commands from standard input` });
      }
      i++;
      continue;
    }
    if (t.startsWith('--')) {
      i++;
      continue;
    }
    break;
  }
  if (dashC) {
    const script = rest[i];
    if (!script) {
      result.ok = false;
      result.error = `${name} -c without a command`;
      return;
    }
    if (script.dynamic) {
      result.concerns.push({ code: 'dynamic-command', detail: `${name} -c ${script.text}: the script is known only at run time` });
      result.commands.push({ argv, via });
      return;
    }
    analyzeInto(script.text, [...via, `${name} -c`], result, depth + 1);
    return;
  }
  if (i >= rest.length) {
    result.concerns.push({ code: 'stdin-script', detail: `${name} reads its commands from standard input` });
  }
  result.commands.push({ argv, via });
}

/** `find ... -exec cmd {} ;` runs cmd; `-delete` deletes. */
function find(argv: ShellWord[], via: string[], result: ShellAnalysis, depth: number): void {
  const options = scanOptions(argv);
  const runs = options.filter((o) => o.effect === 'exec');
  result.commands.push(runs.length > 0 ? { argv, via, runs } : { argv, via });
  for (const o of options)
    if (o.effect === 'write')
      result.files.push({ path: o.value ?? { text: `<file written by ${o.option}>`, dynamic: true }, action: 'write', by: o.option });
  const words = argv.slice(1);
  for (let i = 0; i < words.length; i++) {
    const t = words[i]!.text;
    if (t === '-delete') {
      const start = words.slice(0, i).filter((w) => !w.text.startsWith('-') && !w.text.startsWith('(') && !w.text.startsWith('!'));
      result.files.push({ path: start[0] ?? { text: '.', dynamic: false }, action: 'delete', by: 'find -delete' });
      result.files.push({ path: { text: '<files found by find>', dynamic: true }, action: 'delete', by: 'find -delete' });
    }
    if (t === '-exec' || t === '-execdir' || t === '-ok' || t === '-okdir') {
      let end = i + 1;
      while (end < words.length && words[end]!.text !== ';' && words[end]!.text !== '+') end++;
      const command = words.slice(i + 1, end).map((w) => (w.text.includes('{}') ? { text: w.text, dynamic: true } : w));
      if (command.length > 0) addCommand(command, [...via, `find ${t}`], result, depth + 1);
      i = end;
    }
  }
}

/** git's subcommand, skipping global options such as -C dir and -c key=value. */
export function gitSubcommand(args: ShellWord[]): string | undefined {
  for (let i = 0; i < args.length; i++) {
    const w = args[i]!;
    if (w.dynamic) return undefined;
    const t = w.text;
    if (
      t === '-C' ||
      t === '-c' ||
      t === '--git-dir' ||
      t === '--work-tree' ||
      t === '--namespace' ||
      t === '--exec-path' ||
      t === '--config-env'
    ) {
      i++;
      continue;
    }
    if (t.startsWith('-')) continue;
    return t;
  }
  return undefined;
}

function parseErrorText(error: unknown): string {
  if (error && typeof error === 'object' && 'Error' in error && typeof error.Error === 'function') {
    return String((error as { Error(): unknown }).Error()).replace(/^command:/, '');
  }
  return error instanceof Error ? error.message : String(error);
}

/** Display of a command's words, for reasons and labels. */
export function commandText(argv: ShellWord[]): string {
  return argv.map((w) => (w.dynamic || /^[\w@%+=:,./-]+$/.test(w.text) ? w.text : JSON.stringify(w.text))).join(' ');
}
