import type { PolicyProblem } from './loader';
import type {
  CommandRule,
  LimitsSection,
  Override,
  PathRule,
  PolicyDecision,
  PolicyExample,
  PolicyFile,
  ScopeSection,
  TighteningRules,
} from './schema';

/**
 * The effective policy: the committed team policy, tightened by the user's settings and then
 * by the machine's managed policy. Every rule knows where it came from.
 *
 * Precedence is by construction: user and managed rules can only say ask or deny (their
 * schema has no allow), the evaluator takes the most restrictive of all matching rules, and
 * only the team policy can hold overrides of the built-in classes.
 */

export type PolicySourceKind = 'team' | 'user' | 'managed';

export interface RuleOrigin {
  source: PolicySourceKind;
  /** The file or setting it came from, e.g. ".warden/policy.json" or "warden.policy.userRules". */
  origin: string;
}

export type SourcedPathRule = PathRule & RuleOrigin;
export type SourcedCommandRule = CommandRule & RuleOrigin;
export type SourcedOverride = Override & RuleOrigin;

/** How each source was found: loaded, absent, or broken (with the problems). */
export interface SourceStatus extends RuleOrigin {
  status: 'loaded' | 'absent' | 'invalid';
  problems: PolicyProblem[];
}

export interface EffectivePolicy {
  /** false when the team policy failed to parse or validate. */
  teamPolicyValid: boolean;
  /** false when any source (team, user settings, managed policy) is invalid: then everything asks. */
  valid: boolean;
  sources: SourceStatus[];
  defaults: { read: 'allow' | 'deny'; write: PolicyDecision; command: PolicyDecision };
  paths: SourcedPathRule[];
  commands: SourcedCommandRule[];
  overrides: SourcedOverride[];
  builtins: {
    irreversible: Array<{ decision: 'ask' | 'deny' } & RuleOrigin>;
    protectedPaths: Array<{ decision: 'ask' | 'deny' } & RuleOrigin>;
  };
  network: NonNullable<PolicyFile['network']> | undefined;
  git: NonNullable<PolicyFile['git']> | undefined;
  sandbox: NonNullable<PolicyFile['sandbox']> | undefined;
  /** Scope layers, team first; each only narrows what a session may touch. */
  scope: Array<ScopeSection & RuleOrigin>;
  limits: LimitsSection & { from?: Partial<Record<keyof LimitsSection, RuleOrigin>> };
  examples: PolicyExample[];
}

export const TEAM_POLICY_PATH = '.warden/policy.json';
/** Where the built-in classes come from when no policy file sets them (team-level: only the team policy may change them). */
export const BUILTIN_ORIGIN: RuleOrigin = { source: 'team', origin: 'built-in defaults' };
export const USER_RULES_SETTING = 'warden.policy.userRules';

export interface PolicyInputs {
  /** The team policy: loaded, absent (no file), or invalid with its problems. */
  team: { status: 'loaded'; policy: PolicyFile } | { status: 'absent' } | { status: 'invalid'; problems: PolicyProblem[] };
  teamOrigin?: string;
  user?: { rules: TighteningRules } | { problems: PolicyProblem[] };
  managed?: { origin: string } & ({ rules: TighteningRules } | { problems: PolicyProblem[] } | { absent: true });
}

