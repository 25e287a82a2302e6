import { matchesBranchGlob } from './glob';

/** Branches nobody's agent commits to, merges into or pushes, unless the policy says otherwise. */
export const DEFAULT_PROTECTED_BRANCHES: readonly string[] = ['main', 'master', 'release/*'];

/**
 * The protected branches in force: the policy's `git.protectedBranches` when it lists any,
 * otherwise the default. An absent or broken policy therefore still protects main, master and release/*.
 */
export function resolveProtectedBranches(fromPolicy: readonly string[] | undefined): readonly string[] {
  return fromPolicy && fromPolicy.length > 0 ? fromPolicy : DEFAULT_PROTECTED_BRANCHES;
}

/** The glob that protects `branch`, or undefined when it is not protected. */
export function protectingGlob(branch: string, protectedBranches: readonly string[] = DEFAULT_PROTECTED_BRANCHES): string | undefined {
  return protectedBranches.find((glob) => matchesBranchGlob(branch, glob));
}

export function isProtectedBranch(branch: string, protectedBranches: readonly string[] = DEFAULT_PROTECTED_BRANCHES): boolean {
  return protectingGlob(branch, protectedBranches) !== undefined;
}

export type GitWriteOperation = 'commit' | 'merge' | 'push' | 'create-branch' | 'update-ref';

/** Warden refused one of its own git operations because it would write a protected branch. */
export class ProtectedBranchError extends Error {
  readonly rule = 'git.protectedBranches';
  constructor(
    readonly branch: string,
    readonly glob: string,
    readonly operation: GitWriteOperation,
  ) {
    super(`Warden does not ${describe(operation)} the protected branch "${branch}" (matches "${glob}" in the protected branches)`);
    this.name = 'ProtectedBranchError';
  }
}

/** Every git operation of Warden's that writes a branch goes through this first. */
export function assertWritableBranch(
  branch: string,
  operation: GitWriteOperation,
  protectedBranches: readonly string[] = DEFAULT_PROTECTED_BRANCHES,
): void {
  const glob = protectingGlob(branch, protectedBranches);
  if (glob !== undefined) throw new ProtectedBranchError(branch, glob, operation);
}

function describe(operation: GitWriteOperation): string {
  switch (operation) {
    case 'commit':
      return 'commit to';
    case 'merge':
      return 'merge into';
    case 'push':
      return 'push';
    case 'create-branch':
      return 'create or reset';
    case 'update-ref':
      return 'move';
  }
}

export interface GitCommandContext {
  /** The branch checked out where the command runs; undefined when unknown (then Warden asks). */
  currentBranch?: string | undefined;
  protectedBranches?: readonly string[];
}

/** What the policy engine should do with a command line that runs git. */
export interface GitCommandVerdict {
  verdict: 'deny' | 'ask';
  /** Stable id of the rule, for the audit and the message. */
  rule: string;
  reason: string;
  /** The git invocation the verdict is about, as words. */
  invocation: string[];
}

/**
 * Classifies a command line (a shell string, or an argv) by the git invocations in it: writes
 * to protected branches are denied; pushes, force pushes, history rewrites of other branches
 * and credential or remote changes are asked. Null when no git invocation needs a decision
 * (not git at all, or read-only git). Several commands (`a && git push`) give the strictest verdict.
 */
export function classifyGitCommand(command: string | readonly string[], context: GitCommandContext = {}): GitCommandVerdict | null {
  const protectedBranches = context.protectedBranches ?? DEFAULT_PROTECTED_BRANCHES;
  let strictest: GitCommandVerdict | null = null;
  for (const words of simpleCommands(command)) {
    const git = gitInvocation(words);
    if (!git) continue;
    const verdict = classifyInvocation(git, context.currentBranch, protectedBranches);
    if (verdict && (!strictest || (verdict.verdict === 'deny' && strictest.verdict === 'ask'))) strictest = verdict;
  }
  return strictest;
}

/** Splits a command into simple commands (words), unwrapping `sh -c '…'` and `env A=b …`. */
function simpleCommands(command: string | readonly string[], depth = 0): string[][] {
  const lists = typeof command === 'string' ? splitShell(command) : [[...command]];
  const result: string[][] = [];
  for (let words of lists) {
    // Leading assignments and wrappers that run their arguments as a command.
    for (;;) {
      while (words.length > 0 && /^[A-Za-z_][A-Za-z0-9_]*=/.test(words[0]!)) words = words.slice(1);
      const head = basename(words[0] ?? '');
      if (['env', 'command', 'exec', 'nohup', 'time', 'sudo', 'xargs'].includes(head)) {
        words = words.slice(1);
        while (words[0]?.startsWith('-')) words = words.slice(1);
        continue;
      }
      break;
    }
    const head = basename(words[0] ?? '');
    if (['sh', 'bash', 'zsh', 'dash', 'ash'].includes(head) && depth < 3) {
      const c = words.findIndex((w) => /^-[a-z]*c[a-z]*$/.test(w));
      const script = c >= 0 ? words[c + 1] : undefined;
      if (script !== undefined) {
        result.push(...simpleCommands(script, depth + 1));
        continue;
      }
    }
    result.push(words);
  }
  return result;
}

