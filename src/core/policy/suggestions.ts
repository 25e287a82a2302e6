import { createHash } from 'node:crypto';
import { applyEdits, modify } from 'jsonc-parser';
import type { PermissionProposal } from '../proposals/model';
import { Emitter } from '../util/events';
import { loadPolicyText } from './loader';
import type { CommandRule, PathRule } from './schema';

/**
 * An "always allow" answer to an agent's permission request never grants anything beyond
 * that one request: it becomes a suggested policy rule, which a human adds to the committed
 * `.warden/policy.json` (or not). Until then Warden keeps asking.
 */
export type SuggestedRule = { section: 'commands'; rule: CommandRule } | { section: 'paths'; rule: PathRule };

export interface RuleSuggestion {
  id: string;
  sessionId: string;
  /** The permission proposal whose "always" answer produced it. */
  proposalId: string;
  /** One line for a notification, e.g. `allow the command "npm test"`. */
  summary: string;
  suggested: SuggestedRule;
  createdAt: string;
}

const SIMPLE_WORD = /^[A-Za-z0-9_@%+=:,./-]+$/;

/** The rule an "always allow" on this permission would need, or why there is none. */
export function suggestRule(
  proposal: PermissionProposal,
  reviewerName: string,
): { suggested: SuggestedRule; summary: string } | { reason: string } {
  const reason = `Suggested by Warden from an "always allow" answer by ${reviewerName} (${proposal.createdAt.slice(0, 10)})`;
  if (proposal.edit && !proposal.edit.unlocated) {
    const action = proposal.edit.oldText === null ? 'create' : 'write';
    return {
      suggested: {
        section: 'paths',
        rule: { id: ruleId('allow-path', proposal.edit.path), paths: proposal.edit.path, actions: [action], decision: 'allow', reason },
      },
      summary: `allow ${action === 'create' ? 'creating' : 'writing'} ${proposal.edit.path}`,
    };
  }
  if (proposal.commandLine) {
    const words = proposal.commandLine.trim().split(/\s+/);
    // Policy patterns match word by word after quote removal; only plain words say exactly one command.
    if (words.length === 0 || !words.every((w) => SIMPLE_WORD.test(w))) {
      return { reason: `"${proposal.commandLine}" has quoting, globs or shell operators; write a rule for it by hand` };
    }
    return {
      suggested: {
        section: 'commands',
        rule: { id: ruleId('allow-command', proposal.commandLine), match: words.join(' '), decision: 'allow', reason },
      },
      summary: `allow the command "${words.join(' ')}"`,
    };
  }
  return { reason: `a "${proposal.toolKind}" permission has no command or file a rule could name` };
}

/**
 * The policy text with the rule appended to its section, comments and formatting kept
 * (a JSONC edit). The result must still be a valid policy, or this throws and the caller
 * writes nothing.
 */
export function addRuleToPolicyText(text: string, suggested: SuggestedRule): string {
  const base = text.trim() ? text : '{\n  "version": 1\n}\n';
  const loaded = loadPolicyText(base);
  if (!loaded.ok) throw new Error('The policy file is not valid now; fix it before adding rules (Warden: Test Policy shows why)');
  const section: Array<{ id: string }> = loaded.value[suggested.section];
  if (section.some((r) => r.id === suggested.rule.id)) return base;
  const edits = modify(base, [suggested.section, -1], suggested.rule, {
    formattingOptions: { insertSpaces: true, tabSize: 2, eol: base.includes('\r\n') ? '\r\n' : '\n' },
  });
  const updated = applyEdits(base, edits);
  if (!loadPolicyText(updated).ok) throw new Error('Adding the rule would make the policy invalid; nothing was written');
  return updated;
}

/** Suggestions waiting for a human, for the window (core: no `vscode`). */
export class SuggestionStore {
  private readonly items = new Map<string, RuleSuggestion>();
  private readonly added = new Emitter<RuleSuggestion>();
  readonly onDidAdd = this.added.event;

  add(suggestion: RuleSuggestion): void {
    // The same rule suggested twice is one suggestion.
    if ([...this.items.values()].some((s) => s.suggested.rule.id === suggestion.suggested.rule.id)) return;
    this.items.set(suggestion.id, suggestion);
    this.added.fire(suggestion);
  }

  all(): RuleSuggestion[] {
    return [...this.items.values()];
  }

  remove(id: string): void {
    this.items.delete(id);
  }

  dispose(): void {
    this.added.dispose();
  }
}

function ruleId(prefix: string, subject: string): string {
  const slug = subject
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 40);
  const hash = createHash('sha256').update(subject).digest('hex').slice(0, 6);
  return `${prefix}-${slug || 'x'}-${hash}`;
}