/** Builds the effective policy. A broken team policy yields the safest one: every default asks, no allow rule, no override. */
export function mergePolicies(inputs: PolicyInputs): EffectivePolicy {
  const teamOrigin: RuleOrigin = { source: 'team', origin: inputs.teamOrigin ?? TEAM_POLICY_PATH };
  const team = inputs.team.status === 'loaded' ? inputs.team.policy : undefined;
  const teamPolicyValid = inputs.team.status !== 'invalid';
  const sources: SourceStatus[] = [
    { ...teamOrigin, status: inputs.team.status, problems: inputs.team.status === 'invalid' ? inputs.team.problems : [] },
  ];
  const effective: EffectivePolicy = {
    teamPolicyValid,
    valid: teamPolicyValid,
    sources,
    defaults: teamPolicyValid
      ? { read: team?.defaults?.read ?? 'allow', write: team?.defaults?.write ?? 'ask', command: team?.defaults?.command ?? 'allow' }
      : { read: 'allow', write: 'ask', command: 'ask' },
    paths: (team?.paths ?? []).map((r) => ({ ...r, ...teamOrigin })),
    commands: (team?.commands ?? []).map((r) => ({ ...r, ...teamOrigin })),
    overrides: (team?.overrides ?? []).map((o) => ({ ...o, ...teamOrigin })),
    builtins: {
      // Credited to the team policy only when it sets them; otherwise they are Warden's own defaults.
      irreversible: [{ decision: team?.builtins?.irreversible ?? 'ask', ...(team?.builtins?.irreversible ? teamOrigin : BUILTIN_ORIGIN) }],
      protectedPaths: [
        { decision: team?.builtins?.protectedPaths ?? 'ask', ...(team?.builtins?.protectedPaths ? teamOrigin : BUILTIN_ORIGIN) },
      ],
    },
    network: team?.network,
    git: team?.git,
    sandbox: team?.sandbox,
    scope: team?.scope ? [{ ...team.scope, ...teamOrigin }] : [],
    limits: { ...(team?.limits ?? {}), from: Object.fromEntries(Object.keys(team?.limits ?? {}).map((k) => [k, teamOrigin])) },
    examples: team?.examples ?? [],
  };

  const tighten = (rules: TighteningRules, origin: RuleOrigin): void => {
    effective.paths.push(...rules.paths.map((r) => ({ ...r, ...origin })));
    effective.commands.push(...rules.commands.map((r) => ({ ...r, ...origin })));
    if (rules.builtins) {
      effective.builtins.irreversible.push({ decision: rules.builtins.irreversible, ...origin });
      effective.builtins.protectedPaths.push({ decision: rules.builtins.protectedPaths, ...origin });
    }
    if (rules.scope) effective.scope.push({ ...rules.scope, ...origin });
    for (const key of ['filesPerProposal', 'outputBytes'] as const) {
      const value = rules.limits?.[key];
      const current = effective.limits[key];
      if (value !== undefined && (current === undefined || value < current)) {
        effective.limits[key] = value;
        effective.limits.from = { ...effective.limits.from, [key]: origin };
      }
    }
  };

  const userOrigin: RuleOrigin = { source: 'user', origin: USER_RULES_SETTING };
  if (inputs.user && 'rules' in inputs.user) {
    tighten(inputs.user.rules, userOrigin);
    sources.push({ ...userOrigin, status: 'loaded', problems: [] });
  } else if (inputs.user) {
    sources.push({ ...userOrigin, status: 'invalid', problems: inputs.user.problems });
  }
  if (inputs.managed) {
    const managedOrigin: RuleOrigin = { source: 'managed', origin: inputs.managed.origin };
    if ('rules' in inputs.managed) {
      tighten(inputs.managed.rules, managedOrigin);
      sources.push({ ...managedOrigin, status: 'loaded', problems: [] });
    } else if ('problems' in inputs.managed) {
      sources.push({ ...managedOrigin, status: 'invalid', problems: inputs.managed.problems });
    } else {
      sources.push({ ...managedOrigin, status: 'absent', problems: [] });
    }
  }
  effective.valid = sources.every((s) => s.status !== 'invalid');
  return effective;
}

/** The policy with no file at all: writes ask (as proposals), commands run inside the sandbox, reads are allowed. */
export function defaultPolicy(): EffectivePolicy {
  return mergePolicies({ team: { status: 'absent' } });
}

