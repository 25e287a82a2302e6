import type { Decision } from '../proposals/model';

/**
 * What the agent must learn that no protocol answer could tell it at the time: a write applied
 * with the reviewer's changes (hunks dropped, text edited), a change in its copy rejected and
 * restored. ACP's fs/write_text_file answer has no "written, but differently" and an agent's
 * own edits in its copy get no answer at all, so the truth travels with the next instruction.
 * Notes are kept in order, one per path (the latest wins), and taken once.
 */
export class AgentNotes {
  private readonly byPath = new Map<string, string>();

  add(path: string, note: string): void {
    this.byPath.delete(path);
    this.byPath.set(path, note);
  }

  get size(): number {
    return this.byPath.size;
  }

  /** The notes to put before the next instruction (oldest first); clears them. */
  take(): string[] {
    const notes = [...this.byPath.values()];
    this.byPath.clear();
    return notes;
  }
}

/** The instruction the agent receives: the human's text, after what Warden must tell it first. */
export function withNotes(instruction: string, notes: readonly string[]): string {
  if (notes.length === 0) return instruction;
  return `${notesMessage(SINCE_LAST_TURN, notes)}\n\n${instruction}`;
}

const SINCE_LAST_TURN =
  "Since your last turn, the reviewer decided on your changes differently from what you wrote. Read these files again before you edit them; do not redo or revert the reviewer's decision:";

/** The notes as one message from Warden after `lead` (what they are about and what to do), one line each. */
export function notesMessage(lead: string, notes: readonly string[]): string {
  return `[Warden] ${lead}\n${notes.map((n) => `- ${n}`).join('\n')}`;
}

/**
 * The note for a request the reviewer rejected with a reason the protocol's answer cannot carry
 * (an ACP permission answered reject_once, a Codex decline); undefined without a reason.
 */
export function rejectionNote(what: string, decision: Pick<Decision, 'verdict' | 'reviewer' | 'reason'>): string | undefined {
  if (decision.verdict !== 'reject' || !decision.reason) return undefined;
  const by =
    decision.reviewer.kind === 'policy'
      ? `the team policy (rule ${decision.reviewer.name})`
      : decision.reviewer.kind === 'warden'
        ? 'Warden'
        : 'the reviewer';
  return `${what} was rejected by ${by}: ${decision.reason}`;
}
