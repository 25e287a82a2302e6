import * as path from 'node:path';
import picomatch from 'picomatch';
import { irreversibleCommand, protectedPath } from './builtins';
import type { EffectivePolicy, RuleOrigin, SourcedOverride } from './effective';
import type { PathAction, PolicyDecision } from './schema';
import { analyzeArgv, analyzeShell, commandText, type ShellAnalysis, type ShellWord } from './shell';

/** A policy decision that explains itself: which rule, and why. (A type, not an interface: it is written into audit data.) */
export type PolicyVerdict = {
  decision: PolicyDecision;
  /** The rule id (team/user/managed rules), or a built-in id such as "builtin.irreversible". */
  ruleId: string;
  reason: string;
  /** Classes that applied, e.g. ["irreversible: git push", "protected path: .git/**"]. */
  labels?: string[];
};

/** Maps a path a command names (relative to its working directory, or absolute) to a workspace-relative one; null when outside the workspace. */
export type PathResolver = (raw: string) => string | null;

const RANK: Record<PolicyDecision, number> = { allow: 0, ask: 1, deny: 2 };

/** The most restrictive verdict; the first one wins a tie (team rules come first). */
function strictest(verdicts: PolicyVerdict[]): PolicyVerdict | undefined {
  let best: PolicyVerdict | undefined;
  let labelled = false;
  for (const v of verdicts) {
    if (!best || RANK[v.decision] > RANK[best.decision]) best = v;
    if (v.labels && v.labels.length > 0) labelled = true;
  }
  if (!best || !labelled) return best;
  const labels = [...new Set(verdicts.flatMap((v) => v.labels ?? []))];
  return { ...best, labels };
}

function sourceText(origin: RuleOrigin): string {
  return origin.source === 'team'
    ? `team policy ${origin.origin}`
    : origin.source === 'user'
      ? `your setting ${origin.origin}`
      : `managed policy ${origin.origin}`;
}

function ruleVerdict(
  rule: { id: string; decision: PolicyDecision; reason?: string | undefined } & RuleOrigin,
  what: string,
): PolicyVerdict {
  const verb = rule.decision === 'allow' ? 'allows' : rule.decision === 'deny' ? 'denies' : 'asks about';
  return {
    decision: rule.decision,
    ruleId: rule.id,
    reason: `Rule "${rule.id}" (${sourceText(rule)}) ${verb} ${what}${rule.reason ? `: ${rule.reason}` : ''}`,
  };
}

const asArray = (v: string | string[]): string[] => (Array.isArray(v) ? v : [v]);

// ------------------------------------------------------------------------------ matching

const matcherCache = new Map<string, (p: string) => boolean>();
/** The glob's picomatch matcher, compiled once per glob. */
function globMatcher(glob: string): (p: string) => boolean {
  let m = matcherCache.get(glob);
  if (!m) {
    m = picomatch(glob, { dot: true });
    matcherCache.set(glob, m);
  }
  return m;
}
function globMatch(glob: string, file: string): boolean {
  return globMatcher(glob)(file);
}

const wordPatternCache = new Map<string, RegExp>();
/** A pattern word as a regular expression: `*` is any run of characters, everything else literal. */
function wordPattern(token: string): RegExp {
  let re = wordPatternCache.get(token);
  if (!re) {
    re = new RegExp(
      `^${token
        .split('*')
        .map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
        .join('.*')}$`,
      's',
    );
    wordPatternCache.set(token, re);
  }
  return re;
}

function wordMatches(token: string, word: ShellWord, mode: 'sure' | 'possible'): boolean {
  if (word.dynamic) return mode === 'possible' || token === '*';
  return wordPattern(token).test(word.text);
}

/**
 * Whether a command pattern matches a command's words. `sure`: every word certainly matches
 * (allow rules). `possible`: the command could match once run-time values are known (ask and
 * deny rules, so a `$VAR` cannot dodge them). The plain form, pattern read at each call: the
 * policy's own rules go through `CompiledPattern` (the same logic, read once), and the unit
 * tier checks the two agree (test/unit/policyIndex.test.ts).
 */
