import type { ShellWord } from './words';

/**
 * Options that run other programs or write files, per program (GTFOBins-style option abuse).
 *
 * A team's prefix rule (`sort *`, `rg *`, `git log *`) allows a command by its first words;
 * these options turn an allowed reader into something that runs a program (`rg --pre ./x`,
 * `sort --compress-program=sh`) or writes a file (`sort -o out`, `sed -i`). The analysis
 * reports them so they never ride on such a rule: a program it runs is a risk the policy asks
 * about, a file it writes is judged by the path rules like any other write.
 *
 * How a name is spelled says how it is parsed:
 * - `--name`: a GNU long option: `--name=VALUE` or `--name VALUE`; unique prefixes count too
 *   when the program accepts abbreviations (getopt_long, git's parse-options).
 * - `-x`: a short option: `-x VALUE`, `-xVALUE`, or last in a cluster (`-uo out`).
 * - `-name`: one word (find's `-fprint FILE`, openssl's `-out FILE`).
 * - `name=`: a word that starts with it (dd's `of=FILE`).
 */

export type OptionEffect = 'exec' | 'write';

export interface OptionSpec {
  names: readonly string[];
  effect: OptionEffect;
  /** value: takes a value (the program, or the file); optional: only an attached value; none: a flag. */
  takes: 'value' | 'optional' | 'none';
  /** For a write flag such as `sed -i`: the program's file operands are what it writes. */
  writesOperands?: boolean;
  what: string;
}

interface ProgramSpec {
  options: readonly OptionSpec[];
  /** Accepts unique prefixes of long options (`--compress-prog`). */
  abbreviations?: boolean;
}

const exec = (names: string[], what: string, takes: OptionSpec['takes'] = 'value'): OptionSpec => ({ names, effect: 'exec', takes, what });
const write = (names: string[], what: string, takes: OptionSpec['takes'] = 'value'): OptionSpec => ({
  names,
  effect: 'write',
  takes,
  what,
});
const inPlace = (names: string[], what: string, takes: OptionSpec['takes'] = 'none'): OptionSpec => ({
  names,
  effect: 'write',
  takes,
  writesOperands: true,
  what,
});

/** Git options, taken after the subcommand (diff options apply to log, show, diff, format-patch...). */
const GIT_ANY: readonly OptionSpec[] = [
  exec(['--ext-diff'], 'runs an external diff program', 'none'),
  exec(['--textconv'], 'runs text conversion filters', 'none'),
  exec(['--upload-pack'], 'runs the given upload-pack program'),
  exec(['--receive-pack'], 'runs the given receive-pack program'),
  write(['--output'], 'writes its output to a file'),
];
const GIT_SUB: Record<string, readonly OptionSpec[]> = {
  grep: [exec(['-O', '--open-files-in-pager'], 'opens the matches in a pager program', 'optional')],
  'format-patch': [write(['-o', '--output-directory'], 'writes patches into a folder')],
  archive: [write(['-o', '--output'], 'writes the archive to a file'), exec(['--exec'], 'runs the given upload-archive program')],
  rebase: [exec(['-x', '--exec'], 'runs a command after each commit')],
  clone: [exec(['-u'], 'runs the given upload-pack program')],
  'ls-remote': [exec(['-u'], 'runs the given upload-pack program')],
  push: [exec(['--exec'], 'runs the given receive-pack program')],
};
/** Git subcommands that exist to run programs. */
const GIT_EXEC_SUBCOMMANDS: Record<string, string> = {
  difftool: 'runs a diff tool',
  mergetool: 'runs a merge tool',
  'submodule foreach': 'runs a command in each submodule',
  'bisect run': 'runs a command for each step',
};

