import picomatch from 'picomatch';
import { gitSubcommand, type ShellWord } from './shell';

/**
 * The built-in classes: they ask whatever the rules say. A team may raise them to deny;
 * only an explicit, named override in the committed policy lowers one to allow.
 */

/** Protected paths: the policy itself, the audit log, git's data, editor and sandbox config, CI. */
export const PROTECTED_PATHS: ReadonlyArray<{ glob: string; what: string }> = [
  { glob: '.warden/policy.json', what: 'the team policy' },
  { glob: '.warden/audit/**', what: 'the audit log' },
  { glob: '.warden/audit', what: 'the audit log' },
  // Everything else Warden keeps there (saved undecided proposals, ...): a forged file could pose as Warden's own state.
  { glob: '.warden/**', what: "Warden's own state" },
  { glob: '**/.git/**', what: "git's data" },
  { glob: '**/.git', what: "git's data" },
  { glob: '.vscode/**', what: 'editor configuration' },
  { glob: '.devcontainer/**', what: 'the sandbox definition' },
  { glob: '.devcontainer.json', what: 'the sandbox definition' },
  { glob: '.github/workflows/**', what: 'CI configuration' },
  { glob: '.github/actions/**', what: 'CI configuration' },
  { glob: '.gitlab-ci.yml', what: 'CI configuration' },
  { glob: '.gitlab/ci/**', what: 'CI configuration' },
  { glob: '.ci/**', what: 'CI configuration' },
  { glob: '.circleci/**', what: 'CI configuration' },
  { glob: 'azure-pipelines.yml', what: 'CI configuration' },
  { glob: 'Jenkinsfile', what: 'CI configuration' },
  { glob: '.buildkite/**', what: 'CI configuration' },
  { glob: '.travis.yml', what: 'CI configuration' },
];

/**
 * The longest literal run of a glob, less slashes at its ends: every path the glob matches
 * contains it (`**\/.git/**` matches only paths containing ".git"), so most paths pass a
 * protected glob with one `includes` instead of its matcher. Globs with classes, braces,
 * extglobs or escapes get no literal (their matcher always runs).
 */
function requiredLiteral(glob: string): string {
  if (/[[\]{}()!+@\\]/.test(glob)) return '';
  const runs = glob.split(/[*?]+/).map((run) => run.replace(/^\/+|\/+$/g, ''));
  return runs.reduce((a, b) => (b.length > a.length ? b : a), '');
}

const protectedMatchers = PROTECTED_PATHS.map((p) => ({ ...p, literal: requiredLiteral(p.glob), test: picomatch(p.glob, { dot: true }) }));

/** Which protected path a workspace-relative path is, if any. */
export function protectedPath(path: string): { glob: string; what: string } | undefined {
  const hit = protectedMatchers.find((m) => path.includes(m.literal) && m.test(path));
  return hit ? { glob: hit.glob, what: hit.what } : undefined;
}

// Command names the classes look for (sets, built once).
const DELETERS = new Set(['rm', 'rmdir', 'unlink', 'shred', 'srm', 'wipe']);
const PACKAGE_MANAGERS = new Set(['npm', 'pnpm', 'yarn', 'bun']);
const DEPLOYERS = new Set([
  'kubectl',
  'helm',
  'terraform',
  'tofu',
  'pulumi',
  'cdk',
  'serverless',
  'sls',
  'vercel',
  'netlify',
  'fly',
  'flyctl',
  'heroku',
  'eb',
  'ansible-playbook',
  'skaffold',
  'kustomize',
  'firebase',
  'wrangler',
  'railway',
  'argocd',
]);
const DEPLOY_READ_ONLY = new Set([
  'get',
  'describe',
  'logs',
  'plan',
  'version',
  'help',
  '--help',
  'list',
  'ls',
  'status',
  'diff',
  'template',
  'lint',
  'validate',
  'fmt',
  'show',
  'whoami',
  'preview',
  'synth',
  'top',
  'explain',
]);
const CLOUDS = new Set(['aws', 'gcloud', 'az']);
const TASK_RUNNERS = new Set(['npm', 'pnpm', 'yarn', 'bun', 'make', 'just', 'rake', 'task', 'mise']);
const DATABASES = new Set([
  'psql',
  'mysql',
  'mariadb',
  'mongo',
  'mongosh',
  'sqlite3',
  'redis-cli',
  'cqlsh',
  'dropdb',
  'createdb',
  'pg_restore',
  'mysqladmin',
  'flyway',
  'liquibase',
  'sqitch',
  'dbmate',
  'goose',
  'migrate',
  'atlas',
]);
const MIGRATORS = new Set(['knex', 'sequelize', 'typeorm', 'drizzle-kit', 'alembic', 'diesel', 'sqlx']);

