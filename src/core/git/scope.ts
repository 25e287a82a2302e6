import * as path from 'node:path';
import * as z from 'zod';
import { matchesBranchGlob, matchesPathGlob } from './glob';

/**
 * What a session may touch. Every list narrows: a write must be in one of `folders` (when
 * given), land on a branch matching one of `branches` (when given), match one of `include`
 * (when given) and none of `exclude`.
 */
export const scopeRulesSchema = z.object({
  /** Workspace folders of a multi-root workspace, by name or absolute path. */
  folders: z.array(z.string().min(1)).optional(),
  /** Branch globs (`warden/*`, `feature/*`) the checked-out branch must match when a write is proposed. */
  branches: z.array(z.string().min(1)).optional(),
  /** Path globs relative to the workspace folder (`src/**`, `*.md`, `docs/`). */
  include: z.array(z.string().min(1)).optional(),
  exclude: z.array(z.string().min(1)).optional(),
});
export type ScopeRules = z.infer<typeof scopeRulesSchema>;

/**
 * One source of scope rules: `settings` (the user's `warden.session.scope`), `policy` (the
 * team's `.warden/policy.json`), or a caller's own name. Layers only ever narrow each other,
 * so a user's settings can tighten the team policy, never loosen it.
 */
export interface ScopeLayer {
  source: string;
  rules: ScopeRules;
}

/** A write the agent wants, as the scope sees it. */
export interface WriteTarget {
  /** Name and absolute path of the workspace folder the file is in. */
  folder: { name: string; path: string };
  /** Path relative to that folder, forward slashes. */
  path: string;
  /** Checked-out branch; undefined when detached, not a repository, or unknown. */
  branch: string | undefined;
}

export type ScopeVerdict = { allowed: true } | { allowed: false; rule: string; reason: string };

export class SessionScope {
  constructor(readonly layers: readonly ScopeLayer[] = []) {}

  static unrestricted(): SessionScope {
    return new SessionScope([]);
  }

  /** A new scope with another layer (for example the policy's) narrowing this one. */
  with(layer: ScopeLayer): SessionScope {
    return new SessionScope([...this.layers, layer]);
  }

  get restricted(): boolean {
    return this.layers.some(({ rules }) => Boolean(rules.folders || rules.branches || rules.include || rules.exclude));
  }

  /** The first rule, in layer order, that refuses the write; or allowed. */
  check(target: WriteTarget): ScopeVerdict {
    for (const { source, rules } of this.layers) {
      const refuse = (rule: string, reason: string): ScopeVerdict => ({ allowed: false, rule: `${source}:scope.${rule}`, reason });
      if (rules.folders && !rules.folders.some((f) => sameFolder(f, target.folder))) {
        return refuse(
          'folders',
          `${target.path} is in the workspace folder "${target.folder.name}", outside the folders this session may touch (${rules.folders.join(', ')})`,
        );
      }
      if (rules.branches) {
        const branch = target.branch;
        if (branch === undefined) {
          return refuse(
            'branches',
            `this session may only write on branches ${rules.branches.join(', ')}, and no branch is checked out in "${target.folder.name}"`,
          );
        }
        if (!rules.branches.some((glob) => matchesBranchGlob(branch, glob))) {
          return refuse(
            'branches',
            `the checked-out branch "${branch}" is not one this session may write on (${rules.branches.join(', ')})`,
          );
        }
      }
      const excluded = rules.exclude?.find((pattern) => matchesPathGlob(target.path, pattern));
      if (excluded !== undefined) return refuse('exclude', `${target.path} matches the excluded pattern "${excluded}"`);
      if (rules.include && !rules.include.some((pattern) => matchesPathGlob(target.path, pattern))) {
        return refuse('include', `${target.path} matches none of the patterns this session may touch (${rules.include.join(', ')})`);
      }
    }
    return { allowed: true };
  }
}

function sameFolder(entry: string, folder: { name: string; path: string }): boolean {
  if (path.isAbsolute(entry)) return path.resolve(entry) === path.resolve(folder.path);
  return entry === folder.name;
}

/**
 * What the proposal handlers ask before creating a write proposal; the session implements it
 * with the current branch read from git at that moment.
 */
export interface WriteScope {
  checkWrite(relativePath: string): Promise<ScopeVerdict>;
}