export const PROGRAM_OPTIONS: Readonly<Record<string, ProgramSpec>> = {
  rg: {
    options: [
      exec(['--pre'], 'runs a preprocessor program on every file'),
      exec(['--hostname-bin'], 'runs a program to get the host name'),
      exec(['--search-zip', '-z'], 'runs decompression programs', 'none'),
    ],
  },
  sed: {
    abbreviations: true,
    options: [
      inPlace(['-i', '--in-place'], 'edits its files in place', 'optional'),
      exec(['-f', '--file'], 'runs a sed script from a file'),
    ],
  },
  sort: {
    abbreviations: true,
    options: [exec(['--compress-program'], 'runs a compression program'), write(['-o', '--output'], 'writes its output to a file')],
  },
  find: {
    options: [
      write(['-fprint', '-fprint0', '-fls', '-fprintf'], 'writes its output to a file'),
      // The command -exec runs is also analyzed as an inner command; the option itself never rides on a `find *` rule.
      exec(['-exec', '-execdir', '-ok', '-okdir'], 'runs a command for every file found'),
    ],
  },
  curl: {
    options: [
      write(['-o', '--output'], 'writes the response to a file'),
      write(['-D', '--dump-header'], 'writes the headers to a file'),
      write(['-c', '--cookie-jar'], 'writes cookies to a file'),
      write(['--trace', '--trace-ascii', '--stderr', '--libcurl', '--etag-save', '--hsts', '--alt-svc'], 'writes to a file'),
      write(['-O', '--remote-name', '-J', '--remote-header-name'], 'writes a file named by the server', 'none'),
      write(['--output-dir'], 'writes into a folder'),
      exec(['-K', '--config'], 'reads options from a file'),
    ],
  },
  wget: {
    options: [
      write(['-O', '--output-document'], 'writes the download to a file'),
      write(['-o', '--output-file', '-a', '--append-output'], 'writes its log to a file'),
      write(['-P', '--directory-prefix'], 'writes into a folder'),
      exec(['-e', '--execute', '--config', '-i', '--input-file'], 'reads commands or options from elsewhere'),
    ],
  },
  tar: {
    abbreviations: true,
    options: [
      exec(['--to-command'], 'pipes every file into a command'),
      exec(['-I', '--use-compress-program'], 'runs a compression program'),
      exec(['--checkpoint-action'], 'can run a command at checkpoints'),
      exec(['-F', '--info-script', '--new-volume-script'], 'runs a script at the end of each volume'),
      exec(['--rsh-command', '--rmt-command'], 'runs a remote shell program'),
    ],
  },
  zip: { options: [exec(['-TT', '--unzip-command'], 'runs a test command')] },
  rsync: { abbreviations: true, options: [exec(['-e', '--rsh', '--rsync-path'], 'runs a remote shell program')] },
  ssh: { options: [exec(['-o'], 'can set ProxyCommand or LocalCommand'), exec(['-F'], 'reads a config file')] },
  scp: { options: [exec(['-o', '-S'], 'can run a program'), exec(['-F'], 'reads a config file')] },
  man: { abbreviations: true, options: [exec(['-P', '--pager', '-H', '--html'], 'runs a pager or browser program')] },
  less: { options: [write(['-o', '-O', '--log-file', '--LOG-FILE'], 'writes its input to a file')] },
  tee: { options: [] }, // its operands are written (the analysis records them)
  dd: { options: [write(['of='], 'writes to a file')] },
  openssl: { options: [write(['-out', '-keyout'], 'writes to a file')] },
  yq: { options: [inPlace(['-i', '--inplace'], 'edits its files in place')] },
  prettier: { options: [inPlace(['--write', '-w'], 'rewrites its files')] },
  eslint: { options: [inPlace(['--fix'], 'rewrites its files'), write(['-o', '--output-file'], 'writes its report to a file')] },
  gdb: { options: [exec(['-ex', '-x', '-iex', '-ix', '--eval-command', '--command'], 'runs debugger commands')] },
  vim: { options: [exec(['-c', '--cmd', '-S'], 'runs editor commands')] },
  vi: { options: [exec(['-c', '--cmd', '-S'], 'runs editor commands')] },
  nvim: { options: [exec(['-c', '--cmd', '-S'], 'runs editor commands')] },
  tcpdump: { options: [exec(['-z'], 'runs a program on each saved file'), write(['-w'], 'writes packets to a file')] },
  awk: { options: [exec(['-f', '--file', '-i', '--include', '-l', '--load'], 'runs an awk program from a file')] },
  gawk: { options: [exec(['-f', '--file', '-i', '--include', '-l', '--load'], 'runs an awk program from a file')] },
  mawk: { options: [exec(['-f'], 'runs an awk program from a file')] },
  git: { abbreviations: true, options: GIT_ANY },
};

