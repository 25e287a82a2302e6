import * as vscode from 'vscode';
import { resumableSessions } from '../core/audit/resumable';
import * as z from 'zod';
import { AuditLog } from '../core/audit';
import { resolveReviewer } from '../core/git/identity';
import { AGENT_PRESETS, ENV_NAME } from '../core/agent/presets';
import { addRuleToPolicyText, SuggestionStore, type RuleSuggestion } from '../core/policy/suggestions';
import type { PermissionProposal } from '../core/proposals/model';
import type { ProposalStore } from '../core/proposals/store';
import { readAgentSettings, readSecretEnvNames, type AgentSecrets } from './agentSettings';
import { commandRegistrar } from './commandRegistrar';
import type { SessionController } from './sessionController';

const KeyArgs = z.object({ envName: z.string().regex(ENV_NAME), value: z.string() }).optional();
const SuggestionArgs = z.object({ suggestionId: z.string(), accept: z.boolean() }).optional();
const AnswerArgs = z.object({ proposalId: z.string(), answer: z.string().min(1) }).optional();
const OptionArgs = z.object({ proposalId: z.string(), optionId: z.string() }).optional();
/** The view type of the former Session panel (package.json still activates on it, to replace a restored one). */
const FORMER_SESSION_VIEW = 'warden.session';
const ResumeArgs = z.object({ agentSessionId: z.string().min(1), instruction: z.string().min(1) }).optional();

/**
 * The commands around agent connections: Show Agent Session (the Warden panel), the agent's API key, suggested
 * policy rules, answering an agent's question or permission with one of its own options,
 * and resuming an agent session.
 */
