import { displayCommandLine } from '../../agent/agentCommand';
import type { ScopeVerdict } from '../../git/scope';
import { evaluateCommand, evaluatePath } from '../../policy';
import type { CommandProposal } from '../../proposals/model';
import type { EditedCommandOutcome, GateDeps, GateRefusal, RefusedEntry } from './types';
import { evaluateFailClosed } from './verdicts';

/** Records a `refused` entry: the rule, when one refused, is always `ruleId`. */
export async function recordRefused(deps: GateDeps, entry: RefusedEntry): Promise<void> {
  const { by, ...data } = entry;
  const actor = by === 'policy' && entry.ruleId ? { kind: 'policy' as const, id: entry.ruleId } : { kind: 'warden' as const, id: 'warden' };
  await deps.record({ actor, type: 'refused', data });
}

/** A write outside the session's scope, refused (audited, naming the rule); undefined when in scope. */
export async function scopeRefusal(deps: GateDeps, path: string, action: string): Promise<GateRefusal | undefined> {
  const verdict: ScopeVerdict | undefined = await deps.scope?.checkWrite(path);
  if (!verdict || verdict.allowed) return undefined;
  await recordRefused(deps, { action, path, ruleId: verdict.rule, reason: verdict.reason });
  return { ruleId: verdict.rule, reason: verdict.reason, message: `Out of this session's scope (rule ${verdict.rule}): ${verdict.reason}` };
}

/** A git command that would write a protected branch, refused (audited, naming the rule). */
export async function gitRefusal(deps: GateDeps, command: string | readonly string[]): Promise<GateRefusal | undefined> {
  const verdict = await deps.classifyCommand?.(command);
  if (verdict?.verdict !== 'deny') return undefined;
  const commandLine = typeof command === 'string' ? command : displayCommandLine([...command]);
  await recordRefused(deps, { action: 'command', commandLine, ruleId: verdict.rule, reason: verdict.reason });
  return { ruleId: verdict.rule, reason: verdict.reason, message: `Refused (rule ${verdict.rule}): ${verdict.reason}` };
}

/** A read the policy does not allow, refused (audited, naming the rule). */
export async function readRefusal(deps: GateDeps, path: string): Promise<GateRefusal | undefined> {
  const verdict = evaluateFailClosed(deps.policy, (policy) => evaluatePath(policy, 'read', path));
  if (!verdict || verdict.decision === 'allow') return undefined;
  await recordRefused(deps, { by: 'policy', action: 'read', path, ruleId: verdict.ruleId, reason: verdict.reason });
  // The same rule keeps the file out of the sandbox (sandbox/withhold.ts): say so, so the agent does not try a command instead.
  const withheld =
    verdict.decision === 'deny'
      ? ` ${path} is withheld from the sandbox: it is not in your copy of the workspace (masked in read-only mode), so no command there can read it either.`
      : '';
  return {
    ruleId: verdict.ruleId,
    reason: verdict.reason,
    message: `Denied by policy rule ${verdict.ruleId}: ${verdict.reason}.${withheld}`,
  };
}

/**
 * The reviewer's edited command replaces the agent's; the branch guard and the policy judge
 * it again. A deny is refused naming the rule (the proposal fails, nothing runs); otherwise
 * the proposal carries the command that will run (audited as command.edited).
 */
export async function recheckEditedCommand(
  deps: GateDeps,
  proposal: CommandProposal,
  commandLine: string,
  resolvePath: (raw: string) => string | null,
): Promise<EditedCommandOutcome> {
  const refuse = async (ruleId: string, reason: string): Promise<{ refused: GateRefusal }> => {
    const detail = `The edited command was denied by policy rule ${ruleId}: ${reason}`;
    deps.store.setState(proposal.id, 'failed', detail, { proposedCommandLine: proposal.commandLine, commandLine });
    await recordRefused(deps, { by: 'policy', action: 'command', proposalId: proposal.id, commandLine, edited: true, ruleId, reason });
    const message = `The reviewer edited the command ${proposal.commandLine} to ${commandLine}, and ${detail.charAt(0).toLowerCase()}${detail.slice(1)}`;
    return { refused: { ruleId, reason, message } };
  };
  const git = await deps.classifyCommand?.(commandLine);
  if (git?.verdict === 'deny') return refuse(git.rule, git.reason);
  const verdict = evaluateFailClosed(deps.policy, (policy) => evaluateCommand(policy, { commandLine, resolvePath }));
  if (verdict?.decision === 'deny') return refuse(verdict.ruleId, verdict.reason);
  const argv = ['sh', '-c', commandLine];
  deps.store.setState(proposal.id, 'approved', undefined, {
    proposedCommandLine: proposal.commandLine,
    commandLine,
    argv,
    ...(verdict ? { policy: verdict } : {}),
  });
  await deps.record({
    actor: { kind: 'warden', id: 'warden' },
    type: 'command.edited',
    data: {
      proposalId: proposal.id,
      proposedCommandLine: proposal.commandLine,
      commandLine,
      argv,
      ...(verdict ? { ruleId: verdict.ruleId, policy: verdict } : {}),
    },
  });
  return { argv, commandLine };
}