export interface OptionFinding {
  effect: OptionEffect;
  /** The option as written, e.g. "--pre" or "sed script e". */
  option: string;
  what: string;
  /** The program or file it names, when it takes one (dynamic when known only at run time). */
  value?: ShellWord;
}

/** A long option word matches a spec name exactly or (where allowed) as a unique-enough prefix. */
function longMatch(word: string, name: string, abbreviations: boolean): boolean {
  const key = word.includes('=') ? word.slice(0, word.indexOf('=')) : word;
  if (key === name) return true;
  return abbreviations && key.length >= 4 && name.startsWith(key);
}

/** Finds the exec and write options of one command, per the catalog. Words after `--` are operands. */
export function scanOptions(argv: readonly ShellWord[]): OptionFinding[] {
  const name = argv[0] && !argv[0].dynamic ? argv[0].text.slice(argv[0].text.lastIndexOf('/') + 1) : '';
  // The option as the reviewer reads it: "rg --pre", "git grep -O", "sed script e".
  return scanProgram(argv).map((f) => (f.option.startsWith(`${name} `) ? f : { ...f, option: `${name} ${f.option}` }));
}

/**
 * The tables above as maps, looked up by a command's own words: an object's lookup would find
 * `constructor`, `toString` or `__proto__` on its prototype (a command named so made the decision
 * throw), and a map's is also faster for the many names that are not in it (issue 21, round 6).
 */
const PROGRAMS = new Map(Object.entries(PROGRAM_OPTIONS));
const GIT_SUBCOMMANDS = new Map(Object.entries(GIT_SUB));
const GIT_EXEC = new Map(Object.entries(GIT_EXEC_SUBCOMMANDS));

function scanProgram(argv: readonly ShellWord[]): OptionFinding[] {
  const name = argv[0] && !argv[0].dynamic ? argv[0].text.slice(argv[0].text.lastIndexOf('/') + 1) : '';
  const found: OptionFinding[] = [];
  const args = argv.slice(1);
  let spec = PROGRAMS.get(name);
  if (name === 'git') {
    const sub = gitSub(args);
    found.push(...gitGlobal(args, sub?.index ?? args.length));
    if (!sub) return found;
    const two = `${sub.name} ${args[sub.index + 1]?.text ?? ''}`;
    const runs = GIT_EXEC.get(sub.name) ?? GIT_EXEC.get(two);
    if (runs) found.push({ effect: 'exec', option: `git ${GIT_EXEC.has(sub.name) ? sub.name : two}`, what: runs });
    spec = { abbreviations: true, options: [...GIT_ANY, ...(GIT_SUBCOMMANDS.get(sub.name) ?? [])] };
    return [...found, ...scanWords(args.slice(sub.index + 1), spec).map((f) => ({ ...f, option: `git ${sub.name} ${f.option}` }))];
  }
  if (name === 'sed') return [...scanWords(args, spec!), ...sedScripts(args)];
  if ((name === 'awk' || name === 'gawk' || name === 'mawk') && awkProgramRuns(args)) {
    found.push({ effect: 'exec', option: `${name} program`, what: 'the awk program can run commands or write files (system, |, >)' });
  }
  return spec ? [...found, ...scanWords(args, spec)] : found;
}

function scanWords(args: readonly ShellWord[], spec: ProgramSpec): OptionFinding[] {
  const found: OptionFinding[] = [];
  for (let i = 0; i < args.length; i++) {
    const w = args[i]!;
    if (w.text === '--') break;
    if (w.dynamic && w.text.startsWith('-')) continue; // a dynamic option: the analysis of the word itself asks
    for (const option of spec.options) {
      const hit = matchOption(args, i, option, spec.abbreviations === true);
      if (hit) found.push({ effect: option.effect, option: hit.option, what: option.what, ...(hit.value ? { value: hit.value } : {}) });
    }
  }
  return found;
}