export function registerAgentCommands(
  context: vscode.ExtensionContext,
  store: ProposalStore,
  sessions: SessionController,
  secrets: AgentSecrets,
  log: vscode.LogOutputChannel,
): { suggestions: SuggestionStore } {
  const register = commandRegistrar(context, log);
  const suggestions = new SuggestionStore();
  const folders = new Map<string, vscode.WorkspaceFolder>();
  context.subscriptions.push(
    { dispose: () => suggestions.dispose() },
    // The Session panel of earlier versions is the Warden panel's conversation now: a restored one gives way to it.
    vscode.window.registerWebviewPanelSerializer(FORMER_SESSION_VIEW, {
      deserializeWebviewPanel: async (panel) => {
        panel.dispose();
        await vscode.commands.executeCommand('warden.showReview');
      },
    }),
  );

  context.subscriptions.push(
    sessions.onDidSuggestRule(({ suggestion, folder }) => {
      folders.set(suggestion.id, folder);
      suggestions.add(suggestion);
    }),
  );
  suggestions.onDidAdd((suggestion) => {
    void vscode.window
      .showInformationMessage(
        `Warden suggests a policy rule: ${suggestion.summary}. It applies only once you add it to .warden/policy.json.`,
        'Add to policy',
        'Review',
      )
      .then((choice) => {
        if (choice === 'Add to policy') return acceptSuggestion(suggestion);
        if (choice === 'Review') return vscode.commands.executeCommand('warden.reviewSuggestedRules');
        return undefined;
      })
      .then(
        undefined,
        (error: unknown) => void vscode.window.showErrorMessage(`Warden: ${error instanceof Error ? error.message : String(error)}`),
      );
  });

  async function acceptSuggestion(suggestion: RuleSuggestion): Promise<boolean> {
    const folder = folders.get(suggestion.id) ?? vscode.workspace.workspaceFolders?.[0];
    if (!folder) throw new Error('Open the workspace folder the suggestion belongs to');
    const uri = vscode.Uri.joinPath(folder.uri, '.warden', 'policy.json');
    const open = vscode.workspace.textDocuments.find((d) => d.uri.toString() === uri.toString());
    if (open?.isDirty) throw new Error('.warden/policy.json has unsaved changes; save it, then add the rule again');
    let text: string;
    try {
      text = new TextDecoder().decode(await vscode.workspace.fs.readFile(uri));
    } catch {
      text = '';
    }
    const updated = addRuleToPolicyText(text, suggestion.suggested);
    await vscode.workspace.fs.writeFile(uri, new TextEncoder().encode(updated));
    suggestions.remove(suggestion.id);
    const reviewer = await resolveReviewer(folder.uri.fsPath);
    await AuditLog.forWorkspace(folder.uri.fsPath).append({
      sessionId: suggestion.sessionId,
      actor: {
        kind: 'human',
        id: reviewer.email ?? reviewer.name,
        name: reviewer.name,
        ...(reviewer.email ? { email: reviewer.email } : {}),
      },
      type: 'policy.suggestion.accepted',
      data: {
        suggestionId: suggestion.id,
        proposalId: suggestion.proposalId,
        section: suggestion.suggested.section,
        rule: suggestion.suggested.rule,
      },
    });
    log.info(`[policy] added suggested rule ${suggestion.suggested.rule.id} to ${uri.fsPath}`);
    void vscode.window.showInformationMessage(
      `Warden: added rule "${suggestion.suggested.rule.id}" to .warden/policy.json. Commit it to share it with the team.`,
    );
    return true;
  }

  // The conversation lives in the Warden panel (with the review queue and the instruction box).
  register('warden.showSession', () => vscode.commands.executeCommand('warden.showReview'));

  register('warden.setAgentApiKey', async (raw) => {
    const args = KeyArgs.parse(raw);
    if (args) {
      if (args.value) await secrets.set(args.envName, args.value);
      else await secrets.delete(args.envName);
      return true;
    }
    const agent = readAgentSettings(vscode.workspace.workspaceFolders?.[0]?.uri);
    const known = [
      ...new Set([
        ...Object.values(AGENT_PRESETS).flatMap((p) => (p.apiKeyEnv ? [p.apiKeyEnv] : [])),
        ...readSecretEnvNames(vscode.workspace.workspaceFolders?.[0]?.uri),
      ]),
    ];
    const envName =
      agent.apiKeyEnv ??
      (await vscode.window.showQuickPick(known, { title: 'Warden: which variable does your agent read its API key from?' }));
    if (!envName) return false;
    const value = await vscode.window.showInputBox({
      title: `Warden: API key for ${envName}`,
      prompt: `Stored in VS Code's secret storage. Only the agent process in the sandbox gets it, as ${envName}. Leave empty to remove it.`,
      password: true,
      ignoreFocusOut: true,
    });
    if (value === undefined) return false;
    if (value) await secrets.set(envName, value);
    else await secrets.delete(envName);
    void vscode.window.showInformationMessage(
      value ? `Warden: the agent gets ${envName} at its next start.` : `Warden: removed the key for ${envName}.`,
    );
    return true;
  });

  register('warden.reviewSuggestedRules', async (raw) => {
    const args = SuggestionArgs.parse(raw);
    if (args) {
      const suggestion = suggestions.all().find((s) => s.id === args.suggestionId);
      if (!suggestion) throw new Error(`No suggested rule ${args.suggestionId}`);
      if (!args.accept) suggestions.remove(suggestion.id);
      return args.accept ? acceptSuggestion(suggestion) : false;
    }
    const all = suggestions.all();
    if (all.length === 0) {
      void vscode.window.showInformationMessage('Warden: no suggested rules. They come from "always allow" answers to an agent.');
      return false;
    }
    const picked = await vscode.window.showQuickPick(
      all.map((s) => ({ label: s.summary, description: s.suggested.rule.id, detail: JSON.stringify(s.suggested.rule), suggestion: s })),
      { title: 'Warden: add a suggested rule to .warden/policy.json', canPickMany: true },
    );
    if (!picked?.length) return false;
    for (const p of picked) await acceptSuggestion(p.suggestion);
    return true;
  });

  register('warden.answerQuestion', async (raw) => {
    const args = AnswerArgs.parse(raw);
    if (args) {
      await sessions.answer(args.proposalId, args.answer);
      return true;
    }
    const questions = store.pending().filter((p) => p.kind === 'question');
    if (questions.length === 0) {
      void vscode.window.showInformationMessage('Warden: the agent has no question waiting.');
      return false;
    }
    const picked = await vscode.window.showQuickPick(
      questions.map((q) => ({ label: q.kind === 'question' ? q.question : q.title, id: q.id })),
      { title: 'Warden: which question?' },
    );
    if (!picked) return false;
    const answer = await vscode.window.showInputBox({
      title: 'Warden: your answer to the agent',
      prompt: picked.label,
      ignoreFocusOut: true,
    });
    if (!answer?.trim()) return false;
    await sessions.answer(picked.id, answer.trim());
    return true;
  });

  register('warden.answerPermission', async (raw) => {
    const args = OptionArgs.parse(raw);
    let proposal: PermissionProposal | undefined;
    let optionId = args?.optionId;
    if (args) {
      const found = store.get(args.proposalId);
      if (found?.kind !== 'permission') throw new Error(`${args.proposalId} is not a permission request`);
      proposal = found;
    } else {
      const pending = store.pending().filter((p): p is PermissionProposal => p.kind === 'permission');
      if (pending.length === 0) {
        void vscode.window.showInformationMessage('Warden: no permission request is waiting.');
        return false;
      }
      const pickedProposal =
        pending.length === 1
          ? pending[0]
          : (
              await vscode.window.showQuickPick(
                pending.map((p) => ({ label: p.title, p })),
                { title: 'Warden: which request?' },
              )
            )?.p;
      if (!pickedProposal) return false;
      proposal = pickedProposal;
      const pickedOption = await vscode.window.showQuickPick(
        proposal.options.map((o) => ({
          label: o.name,
          description: o.kind === 'allow_always' ? 'allows this once and suggests a policy rule for the rest' : o.kind,
          optionId: o.optionId,
        })),
        { title: `Warden: answer "${proposal.title}" with one of the agent's options` },
      );
      optionId = pickedOption?.optionId;
    }
    const option = proposal.options.find((o) => o.optionId === optionId);
    if (!option) return false;
    await sessions.decide(proposal.id, option.kind.startsWith('allow') ? 'approve' : 'reject', undefined, option.optionId);
    return true;
  });

  register('warden.resumeAgentSession', async (raw) => {
    const args = ResumeArgs.parse(raw);
    const folder = vscode.workspace.workspaceFolders?.[0];
    if (!folder) throw new Error('Open a folder with a .devcontainer/devcontainer.json first');
    const agentSessionId = args?.agentSessionId ?? (await pickResumable(folder));
    if (!agentSessionId?.trim()) return undefined;
    const instruction =
      args?.instruction ??
      (await vscode.window.showInputBox({
        title: 'Warden: Resume Agent Session',
        prompt: 'What should the agent do next?',
        ignoreFocusOut: true,
      }));
    if (!instruction?.trim()) return undefined;
    await vscode.commands.executeCommand('warden.showReview');
    const started = await sessions.start(folder, instruction.trim(), agentSessionId.trim());
    return started?.sessionId;
  });

  return { suggestions };
}

