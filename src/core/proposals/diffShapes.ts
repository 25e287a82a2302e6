/**
 * ACP diff content arrives in two shapes: whole files (Gemini CLI sends the full old and new
 * file) and hunk fragments (codex-acp sends only the changed lines with a little context).
 * The reviewer must always see a diff against the whole current file, so a fragment is put
 * back into the file it came from.
 */
export function wholeFileAfter(current: string | null, agentOldText: string | null | undefined, agentNewText: string): string {
  // A create, or the agent sent the whole file (or no old side): its new text is the file.
  if (current === null || agentOldText === null || agentOldText === undefined || agentOldText === current) return agentNewText;
  const at = current.indexOf(agentOldText);
  // A fragment that is absent or ambiguous cannot be placed; the agent's text is shown as the file.
  if (agentOldText === '' || at < 0 || current.indexOf(agentOldText, at + 1) >= 0) return agentNewText;
  return current.slice(0, at) + agentNewText + current.slice(at + agentOldText.length);
}
