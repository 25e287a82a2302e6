import * as z from 'zod';

/**
 * `.warden/policy.json`: the team policy, committed in the repository (JSONC allowed).
 * This zod schema is the single source of truth: the loader validates with it, and the
 * build emits the JSON schema VS Code uses to complete and validate the file
 * (`z.toJSONSchema`, see `policyJsonSchema`).
 */

export const PolicyDecision = z
  .enum(['allow', 'ask', 'deny'])
  .describe('allow: decided by the policy; ask: a human decides; deny: refused, the agent is told why.');
export type PolicyDecision = z.infer<typeof PolicyDecision>;

/** Only ever tighten: what user settings, the managed policy and the built-in classes may say. */
export const StrictDecision = z.enum(['ask', 'deny']);

const RuleId = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'letters, digits, dot, dash and underscore, starting with a letter or digit')
  .describe('Stable rule id: recorded with every decision the rule makes and shown by "Why?".');

const Reason = z.string().min(1).describe('Why the rule exists; the agent and the reviewer see it.');

export const PathAction = z.enum(['read', 'write', 'create', 'delete']);
export type PathAction = z.infer<typeof PathAction>;

const Globs = z
  .union([z.string().min(1), z.array(z.string().min(1)).min(1)])
  .describe('Workspace-relative glob(s), e.g. "src/**" (picomatch syntax, dotfiles included).');

export const PathRule = z.strictObject({
  id: RuleId,
  paths: Globs,
  actions: z.array(PathAction).min(1).describe('Which file operations the rule covers.'),
  decision: PolicyDecision,
  reason: Reason.optional(),
});
export type PathRule = z.infer<typeof PathRule>;

const CommandPatterns = z
  .union([z.string().min(1), z.array(z.string().min(1)).min(1)])
  .describe(
    'Command pattern(s): words separated by spaces, each matched against one word of every inner command (after quote removal). `*` inside a word matches any characters; a last word `*` matches any remaining words. "git push *" matches "git push origin main".',
  );

export const CommandRule = z.strictObject({
  id: RuleId,
  match: CommandPatterns,
  decision: PolicyDecision,
  reason: Reason.optional(),
});
export type CommandRule = z.infer<typeof CommandRule>;

export const BuiltinClass = z.enum(['irreversible', 'protected-path']);
export type BuiltinClass = z.infer<typeof BuiltinClass>;

export const Override = z
  .strictObject({
    id: RuleId,
    class: BuiltinClass.describe('The built-in class this override lowers.'),
    paths: Globs.optional().describe('For protected-path: which protected paths (globs).'),
    actions: z.array(PathAction).min(1).optional(),
    commands: CommandPatterns.optional().describe('For irreversible: which commands.'),
    decision: z.literal('allow'),
    reason: Reason.describe('Required: why the team lets the policy decide this without a human.'),
  })
  .refine((o) => (o.class === 'protected-path' ? o.paths !== undefined : o.commands !== undefined), {
    message: 'a protected-path override names its paths; an irreversible override names its commands',
  })
  .describe('An explicit, named exception that lowers a built-in class to allow. Only the committed team policy can hold overrides.');
export type Override = z.infer<typeof Override>;

export const Builtins = z
  .strictObject({
    irreversible: StrictDecision.default('ask').describe(
      'What crosses the sandbox boundary irreversibly: delete proposals of real files, git push, deploys, cloud and database changes, publishing. (rm, git reset --hard and the like inside the sandbox are risk labels only.)',
    ),
    protectedPaths: StrictDecision.default('ask').describe('The policy, the audit log, .git/, .vscode/, .devcontainer/, CI configuration.'),
  })
  .describe('Built-in classes always ask at least; raise them to deny here.');

export const NetworkSection = z
  .strictObject({
    allow: z
      .array(
        z.strictObject({
          host: z.string().min(1).describe('Host name, *.example.com (names below example.com), or an IP address'),
          ports: z.array(z.number().int().min(1).max(65535)).min(1).optional(),
        }),
      )
      .default([]),
    unlisted: z
      .enum(['ask', 'deny'])
      .default('ask')
      .describe(
        'A request to a host that is not on the allow-list: ask (the proxy holds it until a human decides; rejected, headless or timed out means refused) or deny (refused at once, as before).',
      ),
  })
  .describe(
    'Egress allow-list of hosts and ports, enforced by the egress proxy (the only way out of the sandbox). Without ports: 443 and 80.',
  );