/** What "Warden: Show Effective Policy" shows: the merged result, each rule with its source. */
export function describeEffectivePolicy(policy: EffectivePolicy): string {
  const lines: string[] = [
    '// Warden: the effective policy (read-only). Team policy first; user settings and the',
    '// machine-managed policy can only tighten it. "source" says where each rule came from.',
  ];
  for (const s of policy.sources) {
    const detail =
      s.status === 'invalid' ? `INVALID: ${s.problems.map((p) => `line ${p.line}:${p.column} ${p.message}`).join('; ')}` : s.status;
    lines.push(`// ${s.source} (${s.origin}): ${detail}`);
  }
  if (!policy.valid) lines.push('// A policy source is invalid: Warden runs with the safest policy (everything asks) until it is fixed.');
  if (policy.sources.find((s) => s.source === 'team')?.status === 'absent')
    lines.push(`// No ${TEAM_POLICY_PATH}: the defaults and built-in classes below are Warden's built-in defaults.`);
  lines.push(...boundaryLines(policy));
  const body = {
    valid: policy.valid,
    teamPolicyValid: policy.teamPolicyValid,
    defaults: policy.defaults,
    builtins: policy.builtins,
    overrides: policy.overrides,
    paths: policy.paths,
    commands: policy.commands,
    network: policy.network ?? null,
    git: policy.git ?? null,
    sandbox: policy.sandbox ?? null,
    scope: policy.scope,
    limits: policy.limits,
    examples: policy.examples,
  };
  return `${lines.join('\n')}\n${JSON.stringify(body, null, 2)}\n`;
}

/** How the boundary model reads for this policy: what runs inside, what crossing it asks about. */
function boundaryLines(policy: EffectivePolicy): string[] {
  const commands = policy.defaults.command;
  return [
    '// Decide at the boundary: the sandbox is the boundary, not the command line.',
    commands === 'allow'
      ? '// - Commands run inside the sandbox without asking (defaults.command "allow"); rules can still ask or deny. Their shell analysis labels risks for the reviewer.'
      : `// - Commands: defaults.command is "${commands}", so every command without an allow rule ${commands === 'ask' ? 'asks' : 'is denied'} (the behaviour before the boundary model).`,
    '// - File changes going out are proposals: path rules, protected paths (always ask) and delete proposals of real files (always ask).',
    '// - rm, git reset --hard and the like act on the sandbox copy only: labels, not asks. git push, publishing, deploys, cloud and database commands ask (builtins.irreversible).',
    `// - Network: hosts in network.allow go out; any other host ${(policy.network?.unlisted ?? 'ask') === 'ask' ? 'is held by the egress proxy until a human approves (network.unlisted "ask")' : 'is refused (network.unlisted "deny")'}.`,
  ];
}

/** The policy's scope sections as layers for the session scope; the rule ids read e.g. "policy:scope.include". */
export function policyScopeLayers(policy: EffectivePolicy): Array<{ source: string; rules: ScopeSection }> {
  const name: Record<PolicySourceKind, string> = { team: 'policy', user: 'user', managed: 'managed' };
  return policy.scope.map(({ source, origin: _origin, ...rules }) => ({ source: name[source], rules }));
}

/** Where a session gets the current effective policy (re-read when the files or settings change). */
export interface PolicyProvider {
  current(): EffectivePolicy;
}

/** How the policy was loaded, for logs and the audit (`policy.loaded` / `policy.invalid`). */
export type PolicySummary = {
  valid: boolean;
  teamPolicyValid: boolean;
  sources: Array<{ source: string; origin: string; status: string; problems: string[] }>;
  rules: { paths: number; commands: number; overrides: string[] };
};

/** One line saying how the policy was loaded, for logs and the audit. */
export function policySummary(policy: EffectivePolicy): PolicySummary {
  return {
    valid: policy.valid,
    teamPolicyValid: policy.teamPolicyValid,
    sources: policy.sources.map((s) => ({
      source: s.source,
      origin: s.origin,
      status: s.status,
      problems: s.problems.map((p) => `${p.line}:${p.column} ${p.message}`),
    })),
    rules: { paths: policy.paths.length, commands: policy.commands.length, overrides: policy.overrides.map((o) => o.id) },
  };
}