export function commandMatches(pattern: string, argv: ShellWord[], mode: 'sure' | 'possible'): boolean {
  const tokens = pattern.trim().split(/\s+/);
  const rest = tokens[tokens.length - 1] === '*' && tokens.length > 1;
  const fixed = rest ? tokens.slice(0, -1) : tokens;
  if (!rest && argv.length > fixed.length) return false;
  if (argv.length < fixed.length) {
    // A dynamic last word (xargs input, "$@") could supply the missing words.
    const dynamicTail = mode === 'possible' && argv.length > 0 && argv[argv.length - 1]!.dynamic;
    if (!dynamicTail) return false;
  }
  // A command name known only at run time matches no rule: the analysis already makes it ask.
  if (argv[0]?.dynamic) return false;
  for (let i = 0; i < fixed.length; i++) {
    const token = fixed[i]!;
    const w = argv[i];
    if (!w) return mode === 'possible';
    const ok =
      i === 0 && !token.includes('/') && !w.dynamic
        ? wordMatches(token, { text: path.posix.basename(w.text), dynamic: false }, mode) || wordMatches(token, w, mode)
        : wordMatches(token, w, mode);
    if (!ok) return false;
  }
  return true;
}

/** One word of a command pattern, read once: a word without `*` is compared as a string, one with `*` by its expression. */
interface CompiledWord {
  token: string;
  /** Undefined for a literal word (its expression would be `^word$`: string equality). */
  re: RegExp | undefined;
  /** The command name is also compared by its base name (`rm` matches `/bin/rm`). */
  byBasename: boolean;
}

/** A command pattern read once (issue 21, round 6): what `commandMatches` reads from the pattern at every call. */
interface CompiledPattern {
  fixed: CompiledWord[];
  /** It ends in ` *`: any further words. */
  rest: boolean;
}

function compilePattern(pattern: string): CompiledPattern {
  const tokens = pattern.trim().split(/\s+/);
  const rest = tokens[tokens.length - 1] === '*' && tokens.length > 1;
  const fixed = (rest ? tokens.slice(0, -1) : tokens).map((token, i) => ({
    token,
    re: token.includes('*') ? wordPattern(token) : undefined,
    byBasename: i === 0 && !token.includes('/'),
  }));
  return { fixed, rest };
}

/** `path.posix.basename`, without its work for the common name that has no slash. */
function basename(name: string): string {
  return name.includes('/') ? path.posix.basename(name) : name;
}

function compiledWordMatches(word: CompiledWord, text: string): boolean {
  return word.re === undefined ? text === word.token : word.re.test(text);
}

/** `commandMatches` for a compiled pattern, step for step. */
function compiledMatches(pattern: CompiledPattern, argv: readonly ShellWord[], mode: 'sure' | 'possible'): boolean {
  const fixed = pattern.fixed;
  if (!pattern.rest && argv.length > fixed.length) return false;
  if (argv.length < fixed.length) {
    // A dynamic last word (xargs input, "$@") could supply the missing words.
    const dynamicTail = mode === 'possible' && argv.length > 0 && argv[argv.length - 1]!.dynamic;
    if (!dynamicTail) return false;
  }
  // A command name known only at run time matches no rule: the analysis already makes it ask.
  if (argv[0]?.dynamic) return false;
  for (let i = 0; i < fixed.length; i++) {
    const word = fixed[i]!;
    const w = argv[i];
    if (!w) return mode === 'possible';
    let ok: boolean;
    if (w.dynamic) ok = mode === 'possible' || word.token === '*';
    else if (word.byBasename) ok = compiledWordMatches(word, basename(w.text)) || compiledWordMatches(word, w.text);
    else ok = compiledWordMatches(word, w.text);
    if (!ok) return false;
  }
  return true;
}

// ------------------------------------------------------------------------------ paths

/**
 * The literal start every path a glob matches begins with, so that most rules are passed over
 * with one `startsWith` instead of running their matcher: the glob up to its first special
 * character, less trailing slashes (`dir/**` matches `dir` itself). Globs whose start could be
 * read another way (`./`, `/`, `!`, `//`, escapes) get no prefix: their matcher always runs.
 */
export function literalPrefix(glob: string): string {
  if (glob.startsWith('./') || glob.startsWith('/') || glob.includes('//')) return '';
  const special = glob.search(/[*?[\]{}()!+@\\|^$,]/);
  const head = special < 0 ? glob : glob.slice(0, special);
  return head.replace(/\/+$/, '');
}

/**
 * The first path segment every path a glob matches has, or undefined when its matches can start
 * with different segments (`dir*\/**`, `**\/x`, `{a,b}/**`, or no literal prefix): the literal
 * prefix's first segment, when the glob goes on with `/` right after it or ends there.
 */