export const GitSection = z
  .strictObject({
    protectedBranches: z.array(z.string().min(1)).default([]),
    push: StrictDecision.default('ask').describe(
      'git push is irreversible: it asks at least (an irreversible override may allow it); deny refuses every push.',
    ),
  })
  .describe('Protected branches and pushing (validated now; the git integration enforces branches).');

export const SandboxSection = z
  .strictObject({
    allowPrivileged: z.boolean().default(false),
    allowCapAdd: z.array(z.string()).default([]),
    allowSecurityOpt: z.array(z.string()).default([]).describe('securityOpt values allowed (no-new-privileges can never be turned off).'),
    allowMounts: z
      .boolean()
      .default(false)
      .describe('Host bind mounts and a workspaceMount of another folder (never the Docker socket, the SSH agent or the home folder).'),
    allowRunArgs: z.boolean().default(false).describe('runArgs, of which Warden honours only a safe subset (see README).'),
    allowInitializeCommand: z.boolean().default(false).describe('initializeCommand, which runs on the host, outside the sandbox.'),
    allowNetwork: z.boolean().default(false),
  })
  .describe('Which security-relevant devcontainer properties are allowed (enforced by the sandbox).');
export type SandboxSection = z.infer<typeof SandboxSection>;

export const ScopeSection = z
  .strictObject({
    folders: z
      .array(z.string().min(1))
      .optional()
      .describe('Workspace folders of a multi-root workspace a session may touch, by name or absolute path.'),
    branches: z
      .array(z.string().min(1))
      .optional()
      .describe('Branch globs the checked-out branch must match when a write is proposed, e.g. "warden/*".'),
    include: z.array(z.string().min(1)).optional().describe('Path globs a write must match, e.g. "src/**".'),
    exclude: z.array(z.string().min(1)).optional().describe('Path globs no write may match, e.g. "infra/**".'),
  })
  .describe('What a session may touch: folders, branches and file patterns. Writes outside are refused with the rule that refused them.');
export type ScopeSection = z.infer<typeof ScopeSection>;

export const LimitsSection = z
  .strictObject({
    filesPerProposal: z.number().int().positive().optional(),
    outputBytes: z.number().int().positive().optional().describe('Bytes of command output kept and sent to the agent.'),
  })
  .describe('Limits such as files per proposal and bytes of command output.');
export type LimitsSection = z.infer<typeof LimitsSection>;

export const PolicyExample = z.union([
  z.strictObject({ command: z.string().min(1), expect: PolicyDecision }),
  z.strictObject({ path: z.string().min(1), action: PathAction.default('write'), expect: PolicyDecision }),
]);
export type PolicyExample = z.infer<typeof PolicyExample>;

export const DefaultsSection = z
  .strictObject({
    read: z.enum(['allow', 'deny']).default('allow'),
    write: PolicyDecision.default('ask'),
    command: PolicyDecision.default('allow').describe(
      'Commands run inside the sandbox: what they change comes back as proposals and their network goes through the egress proxy, so by default they run without asking. Say "ask" to see every command (the old default) or "deny".',
    ),
  })
  .describe('What happens when no rule matches.');

export const PolicyFile = z
  .strictObject({
    $schema: z.string().optional(),
    version: z.literal(1).default(1),
    defaults: DefaultsSection.optional(),
    paths: z.array(PathRule).default([]),
    commands: z.array(CommandRule).default([]),
    builtins: Builtins.optional(),
    overrides: z.array(Override).default([]),
    network: NetworkSection.optional(),
    git: GitSection.optional(),
    sandbox: SandboxSection.optional(),
    scope: ScopeSection.optional(),
    limits: LimitsSection.optional(),
    examples: z.array(PolicyExample).default([]).describe('Policy tests: checked on save and by "Warden: Test Policy".'),
  })
  .describe('Warden team policy (.warden/policy.json)');
export type PolicyFile = z.infer<typeof PolicyFile>;

/** Rules a user's settings or the machine's managed policy add: they can only tighten. */
export const TighteningRules = z.strictObject({
  paths: z.array(PathRule.extend({ decision: StrictDecision })).default([]),
  commands: z.array(CommandRule.extend({ decision: StrictDecision })).default([]),
  builtins: Builtins.optional(),
  scope: ScopeSection.optional(),
  limits: LimitsSection.optional(),
});
export type TighteningRules = z.infer<typeof TighteningRules>;

/** The JSON schema contributed through `jsonValidation` (emitted into dist/ by the build). */
export function policyJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(PolicyFile, { target: 'draft-7', io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  return { ...schema, title: 'Warden team policy', $id: 'https://warden.invalid/policy.schema.json' };
}