function matchOption(
  args: readonly ShellWord[],
  i: number,
  option: OptionSpec,
  abbreviations: boolean,
): { option: string; value?: ShellWord } | undefined {
  const word = args[i]!.text;
  const next = args[i + 1];
  for (const name of option.names) {
    if (name.endsWith('=')) {
      if (word.startsWith(name)) return { option: name, value: { text: word.slice(name.length), dynamic: args[i]!.dynamic } };
    } else if (name.startsWith('--')) {
      if (!word.startsWith('--') || !longMatch(word, name, abbreviations)) continue;
      const eq = word.indexOf('=');
      if (eq >= 0) return { option: name, value: { text: word.slice(eq + 1), dynamic: args[i]!.dynamic } };
      return option.takes === 'value' && next ? { option: name, value: next } : { option: name };
    } else if (name.length === 2) {
      // -x: alone, with an attached value, or in a cluster of flags (-uo FILE).
      if (!word.startsWith('-') || word.startsWith('--')) continue;
      const at = word.indexOf(name[1]!, 1);
      if (at < 0) continue;
      const attached = word.slice(at + 1);
      if (option.takes === 'none') return { option: name };
      if (attached !== '') return { option: name, value: { text: attached, dynamic: args[i]!.dynamic } };
      return option.takes === 'value' && next ? { option: name, value: next } : { option: name };
    } else if (word === name) {
      return option.takes === 'value' && next ? { option: name, value: next } : { option: name };
    }
  }
  return undefined;
}

/** git's subcommand and its index, skipping global options and their values. */
function gitSub(args: readonly ShellWord[]): { name: string; index: number } | undefined {
  for (let i = 0; i < args.length; i++) {
    const t = args[i]!.text;
    if (args[i]!.dynamic) return undefined;
    if (['-C', '-c', '--git-dir', '--work-tree', '--namespace', '--exec-path', '--config-env'].includes(t)) {
      i++;
      continue;
    }
    if (t.startsWith('-')) continue;
    return { name: t, index: i };
  }
  return undefined;
}

/** Global git options before the subcommand: any -c key=value can name a program (core.pager, diff.external, alias.*...). */
function gitGlobal(args: readonly ShellWord[], end: number): OptionFinding[] {
  const found: OptionFinding[] = [];
  for (let i = 0; i < end; i++) {
    const t = args[i]!.text;
    if (t === '-c' || t === '--config-env' || t.startsWith('--config-env=')) {
      const value = t === '-c' || t === '--config-env' ? args[i + 1] : { text: t.slice(t.indexOf('=') + 1), dynamic: args[i]!.dynamic };
      found.push({
        effect: 'exec',
        option: `git ${t.split('=')[0]}`,
        what: 'sets configuration that can name programs',
        ...(value ? { value } : {}),
      });
    } else if (t === '--exec-path' || t.startsWith('--exec-path=')) {
      found.push({ effect: 'exec', option: 'git --exec-path', what: 'runs git commands from another folder' });
    }
  }
  return found;
}

// ------------------------------------------------------------------------------ sed scripts

/** The sed scripts of a sed command line (-e/--expression values, or the first operand). */
function sedScripts(args: readonly ShellWord[]): OptionFinding[] {
  const scripts: ShellWord[] = [];
  let explicit = false;
  let firstOperand: ShellWord | undefined;
  for (let i = 0; i < args.length; i++) {
    const w = args[i]!;
    const t = w.text;
    if (t === '--') {
      if (!explicit && !firstOperand && args[i + 1]) firstOperand = args[i + 1];
      break;
    }
    if (t === '-e' || t === '--expression') {
      explicit = true;
      if (args[i + 1]) scripts.push(args[i + 1]!);
      i++;
    } else if (t.startsWith('--expression=')) {
      explicit = true;
      scripts.push({ text: t.slice('--expression='.length), dynamic: w.dynamic });
    } else if (t === '-f' || t === '--file' || t.startsWith('--file=')) {
      explicit = true;
      if (t === '-f' || t === '--file') i++;
    } else if (/^-[^-]/.test(t) && !w.dynamic) {
      // A cluster: -ne 'script', -nf file, -l 80, -i.bak
      const e = t.indexOf('e');
      const iAt = t.indexOf('i');
      if (e > 0 && (iAt < 0 || e < iAt)) {
        explicit = true;
        const attached = t.slice(e + 1);
        if (attached) scripts.push({ text: attached, dynamic: false });
        else if (args[i + 1]) {
          scripts.push(args[i + 1]!);
          i++;
        }
      } else if (t.includes('f') && (iAt < 0 || t.indexOf('f') < iAt)) {
        explicit = true;
        if (t.endsWith('f')) i++;
      } else if (t === '-l') i++;
    } else if (!t.startsWith('-') && !firstOperand) {
      firstOperand = w;
    }
  }
  if (!explicit && firstOperand) scripts.push(firstOperand);
  const found: OptionFinding[] = [];
  for (const script of scripts) {
    if (script.dynamic) {
      found.push({ effect: 'exec', option: 'sed script', what: 'the sed script is known only at run time' });
      continue;
    }
    const risks = sedScriptRisks(script.text);
    if (risks.exec) found.push({ effect: 'exec', option: `sed script ${risks.exec}`, what: 'the sed script runs a command' });
    for (const file of risks.writes)
      found.push({ effect: 'write', option: 'sed script w', what: 'the sed script writes a file', value: file });
  }
  return found;
}

