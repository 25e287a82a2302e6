import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { mergePolicies, TEAM_POLICY_PATH, type EffectivePolicy, type PolicyInputs } from './effective';
import { loadManagedPolicyText, loadPolicyText, problemAt, type PolicyProblem } from './loader';
import { TighteningRules } from './schema';

export interface WorkspacePolicyOptions {
  /** `warden.policy.userRules`: rules that can only tighten (ask or deny). */
  userRules?: unknown;
  /** `warden.policy.managedPolicyPath` (machine scope): a file of tightening rules. */
  managedPolicyPath?: string;
  /** The team policy text when the editor has it (an unsaved document); read from disk otherwise. */
  teamText?: string;
}

/** Loads the effective policy of a workspace: `.warden/policy.json`, the user's rules, the managed policy. */
export async function loadWorkspacePolicy(workspaceRoot: string, options: WorkspacePolicyOptions = {}): Promise<EffectivePolicy> {
  const teamText = options.teamText ?? (await readIfExists(path.join(workspaceRoot, ...TEAM_POLICY_PATH.split('/'))));
  let team: PolicyInputs['team'] = { status: 'absent' };
  if (teamText !== undefined) {
    const loaded = loadPolicyText(teamText);
    team = loaded.ok ? { status: 'loaded', policy: loaded.value } : { status: 'invalid', problems: loaded.problems };
  }
  const inputs: PolicyInputs = { team };
  const user = userRulesInput(options.userRules);
  if (user) inputs.user = user;
  if (options.managedPolicyPath) {
    const origin = options.managedPolicyPath;
    const text = await readIfExists(origin);
    if (text === undefined)
      inputs.managed = { origin, problems: [problemAt('', 0, 0, `The managed policy ${origin} does not exist or cannot be read`)] };
    else {
      const loaded = loadManagedPolicyText(text);
      inputs.managed = loaded.ok ? { origin, rules: loaded.value } : { origin, problems: loaded.problems };
    }
  }
  return mergePolicies(inputs);
}

/** `warden.policy.userRules` as tightening rules; an empty value means none. */
export function userRulesInput(raw: unknown): PolicyInputs['user'] | undefined {
  if (raw === undefined || raw === null || (typeof raw === 'object' && Object.keys(raw).length === 0)) return undefined;
  const parsed = TighteningRules.safeParse(raw);
  if (parsed.success) return { rules: parsed.data };
  const problems: PolicyProblem[] = parsed.error.issues.map((i) => ({
    ...problemAt('', 0, 0, `${i.path.join('.')}: ${i.message}`),
    path: i.path.filter((p): p is string | number => typeof p !== 'symbol'),
  }));
  return { problems };
}

async function readIfExists(file: string): Promise<string | undefined> {
  try {
    return await fs.readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}
