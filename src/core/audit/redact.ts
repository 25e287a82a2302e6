/**
 * Masks obvious secrets before they reach the (committed, shareable) audit log. Deliberately
 * simple: well-known token shapes inside strings, and string values under secret-named keys.
 */

interface SecretPattern {
  label: string;
  re: RegExp;
  /**
   * A regular expression source every match of `re` also matches (ignoring case): one scan for
   * all the hints tells the strings without any secret shape, most of them, to skip the patterns.
   */
  hint: string;
  /** Replacement; defaults to `[REDACTED:<label>]`. */
  replace?: string;
}

export const SECRET_PATTERNS: readonly SecretPattern[] = [
  {
    label: 'private-key',
    hint: '-----BEGIN ',
    re: /-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z0-9 ]*PRIVATE KEY-----|$)/g,
  },
  // `$1` keeps the header and scheme so the entry still says what kind of credential was sent.
  { label: 'auth', hint: 'authorization:', re: /\b(Authorization:\s*[A-Za-z]+)\s+[^\s"',;]+/gi, replace: '$1 [REDACTED:auth]' },
  // Case-sensitive and long enough not to eat prose like "bearer of bad news".
  { label: 'auth', hint: 'bearer', re: /\bBearer\s+[A-Za-z0-9._~+/-]{16,}=*/g, replace: 'Bearer [REDACTED:auth]' },
  { label: 'api-key', hint: 'sk-', re: /\bsk-[A-Za-z0-9_-]{16,}/g },
  { label: 'github-token', hint: 'gh[pousr]_|github_pat_', re: /\b(?:gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,})/g },
  { label: 'aws-key', hint: 'akia|asia', re: /\b(?:AKIA|ASIA)[0-9A-Z]{16}\b/g },
  { label: 'slack-token', hint: 'xox[abposr]-', re: /\bxox[abposr]-[A-Za-z0-9-]{10,}/g },
  { label: 'google-api-key', hint: 'aiza', re: /\bAIza[0-9A-Za-z_-]{35}/g },
];

/** Matches wherever any built-in pattern could (a superset): a string it does not match has none of their shapes. */
export const SECRET_HINTS = new RegExp(SECRET_PATTERNS.map(({ hint }) => hint).join('|'), 'i');

/** Keys whose string values are secrets whatever they look like. */
const SECRET_KEY_RE =
  /^(?:password|passwd|secret|client[_-]?secret|api[_-]?key|access[_-]?token|refresh[_-]?token|auth[_-]?token|authorization|private[_-]?key)$/i;

/**
 * Secrets configured by the user (settings, CLI flags): literal values (e.g. the values of
 * named environment variables) and extra regular expressions, masked on top of the built-in
 * shapes.
 */
export interface RedactionConfig {
  /** Literal secret values; values shorter than 6 characters are ignored (they would mask ordinary text). */
  values?: readonly string[];
  /** Regular expression sources (JavaScript syntax), matched globally. */
  patterns?: readonly string[];
}

/** A configured pattern that is not a valid regular expression. */
export class RedactionConfigError extends Error {
  constructor(
    readonly pattern: string,
    detail: string,
  ) {
    super(`Invalid audit redaction pattern ${JSON.stringify(pattern)}: ${detail}`);
    this.name = 'RedactionConfigError';
  }
}

export const MIN_SECRET_VALUE_LENGTH = 6;

export interface CompiledRedaction {
  values: string[];
  patterns: RegExp[];
}

/** Checks and compiles a configuration; throws RedactionConfigError on a bad pattern. */
export function compileRedaction(config: RedactionConfig = {}): CompiledRedaction {
  // Longest first, so a secret that contains another is masked whole.
  const values = [...new Set(config.values ?? [])].filter((v) => v.length >= MIN_SECRET_VALUE_LENGTH).sort((a, b) => b.length - a.length);
  const patterns = (config.patterns ?? []).map((source) => {
    try {
      const re = new RegExp(source, 'g');
      if (re.test('')) throw new Error('it matches the empty string');
      return re;
    } catch (error) {
      throw new RedactionConfigError(source, error instanceof Error ? error.message : String(error));
    }
  });
  return { values, patterns };
}

let processRedaction: CompiledRedaction = { values: [], patterns: [] };

/**
 * Sets the configured secrets every audit append of this process masks (the editor and the CLI
 * call it through `configureAuditSecrets`, session/auditSecrets.ts). Throws on a bad pattern and keeps the old one.
 */
export function configureAuditRedaction(config: RedactionConfig): void {
  processRedaction = compileRedaction(config);
}

export function redactString(text: string, extra: CompiledRedaction = processRedaction): string {
  let out = text;
  for (const value of extra.values) if (out.includes(value)) out = out.split(value).join('[REDACTED:configured]');
  for (const re of extra.patterns) out = out.replace(re, '[REDACTED:configured]');
  if (!SECRET_HINTS.test(out)) return out;
  for (const { label, re, replace } of SECRET_PATTERNS) out = out.replace(re, replace ?? `[REDACTED:${label}]`);
  return out;
}

/**
 * A JSON-safe copy of `value` with secrets masked: the built-in shapes, secret-named keys and
 * the configured secrets (`configureAuditRedaction`, or `extra`). Also makes the value
 * serializable (bigint -> string, Error -> {name, message}, cycles cut) so an audit append
 * never throws on it.
 */
export function redactSecrets<T>(value: T, extra?: RedactionConfig): T {
  return walk(value, new WeakSet(), extra ? compileRedaction(extra) : processRedaction) as T;
}

/** `redactSecrets` with an already compiled configuration (undefined: the process's). */
export function redactSecretsWith<T>(value: T, compiled: CompiledRedaction | undefined): T {
  return walk(value, new WeakSet(), compiled ?? processRedaction) as T;
}

function walk(value: unknown, seen: WeakSet<object>, extra: CompiledRedaction): unknown {
  if (typeof value === 'string') return redactString(value, extra);
  if (typeof value === 'bigint') return value.toString();
  if (value === null || typeof value !== 'object') return value;
  if (value instanceof Date) return value.toISOString();
  if (seen.has(value)) return '[Circular]';
  seen.add(value);
  try {
    if (Array.isArray(value)) return value.map((item) => walk(item, seen, extra));
    if (value instanceof Error) return { name: value.name, message: redactString(value.message, extra) };
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) {
      out[key] = typeof item === 'string' && SECRET_KEY_RE.test(key) && item.length > 0 ? '[REDACTED]' : walk(item, seen, extra);
    }
    return out;
  } finally {
    // Only ancestors count as cycles; the same object twice in siblings is fine.
    seen.delete(value);
  }
}