/**
 * What a sed script does beyond printing: commands it runs (`e`, the `e` flag of `s`) and
 * files it writes (`w`, `W`, the `w` flag of `s`). A script this reader does not understand
 * counts as running a command (fail closed).
 */
export function sedScriptRisks(script: string): { exec?: string; writes: ShellWord[] } {
  const writes: ShellWord[] = [];
  let i = 0;
  const n = script.length;
  const restOfLine = (): string => {
    const end = script.indexOf('\n', i);
    const text = script.slice(i, end < 0 ? n : end);
    i = end < 0 ? n : end;
    return text.trim();
  };
  const skipDelimited = (delim: string): boolean => {
    while (i < n && script[i] !== delim) {
      if (script[i] === '\\') i++;
      else if (script[i] === '\n' && delim !== '\n') return false;
      i++;
    }
    if (i >= n) return false;
    i++;
    return true;
  };
  const addWrite = (file: string): void => {
    if (file !== '' && !/^\/dev\/(stdout|stderr)$/.test(file)) writes.push({ text: file, dynamic: false });
  };
  while (i < n) {
    const c = script[i]!;
    if (/[\s;{}!]/.test(c)) {
      i++;
      continue;
    }
    // Addresses: numbers, $, first~step, +N, /re/ or \cREc, with I/M flags.
    if (/[\d$,~+]/.test(c)) {
      i++;
      continue;
    }
    if (c === '/' || c === '\\') {
      const delim = c === '/' ? '/' : script[i + 1];
      i += c === '/' ? 1 : 2;
      if (delim === undefined || !skipDelimited(delim)) return { exec: '(unreadable)', writes };
      while (i < n && /[IM]/.test(script[i]!)) i++;
      continue;
    }
    i++;
    switch (c) {
      case 's':
      case 'y': {
        const delim = script[i];
        if (delim === undefined || delim === '\n' || delim === '\\') return { exec: '(unreadable)', writes };
        i++;
        if (!skipDelimited(delim) || !skipDelimited(delim)) return { exec: '(unreadable)', writes };
        if (c === 'y') break;
        while (i < n && /[gpiImMe0-9w]/.test(script[i]!)) {
          const flag = script[i]!;
          i++;
          if (flag === 'e') return { exec: 's///e', writes };
          if (flag === 'w') {
            addWrite(restOfLine());
            break;
          }
        }
        break;
      }
      case 'e':
        return { exec: 'e', writes };
      case 'w':
      case 'W':
        addWrite(restOfLine());
        break;
      case 'r':
      case 'R':
      case 'a':
      case 'i':
      case 'c':
        restOfLine();
        break;
      case 'b':
      case 't':
      case 'T':
      case ':':
        while (i < n && script[i] !== ';' && script[i] !== '\n') i++;
        break;
      case 'q':
      case 'Q':
      case 'l':
      case 'L':
        while (i < n && /[\d ]/.test(script[i]!)) i++;
        break;
      case '#':
        restOfLine();
        break;
      default:
        if (!/[pdnNgGhHxPDz=F]/.test(c)) return { exec: `(unknown command ${c})`, writes };
    }
  }
  return { writes };
}

/** Whether an inline awk program can run commands or write files: system(), pipes, output redirection. */
function awkProgramRuns(args: readonly ShellWord[]): boolean {
  for (let i = 0; i < args.length; i++) {
    const t = args[i]!.text;
    if (t === '-v' || t === '-F') {
      i++;
      continue;
    }
    if (t.startsWith('-')) continue;
    return args[i]!.dynamic || /system|\||>|getline|close|fflush/.test(t);
  }
  return false;
}
