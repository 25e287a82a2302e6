import { configureAuditRedaction, MIN_SECRET_VALUE_LENGTH, type RedactionConfig } from '../audit/redact';

/**
 * The environment variables whose values never reach the audit log: the default of the
 * `warden.audit.redact.envVars` setting (package.json repeats it; a test keeps them equal) and
 * what `warden run` masks.
 */
export const REDACTED_ENV_VARS: readonly string[] = [
  'OPENAI_API_KEY',
  'ANTHROPIC_API_KEY',
  'GEMINI_API_KEY',
  'GOOGLE_API_KEY',
  'GITHUB_TOKEN',
  'GH_TOKEN',
  'NPM_TOKEN',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_SESSION_TOKEN',
];

/** The host's secrets that are masked in every audit entry this process writes. */
export interface AuditSecrets {
  /** The environment the values are read from (the extension host's, the CLI's). */
  env: Readonly<Record<string, string | undefined>>;
  /** Variables whose values are masked; default REDACTED_ENV_VARS. */
  envVars?: readonly string[];
  /** Extra regular expressions (`warden.audit.redact.patterns`). */
  patterns?: readonly string[];
}

/** What is masked now, for a log line (counts only, never values). */
export interface AuditSecretsSummary {
  /** Variables of `envVars` that have a value in `env`. */
  envValues: number;
  envVars: number;
  patterns: number;
  /** Agent secrets (API keys, `--secret-env`) of this process's sessions. */
  agentSecrets: number;
}

let host: AuditSecrets = { env: {}, envVars: [] };
/** Agent secrets stay masked for the life of the process: masking more than needed is safe. */
const agentSecretValues = new Set<string>();

/**
 * Configures the process's audit redaction (`configureAuditRedaction`) from the host's secrets
 * and the agent's (`agentEnv`, its API key and `--secret-env` values, should the agent echo one
 * back). The one place both the editor and the CLI configure it: at activation and on a
 * settings change (the editor), and at each session start (the session assembly).
 *
 * A bad pattern throws RedactionConfigError; the previous host secrets stay in force, and the
 * agent's are masked all the same.
 */
export function configureAuditSecrets(secrets: AuditSecrets, agentEnv?: Readonly<Record<string, string>>): AuditSecretsSummary {
  for (const value of Object.values(agentEnv ?? {})) if (value.length >= MIN_SECRET_VALUE_LENGTH) agentSecretValues.add(value);
  try {
    configureAuditRedaction(redactionConfig(secrets));
    host = secrets;
  } catch (error) {
    configureAuditRedaction(redactionConfig(host));
    throw error;
  }
  const envVars = secrets.envVars ?? REDACTED_ENV_VARS;
  return {
    envValues: envVars.filter((name) => typeof secrets.env[name] === 'string').length,
    envVars: envVars.length,
    patterns: secrets.patterns?.length ?? 0,
    agentSecrets: agentSecretValues.size,
  };
}

function redactionConfig(secrets: AuditSecrets): RedactionConfig {
  const envValues = (secrets.envVars ?? REDACTED_ENV_VARS)
    .map((name) => secrets.env[name])
    .filter((v): v is string => typeof v === 'string');
  return { values: [...envValues, ...agentSecretValues], patterns: secrets.patterns ?? [] };
}
