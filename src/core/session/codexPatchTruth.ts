import { unifiedDiff } from '../proposals/diff';
import type { ApplyOutcome } from './gate';

/** One file of an approved Codex patch as Warden wrote it in the real workspace. */
export interface LandedFile {
  proposalId: string;
  path: string;
  /** What Codex's patch makes of the file (the edit the reviewer was shown). */
  proposed: string;
  /** What was written. */
  text: string;
  /** How it differs from `proposed`, in words; undefined when it is Codex's own text. */
  summary: string | undefined;
}

/** How Codex sees the workspace: read-only (its own apply cannot write), or a private copy (its apply writes there). */
export type CodexView = 'readonly' | 'copy';

/** The diff shown to Codex of what the reviewer changed in its version is cut here (the file is there to read). */
const MAX_CHANGE_DIFF = 3000;

/** The file as an applied outcome left it; undefined when the outcome wrote no text (never for a Codex patch). */
export function landedFile(proposal: { id: string; path: string; newText: string }, outcome: ApplyOutcome): LandedFile | undefined {
  if (outcome.kind !== 'applied' || outcome.text === null) return undefined;
  const summary =
    outcome.change?.summary ??
    (outcome.text !== proposal.newText ? `the file had changed, so your change was re-applied onto it as it is now` : undefined);
  return { proposalId: proposal.id, path: proposal.path, proposed: proposal.newText, text: outcome.text, summary };
}

/**
 * Whether Codex's own view of the file is wrong after its `accept`: in the copy, only when the
 * reviewer changed the patch (Codex applied its own version there); read-only, always (its own
 * apply cannot write, and reports a failure although Warden wrote the file).
 */
export function codexMisinformed(file: LandedFile, view: CodexView): boolean {
  return view === 'readonly' || file.summary !== undefined;
}

/**
 * What Codex must learn about one file of its accepted patch: that the write happened, how it
 * differs from what it wrote (the reviewer's changes as a diff against its version), and that
 * its apply_patch result is not the whole story. Undefined when Codex already knows the truth.
 */
export function landedNote(file: LandedFile, view: CodexView): string | undefined {
  if (!codexMisinformed(file, view)) return undefined;
  const how = file.summary ? `with the reviewer's changes (${file.summary})` : 'as you wrote it';
  const where =
    view === 'copy'
      ? 'your copy now holds what was written'
      : 'your workspace is read-only, so your own apply could not write it and may have reported a failure, but the file already holds ' +
        (file.summary ? 'what the reviewer accepted' : 'your change');
  const diff = file.summary ? changeDiff(file) : '';
  return `${file.path} was written by Warden ${how}; ${where}.${diff ? ` The reviewer's changes to your version:\n${diff}` : ''}`;
}

/** The note for a file written although Codex was told its patch was declined (another file of it could not be applied). */
export function declinedButWrittenNote(file: LandedFile, why: string): string {
  const how = file.summary ? `with the reviewer's changes (${file.summary})` : 'as you wrote it';
  return `${file.path} was written by Warden ${how}, although your patch was answered as declined: another file of it could not be applied (${why}). Do not apply ${file.path} again.`;
}

/** The lead of the message that goes into Codex's running turn after its patch is accepted. */
export const PATCH_LEAD =
  'About the patch you just applied: Warden wrote it to the real workspace itself, and your apply_patch result does not tell the whole story. Read these files again before you edit them; do not apply the patch again or revert what was written:';

function changeDiff(file: LandedFile): string {
  const diff = unifiedDiff(file.path, file.proposed, file.text)
    .split('\n')
    .filter((line) => !line.startsWith('Index:') && !/^={5,}$/.test(line))
    .join('\n')
    .trimEnd();
  return diff.length > MAX_CHANGE_DIFF ? `${diff.slice(0, MAX_CHANGE_DIFF)}\n… (cut; read the file)` : diff;
}