/** Shell words, with `;`, `&&`, `||`, `|`, `&` and newlines separating commands. Quotes are honoured. */
function splitShell(line: string): string[][] {
  const commands: string[][] = [];
  let words: string[] = [];
  let word = '';
  let inWord = false;
  const endWord = (): void => {
    if (inWord) words.push(word);
    word = '';
    inWord = false;
  };
  const endCommand = (): void => {
    endWord();
    if (words.length > 0) commands.push(words);
    words = [];
  };
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (c === "'") {
      const end = line.indexOf("'", i + 1);
      word += line.slice(i + 1, end < 0 ? line.length : end);
      inWord = true;
      i = end < 0 ? line.length : end;
    } else if (c === '"') {
      i++;
      while (i < line.length && line[i] !== '"') {
        if (line[i] === '\\' && i + 1 < line.length) i++;
        word += line[i];
        i++;
      }
      inWord = true;
    } else if (c === '\\' && i + 1 < line.length) {
      word += line[++i];
      inWord = true;
    } else if (c === ' ' || c === '\t') {
      endWord();
    } else if (c === ';' || c === '\n' || c === '&' || c === '|' || c === '(' || c === ')' || c === '`') {
      endCommand();
    } else if (c === '$' && line[i + 1] === '(') {
      endCommand();
      i++;
    } else {
      word += c;
      inWord = true;
    }
  }
  endCommand();
  return commands;
}

function basename(word: string): string {
  return word.slice(word.lastIndexOf('/') + 1);
}

/** Global git options that take the next word as their value. */
const GLOBAL_WITH_VALUE = new Set(['-C', '-c', '--git-dir', '--work-tree', '--namespace', '--super-prefix', '--config-env', '--exec-path']);

/** The words after `git` and its global options: [subcommand, ...args]; undefined when not git. */
function gitInvocation(words: string[]): string[] | undefined {
  if (basename(words[0] ?? '') !== 'git') return undefined;
  let i = 1;
  while (i < words.length && words[i]!.startsWith('-')) {
    i += GLOBAL_WITH_VALUE.has(words[i]!) ? 2 : 1;
  }
  return i < words.length ? words.slice(i) : undefined;
}