/** The agent sessions this workspace's audit log recorded, newest first, or an id typed by hand. */
async function pickResumable(folder: vscode.WorkspaceFolder): Promise<string | undefined> {
  const known = await resumableSessions(folder.uri.fsPath).catch(() => []);
  const typeIt = { label: '$(edit) Enter an agent session id…', agentSessionId: undefined };
  const picked = await vscode.window.showQuickPick(
    [
      ...known.map((s) => ({
        label: s.instruction ? s.instruction.replace(/\s+/g, ' ').slice(0, 100) : '(no instruction recorded)',
        description: `${new Date(s.time).toLocaleString()} · ${s.protocol}`,
        // Full ids: the agent's, and Warden's session that ran it.
        detail: `${s.agentSessionId} · Warden session ${s.sessionId} · ${s.agent}`,
        agentSessionId: s.agentSessionId,
      })),
      typeIt,
    ],
    {
      title: 'Warden: Resume Agent Session',
      placeHolder: known.length
        ? 'Pick a session this workspace ran (the agent must support resuming)'
        : 'No agent session is on record here yet',
      matchOnDetail: true,
      ignoreFocusOut: true,
    },
  );
  if (!picked) return undefined;
  if (picked.agentSessionId) return picked.agentSessionId;
  return vscode.window.showInputBox({
    title: 'Warden: Resume Agent Session',
    prompt: 'The agent session (ACP) or thread (Codex app-server) to resume; the agent must support it',
    ignoreFocusOut: true,
  });
}
