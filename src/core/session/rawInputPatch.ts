import { applyPatch, parsePatch } from 'diff';
import * as z from 'zod';

/**
 * Some agents (GitHub Copilot CLI) send an edit permission without ACP diff content: the
 * change is only a git-style unified diff in `rawInput` (`{ fileName, diff }`). Placed against
 * the current file, it becomes the same reviewable edit an ACP diff gives, so the reviewer sees
 * the change when asked, and the bytes that come back from the sandbox match the approval.
 */
const RawPatchInput = z.object({ fileName: z.string().min(1), diff: z.string().min(1) });

export interface RawInputPatch {
  /** The path as the agent named it (absolute, inside the container). */
  path: string;
  patch: string;
}

/** The patch an agent's rawInput carries, if it carries exactly one file's unified diff. */
export function rawInputPatch(rawInput: unknown): RawInputPatch | undefined {
  const parsed = RawPatchInput.safeParse(rawInput);
  if (!parsed.success) return undefined;
  let files;
  try {
    files = parsePatch(parsed.data.diff);
  } catch {
    return undefined; // not a diff Warden can read: reviewed as the agent's title alone
  }
  if (files.length !== 1 || files[0]!.hunks.length === 0) return undefined;
  return { path: parsed.data.fileName, patch: parsed.data.diff };
}

/** The file after the patch, applied to the current text exactly (no fuzz): what the agent will write, or why not. */
export function applyRawPatch(current: string | null, patch: string): { ok: true; newText: string } | { ok: false; reason: string } {
  const result = applyPatch(current ?? '', patch);
  return result === false ? { ok: false, reason: "the agent's diff does not match the current file" } : { ok: true, newText: result };
}