/**
 * An irreversible command class. `boundary`: it acts outside the sandbox (git push,
 * publishing, deploys, cloud and database changes go out through egress): it asks at least.
 * Otherwise it acts only inside the sandbox (rm, git reset --hard on the private copy): a
 * risk label for the reviewer, not a floor; what it changes comes back as a proposal.
 */
export interface IrreversibleClass {
  label: string;
  boundary: boolean;
}

/** Why a command is irreversible, or undefined. Dynamic words count as "could be": the class applies. */
export function irreversibleCommand(argv: ShellWord[]): IrreversibleClass | undefined {
  const why = irreversibleWhy(argv);
  if (why === undefined) return undefined;
  return { label: why, boundary: !SANDBOX_ONLY.some((re) => re.test(why)) };
}

/** Classes that act only on the sandbox's own files (the private copy, its read-only .git). */
const SANDBOX_ONLY: readonly RegExp[] = [
  /^deleting files/,
  /^overwriting data/,
  /^a command known only at run time$/,
  /^git (merge|pull|rebase|cherry-pick|rm|clean|reset|branch|tag|checkout|restore|stash|filter-branch|filter-repo|update-ref|gc|prune)\b/,
];

/** Whether any argument is one of `words`, or could be one (a dynamic word). A function, not a closure per call (issue 21, round 6). */
function has(args: readonly ShellWord[], ...words: string[]): boolean {
  return args.some((w) => w.dynamic || words.includes(w.text));
}

/** The first argument (a subcommand), `*` when it is known only at run time. */
function sub(args: readonly ShellWord[]): string | undefined {
  return args[0]?.dynamic ? '*' : args[0]?.text;
}

