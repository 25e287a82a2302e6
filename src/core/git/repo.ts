import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { simpleGit, type SimpleGit } from 'simple-git';

/** Environment variables Warden itself sets for git (simple-git blocks every other GIT_*). */
const WARDEN_GIT_ENV = [
  'GIT_INDEX_FILE',
  'GIT_AUTHOR_NAME',
  'GIT_AUTHOR_EMAIL',
  'GIT_AUTHOR_DATE',
  'GIT_COMMITTER_NAME',
  'GIT_COMMITTER_EMAIL',
  'GIT_COMMITTER_DATE',
];

export interface GitIdentity {
  name: string;
  email: string;
}

/** A git identity as `Name <email>`. */
export function formatIdentity(identity: GitIdentity): string {
  return `${identity.name} <${identity.email}>`;
}

/** Parses `Name <email>`; undefined when it is not that shape. */
export function parseIdentity(text: string): GitIdentity | undefined {
  const match = /^\s*([^<>]+?)\s*<([^<>\s]+@[^<>\s]+)>\s*$/.exec(text);
  return match ? { name: match[1]!, email: match[2]! } : undefined;
}

/**
 * The repository a workspace folder is in, seen from that folder: git runs with the folder
 * as its working directory, so pathspecs are folder-relative; `prefix` turns them into
 * repository paths (`git show <commit>:<prefix><path>`).
 */
export class GitRepo {
  private constructor(
    readonly workspaceRoot: string,
    readonly toplevel: string,
    /** The workspace folder relative to the repository root, with a trailing `/`, or ''. */
    readonly prefix: string,
    readonly gitDir: string,
  ) {}

  /**
   * The repository containing `workspaceRoot`; undefined when there is none (or git is missing).
   * Asked once and remembered while the `.git` entries it rests on stay as they were (see
   * `located`): a session's start asks from several places, and each git run forks the
   * extension host, holding its event loop for 10-20 ms (issue 21).
   */
  static async open(workspaceRoot: string): Promise<GitRepo | undefined> {
    const known = located.get(workspaceRoot);
    if (known) {
      const found = await known;
      if (await stillLocated(found)) return found.repo;
      if (located.get(workspaceRoot) === known) located.delete(workspaceRoot);
    }
    const asked = locate(workspaceRoot);
    located.set(workspaceRoot, asked);
    return (await asked).repo;
  }

  /** Asks git where the repository is (no cache). */
  static async locate(workspaceRoot: string): Promise<GitRepo | undefined> {
    try {
      const out = await client(workspaceRoot)
        .env(cleanProcessEnv())
        .raw(['rev-parse', '--show-toplevel', '--show-prefix', '--absolute-git-dir']);
      const [toplevel, prefix, gitDir] = out.split('\n');
      if (!toplevel || gitDir === undefined) return undefined;
      return new GitRepo(workspaceRoot, toplevel, prefix ?? '', gitDir);
    } catch {
      return undefined;
    }
  }

