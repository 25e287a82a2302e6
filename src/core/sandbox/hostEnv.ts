/**
 * Which host environment variables may enter the sandbox (invariant 6: the agent is its own
 * principal). Only names on the allow-list pass, and credential-shaped names never do, even
 * when someone lists them: the refusal is reported, not silent.
 */

/** Passed into the container when set on the host, unless the caller gives its own list. */
export const DEFAULT_ENV_ALLOW_LIST: readonly string[] = ['LANG', 'LANGUAGE', 'LC_*', 'TZ', 'TERM'];

/** Never passed, whatever the allow-list says: agent sockets, engine access, credentials, cloud accounts. */
export const NEVER_PASSED: readonly string[] = [
  'SSH_AUTH_SOCK',
  'SSH_*',
  'DOCKER_*',
  'GIT_*',
  'GH_*',
  'GITHUB_*',
  'AWS_*',
  'GOOGLE_*',
  'AZURE_*',
  '*_TOKEN',
  '*_TOKEN_*',
  '*_SECRET',
  '*_SECRET_*',
  '*_PASSWORD',
  '*_API_KEY',
  '*CREDENTIAL*',
  'NPM_CONFIG__AUTH*',
];

export interface HostEnvironmentOptions {
  /** Variable names or `PREFIX*` / `*SUFFIX` patterns (default DEFAULT_ENV_ALLOW_LIST). */
  allowList?: readonly string[];
  /** The host environment to draw from (default process.env). */
  env?: Readonly<Record<string, string | undefined>>;
}

export interface HostEnvironment {
  /** Allow-listed host variables that are set: they enter the container's environment. */
  passed: Record<string, string>;
  /** Value of an allow-listed host variable for `${localEnv:NAME}`, or a reason it is refused. */
  lookup(name: string): { value: string } | { refused: string };
  /** Allow-list entries that are never honoured, with the reason (for the log). */
  refusedEntries: string[];
}

function matches(pattern: string, name: string): boolean {
  const re = new RegExp(
    `^${pattern
      .split('*')
      .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
      .join('.*')}$`,
    'i',
  );
  return re.test(name);
}

export function isNeverPassed(name: string): string | undefined {
  return NEVER_PASSED.find((pattern) => matches(pattern, name));
}

export function hostEnvironment(options: HostEnvironmentOptions = {}): HostEnvironment {
  const allowList = options.allowList ?? DEFAULT_ENV_ALLOW_LIST;
  const env = options.env ?? process.env;
  const allowed = (name: string): boolean => allowList.some((pattern) => matches(pattern, name));
  const passed: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) {
    if (value === undefined || !allowed(name) || isNeverPassed(name)) continue;
    passed[name] = value;
  }
  const refusedEntries = allowList.flatMap((entry) => {
    const never = isNeverPassed(entry.replace(/\*/g, 'X'));
    return never
      ? [
          `host environment: "${entry}" is on the allow-list but is never passed into the sandbox (it matches "${never}": agent sockets, Docker access and credentials stay on the host)`,
        ]
      : [];
  });
  return {
    passed,
    refusedEntries,
    lookup(name) {
      const never = isNeverPassed(name);
      if (never)
        return {
          refused: `"${name}" is never passed into the sandbox (it matches "${never}": agent sockets, Docker access and credentials stay on the host)`,
        };
      if (!allowed(name))
        return {
          refused: `"${name}" is not on the host environment allow-list (${allowList.join(', ') || 'empty'}); add it to the "warden.sandbox.environmentAllowList" setting to pass it`,
        };
      return { value: env[name] ?? '' };
    },
  };
}