function classifyInvocation(
  git: string[],
  currentBranch: string | undefined,
  protectedBranches: readonly string[],
): GitCommandVerdict | null {
  const [sub = '', ...args] = git;
  const invocation = ['git', ...git];
  const deny = (rule: string, reason: string): GitCommandVerdict => ({ verdict: 'deny', rule, reason, invocation });
  const ask = (rule: string, reason: string): GitCommandVerdict => ({ verdict: 'ask', rule, reason, invocation });
  const guard = (branch: string | undefined): string | undefined =>
    branch === undefined ? undefined : protectingGlob(branch, protectedBranches);
  const onCurrent = (rule: string, what: string): GitCommandVerdict | null => {
    if (currentBranch === undefined) return ask(rule, `git ${sub} ${what} the current branch, and Warden cannot tell which branch that is`);
    const glob = guard(currentBranch);
    return glob ? deny(rule, `git ${sub} ${what} "${currentBranch}", a protected branch (matches "${glob}")`) : null;
  };
  const flags = args.filter((a) => a.startsWith('-'));
  const positional = args.filter((a) => !a.startsWith('-'));
  const hasShort = (letter: string): boolean => flags.some((f) => /^-[A-Za-z]+$/.test(f) && f.includes(letter));

  switch (sub) {
    case 'push': {
      const remoteArgs = positionalsSkippingValues(args, ['--repo', '--receive-pack', '--exec', '-o', '--push-option']);
      const refspecs = remoteArgs.slice(1);
      if (flags.some((f) => f === '--all' || f === '--mirror' || f === '--branches')) {
        return deny(
          'git.push.all',
          `git push ${flags.find((f) => ['--all', '--mirror', '--branches'].includes(f))} would push every branch, protected ones included`,
        );
      }
      const force =
        flags.some((f) => f === '--force' || f.startsWith('--force-with-lease') || f === '--force-if-includes') ||
        hasShort('f') ||
        refspecs.some((r) => r.startsWith('+'));
      const del = flags.includes('--delete') || hasShort('d') || refspecs.some((r) => r.startsWith(':'));
      const targets = refspecs.length > 0 ? refspecs.map((r) => pushTarget(r, currentBranch)) : [currentBranch];
      for (const target of targets) {
        if (target === undefined) {
          return (force ? deny : ask)(
            force ? 'git.push.force' : 'git.push',
            `git push${force ? ' --force' : ''} to a branch Warden cannot determine (the current branch is unknown)`,
          );
        }
        const glob = guard(target);
        if (glob) {
          const how = del ? 'deletes' : force ? 'force-pushes' : 'pushes to';
          return deny(
            force || del ? 'git.push.force.protected' : 'git.push.protected',
            `git push ${how} "${target}", a protected branch (matches "${glob}")`,
          );
        }
      }
      if (force) return ask('git.push.force', `git push --force rewrites the history of ${targets.join(', ')} on the remote`);
      if (del) return ask('git.push.delete', `git push deletes ${targets.join(', ')} on the remote`);
      return ask('git.push', `git push sends ${targets.join(', ')} to a remote`);
    }
    case 'commit':
      return onCurrent('git.commit.protected', flags.includes('--amend') ? 'amends the last commit of' : 'commits to');
    case 'merge':
      if (flags.some((f) => f === '--abort' || f === '--quit')) return null;
      return onCurrent('git.merge.protected', 'merges into');
    case 'pull': {
      const verdict = onCurrent('git.merge.protected', 'merges into');
      return verdict ?? ask('git.pull', 'git pull fetches from a remote and merges into the current branch');
    }
    case 'rebase':
    case 'cherry-pick':
    case 'revert':
    case 'am':
    case 'reset':
      if (flags.some((f) => f === '--abort' || f === '--quit')) return null;
      if (
        sub === 'reset' &&
        !flags.some((f) => ['--hard', '--soft', '--mixed', '--merge', '--keep'].includes(f)) &&
        positional.length !== 1
      )
        return null;
      return onCurrent('git.history.protected', sub === 'reset' ? 'moves' : 'rewrites');
    case 'branch': {
      const writes =
        flags.some((f) => ['--delete', '--move', '--copy', '--force', '-D', '-M', '-C'].includes(f)) ||
        hasShort('d') ||
        hasShort('m') ||
        hasShort('f') ||
        hasShort('c');
      if (!writes) return null;
      for (const name of positional) {
        const glob = guard(name);
        if (glob)
          return deny('git.branch.protected', `git branch ${flags.join(' ')} changes "${name}", a protected branch (matches "${glob}")`);
      }
      return null;
    }
    case 'checkout':
    case 'switch': {
      const resetFlag = args.findIndex((a) => a === '-B' || a === '-C' || a === '--force-create');
      const name = resetFlag >= 0 ? args[resetFlag + 1] : undefined;
      const glob = guard(name);
      return glob
        ? deny('git.branch.protected', `git ${sub} ${args[resetFlag]} resets "${name}", a protected branch (matches "${glob}")`)
        : null;
    }
    case 'update-ref': {
      const ref = positional[0];
      if (ref?.startsWith('refs/heads/')) {
        const glob = guard(ref);
        if (glob) return deny('git.branch.protected', `git update-ref moves "${ref}", a protected branch (matches "${glob}")`);
      }
      return null;
    }
    case 'filter-branch':
    case 'filter-repo':
      return ask('git.history.rewrite', `git ${sub} rewrites history`);
    case 'config':
      return args.some((a) => /credential|url\..*insteadof|sshcommand|askpass/i.test(a))
        ? ask('git.config.credentials', 'git config changes how git authenticates')
        : null;
    case 'remote':
      return positional[0] === 'add' || positional[0] === 'set-url'
        ? ask('git.remote', `git remote ${positional[0]} changes where git pushes and fetches`)
        : null;
    case 'credential':
    case 'credential-store':
    case 'credential-cache':
      return ask('git.credential', 'git credential reads or stores credentials');
    default:
      return null;
  }
}

/** The branch a push refspec writes: `src:dst` is dst, `name` is name, `HEAD` is the current branch. */
function pushTarget(refspec: string, currentBranch: string | undefined): string | undefined {
  const spec = refspec.replace(/^\+/, '');
  const colon = spec.indexOf(':');
  let dst = colon >= 0 ? spec.slice(colon + 1) : spec;
  if (dst === '') dst = spec.slice(0, colon);
  if (dst === 'HEAD' || dst === '') return currentBranch;
  return dst.replace(/^refs\/heads\//, '');
}

function positionalsSkippingValues(args: string[], withValue: string[]): string[] {
  const result: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (withValue.includes(a)) {
      i++;
      continue;
    }
    if (!a.startsWith('-')) result.push(a);
  }
  return result;
}
