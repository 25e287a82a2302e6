import * as vscode from 'vscode';
import { DEFAULT_AGENT_IDENTITY } from '../core/git/commit';
import type { GitIdentity } from '../core/git/repo';
import { SessionScope, scopeRulesSchema, type ScopeRules } from '../core/git/scope';

/** Typed reads of Warden's git-related settings (the only place that knows these keys). */
export interface GitSettings {
  /** Author of the commits Warden makes for the agent. */
  agentIdentity: GitIdentity;
  /** `warden.session.scope`; undefined when not set. Problems are reported, never ignored silently. */
  scope: ScopeRules | undefined;
  scopeProblem: string | undefined;
  checkpointsKeep: number;
  checkpointsMaxAgeDays: number;
}

export function readGitSettings(scope?: vscode.ConfigurationScope): GitSettings {
  const config = vscode.workspace.getConfiguration('warden', scope);
  const identity = config.get<unknown>('agent.identity');
  const agentIdentity =
    identity &&
    typeof identity === 'object' &&
    typeof (identity as GitIdentity).name === 'string' &&
    /@/.test(String((identity as GitIdentity).email))
      ? {
          name: (identity as GitIdentity).name.trim() || DEFAULT_AGENT_IDENTITY.name,
          email: String((identity as GitIdentity).email).trim(),
        }
      : DEFAULT_AGENT_IDENTITY;
  const rawScope = config.get<unknown>('session.scope');
  const parsed = rawScope === undefined || rawScope === null ? undefined : scopeRulesSchema.safeParse(rawScope);
  const keep = config.get<unknown>('checkpoints.keep');
  const days = config.get<unknown>('checkpoints.maxAgeDays');
  return {
    agentIdentity,
    scope: parsed?.success ? parsed.data : undefined,
    scopeProblem:
      parsed && !parsed.success ? parsed.error.issues.map((i) => `${i.path.join('.') || 'scope'}: ${i.message}`).join('; ') : undefined,
    checkpointsKeep: typeof keep === 'number' && keep >= 1 ? Math.floor(keep) : 20,
    checkpointsMaxAgeDays: typeof days === 'number' && days >= 0 ? days : 14,
  };
}

/**
 * The session scope from the settings. An invalid `warden.session.scope` fails closed: the
 * session does not start rather than run with a scope wider than the one the user wrote.
 */
export function sessionScopeFromSettings(settings: GitSettings): SessionScope {
  if (settings.scopeProblem) throw new Error(`The setting warden.session.scope is invalid (${settings.scopeProblem}); fix it or remove it`);
  return settings.scope ? new SessionScope([{ source: 'settings', rules: settings.scope }]) : SessionScope.unrestricted();
}