function irreversibleWhy(argv: ShellWord[]): string | undefined {
  const first = argv[0];
  if (!first) return undefined;
  if (first.dynamic) return 'a command known only at run time';
  const name = first.text.slice(first.text.lastIndexOf('/') + 1);
  const args = argv.slice(1);

  if (DELETERS.has(name)) return `deleting files (${name})`;
  if (name === 'find' && has(args, '-delete')) return 'deleting files (find -delete)';
  if (name === 'truncate' || name === 'dd') return `overwriting data (${name})`;

  if (name === 'git') {
    const dynamicSub = args.some((w) => w.dynamic) && gitSubcommand(args) === undefined;
    if (dynamicSub) return 'a git command known only at run time';
    const gitSub = gitSubcommand(args);
    if (gitSub === 'push') return 'git push';
    if (gitSub === 'merge' || gitSub === 'pull') return `git ${gitSub} (merges)`;
    if (gitSub === 'rebase' || gitSub === 'cherry-pick') return `git ${gitSub} (rewrites history)`;
    if (gitSub === 'rm' || gitSub === 'clean') return `git ${gitSub} (deletes files)`;
    if (gitSub === 'reset' && has(args, '--hard', '--merge', '--keep')) return 'git reset --hard';
    if ((gitSub === 'branch' || gitSub === 'tag') && has(args, '-d', '-D', '--delete')) return `git ${gitSub} --delete`;
    if (gitSub === 'checkout' && has(args, '--', '.', '-f', '--force')) return 'git checkout discarding changes';
    if (gitSub === 'restore') return 'git restore (discards changes)';
    if (gitSub === 'stash' && has(args, 'drop', 'clear')) return 'git stash drop';
    if (gitSub === 'filter-branch' || gitSub === 'filter-repo' || gitSub === 'update-ref' || gitSub === 'gc' || gitSub === 'prune')
      return `git ${gitSub}`;
    return undefined;
  }

  // Publishing packages and images.
  if (PACKAGE_MANAGERS.has(name) && has(args, 'publish', 'unpublish', 'deprecate', 'dist-tag')) return `publishing (${name} publish)`;
  if (name === 'cargo' && sub(args) !== undefined && ['publish', 'yank', 'owner'].includes(sub(args)!)) return 'publishing (cargo publish)';
  if (name === 'twine' && has(args, 'upload')) return 'publishing (twine upload)';
  if ((name === 'poetry' || name === 'flit' || name === 'hatch' || name === 'uv') && has(args, 'publish'))
    return `publishing (${name} publish)`;
  if (name === 'gem' && has(args, 'push', 'yank')) return 'publishing (gem push)';
  if ((name === 'docker' || name === 'podman' || name === 'buildah') && has(args, 'push')) return `publishing (${name} push)`;
  if ((name === 'vsce' || name === 'ovsx') && has(args, 'publish', 'unpublish')) return `publishing (${name} publish)`;
  if (name === 'gh' && (has(args, 'release') || (has(args, 'pr') && has(args, 'merge')) || (has(args, 'repo') && has(args, 'delete'))))
    return 'GitHub release, merge or delete (gh)';
  if (name === 'dotnet' && has(args, 'nuget') && has(args, 'push')) return 'publishing (dotnet nuget push)';
  if (name === 'mvn' && has(args, 'deploy', 'release:perform')) return 'publishing (mvn deploy)';
  if (name === 'gradle' || name === 'gradlew' || name === './gradlew') {
    if (args.some((w) => w.dynamic || /publish|upload/i.test(w.text))) return 'publishing (gradle publish)';
  }

  // Deploys.
  if (DEPLOYERS.has(name)) {
    if (args.length === 0 || args.some((w) => w.dynamic) || !DEPLOY_READ_ONLY.has(args.find((w) => !w.text.startsWith('-'))?.text ?? ''))
      return `deploying (${name})`;
    return undefined;
  }
  if (
    CLOUDS.has(name) &&
    args.some(
      (w) =>
        w.dynamic ||
        /^(deploy|delete|remove|rm|destroy|update|put|create|apply|terminate|s3)$/.test(w.text) ||
        /^(delete|put|update|create|terminate|remove)-/.test(w.text),
    )
  )
    return `changing cloud resources (${name})`;
  if (/deploy/i.test(name) || (TASK_RUNNERS.has(name) && args.some((w) => w.dynamic || /deploy|release|publish|migrat/i.test(w.text)))) {
    return `deploying, releasing or migrating (${[name, ...args.map((w) => w.text)].join(' ').slice(0, 60)})`;
  }
  if (name === 'cap' || name === 'capistrano') return 'deploying (capistrano)';

  // Databases and migrations.
  if (DATABASES.has(name)) return `database command (${name})`;
  if (name === 'prisma' && has(args, 'migrate', 'db')) return 'database migration (prisma)';
  if (MIGRATORS.has(name) && args.some((w) => w.dynamic || /migrat|upgrade|downgrade|db:|push|drop|revert|rollback|seed/.test(w.text)))
    return `database migration (${name})`;
  if ((name === 'rails' || name === 'rake' || name === 'bin/rails') && args.some((w) => w.dynamic || /^db:/.test(w.text)))
    return `database migration (${name})`;
  if (
    ['python', 'python3'].includes(name) &&
    args[0]?.text.endsWith('manage.py') &&
    has(args, 'migrate', 'flush', 'sqlflush', 'dbshell', 'loaddata')
  )
    return 'database migration (manage.py)';
  if (name === 'manage.py' && has(args, 'migrate', 'flush', 'dbshell')) return 'database migration (manage.py)';
  if (name === 'npx' || name === 'pnpx' || name === 'bunx') {
    const tool = args.find((w) => !w.text.startsWith('-'));
    if (!tool || tool.dynamic) return `a tool run by ${name} known only at run time`;
    return irreversibleWhy(args.slice(args.indexOf(tool)));
  }
  return undefined;
}