export function segmentKey(glob: string): string | undefined {
  const prefix = literalPrefix(glob);
  const slash = prefix.indexOf('/');
  const segment = slash < 0 ? prefix : prefix.slice(0, slash);
  if (segment === '') return undefined;
  const next = glob.charAt(segment.length);
  return next === '/' || next === '' ? segment : undefined;
}

function firstSegment(file: string): string {
  const slash = file.indexOf('/');
  return slash < 0 ? file : file.slice(0, slash);
}

interface IndexedPathRule {
  rule: EffectivePolicy['paths'][number];
  /** Each glob with its literal prefix and its matcher, found once per policy. */
  globs: Array<{ glob: string; prefix: string; match: (file: string) => boolean }>;
  /** The rule's place in the policy: candidates keep the policy's order (team rules win ties). */
  order: number;
}

/**
 * A policy's path rules by the first segment their globs name (issue 21: with 50 rules, a
 * file was checked against each; `dir1/**` and `dir10/**` share the prefix `dir1`). Rules
 * with a glob of no fixed first segment are candidates for every file. Only a filter: each
 * candidate is still checked by its prefix and matcher, as before.
 */
interface PathIndex {
  bySegment: Map<string, IndexedPathRule[]>;
  always: IndexedPathRule[];
}

function indexPaths(policy: EffectivePolicy): PathIndex {
  const index: PathIndex = { bySegment: new Map(), always: [] };
  policy.paths.forEach((rule, order) => {
    const globs = asArray(rule.paths).map((glob) => ({ glob, prefix: literalPrefix(glob), match: globMatcher(glob) }));
    const indexed = { rule, globs, order };
    const keys = globs.map((g) => segmentKey(g.glob));
    if (keys.some((key) => key === undefined)) return void index.always.push(indexed);
    for (const key of new Set(keys as string[])) {
      const list = index.bySegment.get(key) ?? [];
      list.push(indexed);
      index.bySegment.set(key, list);
    }
  });
  return index;
}

/** The rules that may match `file`, in the policy's order. */
function pathCandidates(policy: EffectivePolicy, file: string): IndexedPathRule[] {
  const { bySegment, always } = compiled(policy).paths;
  const named = bySegment.get(firstSegment(file));
  if (!named) return always;
  if (always.length === 0) return named;
  return [...named, ...always].sort((a, b) => a.order - b.order);
}

/** The path rules that match: through the index, or (plain, tests) every rule by its glob alone. */
function matchingPathRules(policy: EffectivePolicy, action: PathAction, file: string): EffectivePolicy['paths'] {
  const matching: EffectivePolicy['paths'] = [];
  if (plain) {
    for (const rule of policy.paths)
      if (rule.actions.includes(action) && asArray(rule.paths).some((g) => globMatch(g, file))) matching.push(rule);
    return matching;
  }
  for (const r of pathCandidates(policy, file)) {
    if (!r.rule.actions.includes(action)) continue;
    for (const g of r.globs) {
      if (file.startsWith(g.prefix) && g.match(file)) {
        matching.push(r.rule);
        break;
      }
    }
  }
  return matching;
}

/**
 * The decision for a file operation on a workspace-relative path. `inSandbox`: a command
 * inside the sandbox does it to the sandbox's own view (the private copy): the change comes
 * back as a proposal, so no rule means the command default, and a delete is a label here
 * (the delete proposal asks). Explicit path rules and protected paths still decide.
 */