  /** Runs git in the workspace folder; `env` adds Warden's own GIT_* variables. */
  async run(args: string[], env: Record<string, string> = {}): Promise<string> {
    // Editors (VS Code's git extension) refresh the index all the time: wait out their lock briefly.
    for (let attempt = 0; ; attempt++) {
      try {
        return await client(this.workspaceRoot)
          .env({ ...cleanProcessEnv(), ...env })
          .raw(args);
      } catch (error) {
        const busy = /index\.lock': File exists|Unable to create .*\.lock/.test(error instanceof Error ? error.message : String(error));
        if (!busy || attempt >= 30) throw error;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
  }

  /** Raw bytes of a blob, e.g. `commit:path`; undefined when it does not exist. */
  async blob(spec: string): Promise<Buffer | undefined> {
    let bytes: unknown;
    try {
      bytes = await client(this.workspaceRoot).env(cleanProcessEnv()).binaryCatFile(['blob', spec]);
    } catch {
      return undefined;
    }
    // simple-git types this as any: check it is the Buffer it should be.
    if (!Buffer.isBuffer(bytes)) throw new Error(`git cat-file gave ${typeof bytes}, not bytes`);
    return bytes;
  }

  async currentBranch(): Promise<string | undefined> {
    const out = await this.run(['symbolic-ref', '--quiet', '--short', 'HEAD']).catch(() => '');
    return out.trim() || undefined;
  }

  async head(): Promise<string | undefined> {
    return this.resolve('HEAD');
  }

  async resolve(rev: string): Promise<string | undefined> {
    const out = await this.run(['rev-parse', '--verify', '--quiet', `${rev}^{commit}`]).catch(() => '');
    return out.trim() || undefined;
  }

  /** Folder-relative path to a repository path. */
  repoPath(relativePath: string): string {
    return `${this.prefix}${relativePath}`;
  }

  /**
   * Runs `fn` with a private index file (GIT_INDEX_FILE), so staging for a checkpoint or a
   * commit never touches the user's index. The file is removed afterwards.
   */
  async withTempIndex<T>(fn: (env: Record<string, string>) => Promise<T>): Promise<T> {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'warden-index-'));
    try {
      return await fn({ GIT_INDEX_FILE: path.join(dir, 'index') });
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  }

  /** What is in progress (merge, rebase, cherry-pick, revert, bisect); undefined when nothing. */
  async operationInProgress(): Promise<string | undefined> {
    const markers: Array<[string, string]> = [
      ['MERGE_HEAD', 'a merge'],
      ['rebase-merge', 'a rebase'],
      ['rebase-apply', 'a rebase or git am'],
      ['CHERRY_PICK_HEAD', 'a cherry-pick'],
      ['REVERT_HEAD', 'a revert'],
      ['BISECT_LOG', 'a bisect'],
    ];
    for (const [marker, what] of markers) {
      if (
        await fs.stat(path.join(this.gitDir, marker)).then(
          () => true,
          () => false,
        )
      )
        return what;
    }
    return undefined;
  }
}

/**
 * Where git found a folder's repository, and what that answer rests on: whether each folder
 * from the workspace up to the file system's root had a `.git` entry. Git finds a repository
 * by those entries (Warden runs it without GIT_DIR and friends), so while they and the git dir
 * are as they were, so is the answer.
 */
interface Located {
  repo: GitRepo | undefined;
  marks: Array<{ path: string; present: boolean }>;
}

const located = new Map<string, Promise<Located>>();

async function locate(workspaceRoot: string): Promise<Located> {
  // The marks are read before git runs: a change between the two makes the next check miss.
  const marks = await dotGitMarks(workspaceRoot);
  return { repo: await GitRepo.locate(workspaceRoot), marks };
}

async function stillLocated(found: Located): Promise<boolean> {
  const now = await Promise.all(found.marks.map((mark) => exists(mark.path)));
  if (now.some((present, i) => present !== found.marks[i]!.present)) return false;
  return found.repo === undefined || (await exists(found.repo.gitDir));
}

/** `<folder>/.git` for the folder and each one above it, and whether it is there. */
async function dotGitMarks(folder: string): Promise<Array<{ path: string; present: boolean }>> {
  const paths: string[] = [];
  for (let dir = path.resolve(folder); ; dir = path.dirname(dir)) {
    paths.push(path.join(dir, '.git'));
    if (path.dirname(dir) === dir) break;
  }
  return Promise.all(paths.map(async (p) => ({ path: p, present: await exists(p) })));
}

function exists(file: string): Promise<boolean> {
  return fs.lstat(file).then(
    () => true,
    () => false,
  );
}

function client(baseDir: string): SimpleGit {
  return simpleGit({ baseDir, allowEnvironment: WARDEN_GIT_ENV, timeout: { block: 60_000 } });
}

/**
 * The few variables git needs to find itself, its config and a temp folder. Everything else
 * (a hook's GIT_DIR, EDITOR, PAGER, askpass helpers) stays out of Warden's own git runs.
 */
const PASSED_ENV =
  /^(PATH|HOME|USER|LOGNAME|LANG|LC_[A-Z]+|TMPDIR|TEMP|TMP|TZ|XDG_CONFIG_HOME|SYSTEMROOT|COMSPEC|PATHEXT|APPDATA|USERPROFILE|HOMEDRIVE|HOMEPATH)$/i;

function cleanProcessEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) if (value !== undefined && PASSED_ENV.test(key)) env[key] = value;
  return env;
}
