import { gitAt } from './gitLinks';

/**
 * What the Audit panel blames when the lead names nothing: the current branch's own commits,
 * against its upstream when it has one, else against `main` (or `master`); HEAD alone when the
 * branch has nothing of its own (on main itself, or everything pushed).
 */
export async function defaultBlameTarget(workspaceRoot: string): Promise<string> {
  const g = gitAt(workspaceRoot);
  const ok = (args: string[]): Promise<string | undefined> =>
    g.raw(args).then(
      (out) => out.trim() || undefined,
      () => undefined,
    );
  const ahead = async (base: string): Promise<boolean> => Number((await ok(['rev-list', '--count', `${base}..HEAD`])) ?? 0) > 0;
  const upstream = await ok(['rev-parse', '--abbrev-ref', '--symbolic-full-name', '@{upstream}']);
  if (upstream && (await ahead(upstream))) return `${upstream}..HEAD`;
  for (const base of ['main', 'master']) {
    if ((await ok(['rev-parse', '--verify', '--quiet', `refs/heads/${base}`])) && (await ahead(base))) return `${base}..HEAD`;
  }
  return 'HEAD';
}