export function evaluatePath(policy: EffectivePolicy, action: PathAction, file: string, inSandbox = false): PolicyVerdict {
  const what = `${action === 'read' ? 'reading' : action === 'write' ? 'writing' : action === 'create' ? 'creating' : 'deleting'} ${file}`;
  const verdicts: PolicyVerdict[] = [];
  const ruled = strictest(matchingPathRules(policy, action, file).map((r) => ruleVerdict(r, what)));

  const floors: PolicyVerdict[] = [];
  const overrides: SourcedOverride[] = [];
  if (action !== 'read') {
    const hit = protectedPath(file);
    if (hit) {
      const label = `protected path: ${hit.glob}`;
      const lifting = policy.overrides.filter(
        (o) =>
          o.class === 'protected-path' &&
          o.paths !== undefined &&
          asArray(o.paths).some((g) => globMatch(g, file)) &&
          (!o.actions || o.actions.includes(action)),
      );
      overrides.push(...lifting);
      for (const floor of policy.builtins.protectedPaths) {
        if (floor.source === 'team' && lifting.length > 0) continue;
        floors.push({
          decision: floor.decision,
          ruleId: 'builtin.protected-path',
          reason: `${file} is ${hit.what}, a protected path: ${floor.decision === 'deny' ? `denied by the ${sourceText(floor)}` : 'a human decides'}`,
          labels: [label],
        });
      }
    }
    if (action === 'delete' && !inSandbox) floors.push(...irreversibleFloors(policy, `deleting ${file}`, []));
  }
  if (ruled) verdicts.push(ruled);
  const overridden = overrides.map((o) => ({
    ...ruleVerdict(o, what),
    reason: `Override "${o.id}" (${sourceText(o)}) allows ${what}: ${o.reason}`,
  }));
  if (!ruled) verdicts.push(...overridden);
  if (verdicts.length === 0 && inSandbox && action !== 'read') {
    verdicts.push({
      decision: policy.defaults.command,
      ruleId: 'default',
      reason: `No rule matches ${what} inside the sandbox (the change comes back as a proposal); the default for commands is ${policy.defaults.command}`,
      ...(action === 'delete' ? { labels: [`in the sandbox: deleting ${file}`] } : {}),
    });
  }
  if (verdicts.length === 0) {
    const decision = action === 'read' ? policy.defaults.read : policy.defaults.write;
    verdicts.push({
      decision,
      ruleId: 'default',
      reason: `No rule matches ${what}; the default for ${action === 'read' ? 'reads' : 'writes'} is ${decision}`,
    });
  }
  const verdict = strictest([...floors, ...verdicts])!;
  // Reads cannot wait for a human: they are allowed or denied, also under a broken team policy.
  return action === 'read' ? verdict : finish(policy, verdict);
}

function irreversibleFloors(policy: EffectivePolicy, why: string, lifting: SourcedOverride[]): PolicyVerdict[] {
  return policy.builtins.irreversible
    .filter((floor) => !(floor.source === 'team' && lifting.length > 0))
    .map((floor) => ({
      decision: floor.decision,
      ruleId: 'builtin.irreversible',
      reason: `${why} is irreversible: ${floor.decision === 'deny' ? `denied by the ${sourceText(floor)}` : 'a human decides'}`,
      labels: [`irreversible: ${why}`],
    }));
}

// ------------------------------------------------------------------------------ commands

export interface CommandInput {
  /** A shell command line (run by `sh -c`), or an exact argv (run without a shell). */
  commandLine?: string;
  argv?: string[];
  /** Resolves paths the command names (redirections, rm...) to workspace-relative ones. */
  resolvePath?: PathResolver;
}

/** The decision for a command: every inner command, file it touches and concern is checked; the strictest wins. */
export function evaluateCommand(policy: EffectivePolicy, input: CommandInput): PolicyVerdict {
  const analysis = input.argv ? analyzeArgv(input.argv) : analyzeShell(input.commandLine ?? '');
  return evaluateAnalysis(policy, analysis, input.resolvePath ?? defaultResolver);
}

