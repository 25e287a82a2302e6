/**
 * Which proposals a reviewer may change before accepting (some hunks only, edited text, an
 * edited command). Only where Warden itself writes the bytes or runs the command and can tell
 * the agent what changed: an ACP `fs/write_text_file`, a change found in the sandbox copy, a
 * Codex patch (Warden writes the workspace, tells Codex in its turn and sets its copy to what
 * was written: see CodexApprovals), an ACP terminal. A Codex command is answered
 * accept/decline and Codex runs its own version, so changing it would report one thing and do
 * another. No imports: the webview uses this too.
 */

interface EditableShape {
  kind: string;
  origin: string;
  state: string;
  /** Edits: null for a create (it has a single hunk). */
  oldText?: string | null;
  sandboxChange?: { change: string; binary: boolean };
  /** Permissions: the edit the agent asks to make, when it carries one Warden could place. */
  edit?: { unlocated?: string | undefined } | undefined;
}

const WRITTEN_BY_WARDEN = new Set(['fs/write_text_file', 'sandbox/change', 'item/fileChange/requestApproval']);
const RUN_BY_WARDEN = new Set(['terminal/create']);

/** An edit whose text the reviewer may change (or keep only some hunks of). */
export function textIsEditable(proposal: EditableShape): boolean {
  if (proposal.kind !== 'edit' || proposal.state !== 'pending' || !WRITTEN_BY_WARDEN.has(proposal.origin)) return false;
  const change = proposal.sandboxChange;
  return !change || (!change.binary && change.change !== 'delete' && change.change !== 'symlink');
}

/** A command whose command line the reviewer may change before it runs. */
export function commandIsEditable(proposal: EditableShape): boolean {
  return proposal.kind === 'command' && proposal.state === 'pending' && RUN_BY_WARDEN.has(proposal.origin);
}

/**
 * A permission request that carries an edit Warden placed in the current file (ACP agents such
 * as Gemini ask with the whole-file diff, then write through fs/write_text_file or in the copy,
 * where Warden writes the bytes): the reviewer may accept some hunks or edited text of it, and
 * the write that carries it out lands as the reviewer accepted it.
 */
export function permissionEditIsEditable(proposal: EditableShape): boolean {
  return (
    proposal.kind === 'permission' &&
    proposal.state === 'pending' &&
    proposal.origin === 'session/request_permission' &&
    !!proposal.edit &&
    !proposal.edit.unlocated
  );
}