const defaultResolver: PathResolver = (raw) => {
  if (path.posix.isAbsolute(raw)) return null;
  const normal = path.posix.normalize(raw);
  return normal.startsWith('..') ? null : normal.replace(/^\.\//, '');
};

export function evaluateAnalysis(policy: EffectivePolicy, analysis: ShellAnalysis, resolvePath: PathResolver): PolicyVerdict {
  const opaque = opaqueDecision(policy);
  if (!analysis.ok) {
    const reason = `Warden could not parse the command (${analysis.error ?? 'unknown error'})`;
    return finish(policy, opaqueVerdict(opaque, 'builtin.unparseable', reason, 'shell: unparseable'));
  }
  if (analysis.commands.length === 0 && analysis.files.length === 0) {
    return finish(policy, opaqueVerdict(opaque, 'builtin.unparseable', 'The command runs nothing Warden can identify'));
  }
  const verdicts: PolicyVerdict[] = [];
  const labels: string[] = [];
  for (const concern of analysis.concerns) {
    const reason = `Warden cannot know what this runs (${concern.detail})`;
    if (opaque === 'ask') verdicts.push(opaqueVerdict(opaque, `builtin.shell.${concern.code}`, reason, `shell: ${concern.code}`));
    else labels.push(`shell: ${concern.code}`);
  }
  for (const command of analysis.commands) {
    const verdict = evaluateInnerCommand(policy, command.argv, command.via);
    verdicts.push(verdict);
    for (const run of command.runs ?? []) {
      const option = `${run.option}${run.value ? ` ${run.value.text}` : ''}`;
      const label = `runs a program: ${option}`;
      if (opaque === 'ask')
        verdicts.push({
          decision: 'ask',
          ruleId: 'builtin.option.exec',
          reason: `\`${commandText(command.argv)}\` ${run.what} (${option}): a rule that names the command does not cover the programs it runs, so a human decides`,
          labels: [label],
        });
      else labels.push(label);
    }
  }
  for (const file of analysis.files) {
    if (file.path.dynamic) {
      const reason = `${file.by} names ${file.path.text}, a path known only at run time`;
      if (opaque === 'ask') verdicts.push(opaqueVerdict(opaque, 'builtin.shell.dynamic-path', reason));
      else
        labels.push(
          `${file.action === 'read' ? 'reads' : file.action === 'delete' ? 'deletes' : 'writes'} a path known only at run time (${file.by})`,
        );
      continue;
    }
    const relative = resolvePath(file.path.text);
    if (relative === null) continue; // outside the workspace: only the sandbox's own files
    const action: PathAction = file.action;
    const verdict = evaluatePath(policy, action, relative === '' ? '.' : relative, true);
    verdicts.push({ ...verdict, reason: `${verdict.reason} (through ${file.by})` });
  }
  return finish(policy, withLabels(strictest(verdicts)!, labels));
}

/**
 * What the policy says about what the analysis cannot see through (eval, a command name from a
 * variable, an option that runs another program, a line that does not parse). Inside the
 * sandbox that is only a risk label, unless the team decides commands itself: a default of
 * ask or deny, or an ask or deny rule such a command could dodge.
 */
function opaqueDecision(policy: EffectivePolicy): 'allow' | 'ask' {
  return plain ? opaqueDecisionOf(policy) : compiled(policy).opaque;
}
function opaqueDecisionOf(policy: EffectivePolicy): 'allow' | 'ask' {
  return policy.defaults.command === 'allow' && policy.commands.every((r) => r.decision === 'allow') ? 'allow' : 'ask';
}

function opaqueVerdict(decision: 'allow' | 'ask', ruleId: string, reason: string, label?: string): PolicyVerdict {
  return decision === 'ask'
    ? { decision, ruleId, reason: `${reason}, so a human decides`, ...(label ? { labels: [label] } : {}) }
    : {
        decision,
        ruleId: 'default',
        reason: `${reason}; it runs inside the sandbox, and the default for commands is allow`,
        ...(label ? { labels: [label] } : {}),
      };
}

function withLabels(verdict: PolicyVerdict, labels: string[]): PolicyVerdict {
  if (labels.length === 0) return verdict;
  return { ...verdict, labels: [...new Set([...(verdict.labels ?? []), ...labels])] };
}

/** A command rule with its patterns read once. */
interface CompiledCommandRule {
  rule: EffectivePolicy['commands'][number];
  patterns: CompiledPattern[];
  mode: 'sure' | 'possible';
  /** The rule's place in the policy: candidates keep the policy's order (team rules win ties). */
  order: number;
}

/** Command rules by the literal command name their patterns start with; rules starting with a wildcard are tried for every command. */
interface CommandIndex {
  byName: Map<string, CompiledCommandRule[]>;
  always: CompiledCommandRule[];
}

function indexCommands(policy: EffectivePolicy): CommandIndex {
  const index: CommandIndex = { byName: new Map(), always: [] };
  policy.commands.forEach((rule, order) => {
    const patterns = asArray(rule.match);
    const compiledRule: CompiledCommandRule = {
      rule,
      patterns: patterns.map(compilePattern),
      mode: rule.decision === 'allow' ? 'sure' : 'possible',
      order,
    };
    const names = patterns.map((p) => p.trim().split(/\s+/)[0] ?? '');
    if (names.some((n) => n.includes('*') || n === '')) return void index.always.push(compiledRule);
    for (const name of new Set(names.map((n) => path.posix.basename(n)))) {
      const list = index.byName.get(name) ?? [];
      list.push(compiledRule);
      index.byName.set(name, list);
    }
  });
  return index;
}

/**
 * What the evaluator reads from a policy, built once per policy object (issue 21, round 6):
 * the rules indexed and their patterns and globs compiled, and whether commands it cannot see
 * through ask. A policy is not changed once built (a new one is merged when a source changes).
 */
interface CompiledPolicy {
  commands: CommandIndex;
  paths: PathIndex;
  opaque: 'allow' | 'ask';
}
const compiledPolicies = new WeakMap<EffectivePolicy, CompiledPolicy>();

function compiled(policy: EffectivePolicy): CompiledPolicy {
  let c = compiledPolicies.get(policy);
  if (!c) {
    c = { commands: indexCommands(policy), paths: indexPaths(policy), opaque: opaqueDecisionOf(policy) };
    compiledPolicies.set(policy, c);
  }
  return c;
}

/**
 * Tests only: evaluate without the indexes and compiled patterns (every rule, each pattern and
 * glob read at the call), so the unit tier can check that both decide alike.
 */
let plain = false;
export function setPlainPolicyEvaluation(on: boolean): void {
  plain = on;
}

function candidateRules(policy: EffectivePolicy, argv: ShellWord[]): CompiledCommandRule[] {
  const first = argv[0];
  if (!first || first.dynamic) return [];
  const { byName, always } = compiled(policy).commands;
  const named = byName.get(basename(first.text));
  if (!named) return always;
  if (always.length === 0) return named;
  // Keep the policy's order (team rules first) for ties.
  return [...named, ...always].sort((a, b) => a.order - b.order);
}

/** The command rules that match: through the index and compiled patterns, or (plain, tests) every rule read at the call. */
function matchingCommandRules(policy: EffectivePolicy, argv: ShellWord[]): EffectivePolicy['commands'] {
  if (plain)
    return policy.commands.filter((r) =>
      asArray(r.match).some((p) => commandMatches(p, argv, r.decision === 'allow' ? 'sure' : 'possible')),
    );
  const matching: EffectivePolicy['commands'] = [];
  for (const c of candidateRules(policy, argv)) if (c.patterns.some((p) => compiledMatches(p, argv, c.mode))) matching.push(c.rule);
  return matching;
}

function evaluateInnerCommand(policy: EffectivePolicy, argv: ShellWord[], via: string[]): PolicyVerdict {
  const text = commandText(argv);
  const what = `\`${text}\`${via.length > 0 ? ` (inside ${via.join(' > ')})` : ''}`;
  const ruled = strictest(matchingCommandRules(policy, argv).map((r) => ruleVerdict(r, what)));
  const verdicts: PolicyVerdict[] = ruled ? [ruled] : [];

  const irreversible = irreversibleCommand(argv);
  const sandboxLabels: string[] = [];
  if (irreversible && !irreversible.boundary) {
    // Acts only inside the sandbox: a label for the reviewer, not a floor (what it changes comes back as a proposal).
    sandboxLabels.push(`in the sandbox: ${irreversible.label}`);
  } else if (irreversible) {
    const lifting = policy.overrides.filter(
      (o) => o.class === 'irreversible' && o.commands !== undefined && asArray(o.commands).some((p) => commandMatches(p, argv, 'sure')),
    );
    verdicts.push(...irreversibleFloors(policy, irreversible.label, lifting));
    if (!ruled)
      verdicts.push(
        ...lifting.map((o) => ({
          decision: 'allow' as const,
          ruleId: o.id,
          reason: `Override "${o.id}" (${sourceText(o)}) allows ${what}: ${o.reason}`,
        })),
      );
    if (/^git push/.test(irreversible.label) && policy.git?.push === 'deny') {
      verdicts.push({
        decision: 'deny',
        ruleId: 'git.push',
        reason: 'The team policy denies git push (git.push is "deny")',
        labels: ['irreversible: git push'],
      });
    }
  }
  if (verdicts.length === 0 || (!ruled && !verdicts.some((v) => v.decision === 'allow'))) {
    verdicts.push({
      decision: policy.defaults.command,
      ruleId: 'default',
      reason: `No rule matches ${what}; the default for commands is ${policy.defaults.command}`,
    });
  }
  return withLabels(strictest(verdicts)!, sandboxLabels);
}

/** A broken team policy never allows anything: allow becomes ask, and says why. */
function finish(policy: EffectivePolicy, verdict: PolicyVerdict): PolicyVerdict {
  // Under a broken policy, say so wherever the answer would have come from the (lost) rules.
  if (policy.valid || verdict.decision === 'deny' || (verdict.decision === 'ask' && verdict.ruleId !== 'default')) return verdict;
  const broken = policy.sources.filter((s) => s.status === 'invalid').map((s) => s.origin);
  return {
    decision: 'ask',
    ruleId: 'builtin.policy-invalid',
    reason: `The policy ${broken.join(' and ')} does not parse or validate, so Warden runs with the safest policy: everything asks until it is fixed`,
  };
}

/** A verdict for an operation no rule can judge (a permission request of another kind). */
export function askVerdict(reason: string): PolicyVerdict {
  return { decision: 'ask', ruleId: 'default', reason };
}
