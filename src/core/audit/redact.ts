/**
 * Masks obvious secrets before they reach the (committed, shareable) audit log. Deliberately
 * simple: well-known token shapes inside strings, and string values under secret-named keys.
 */

interface SecretPattern {
  label: string;
  re: RegExp;
  /** Replacement; defaults to `[REDACTED:<label>]`. */
  replace?: string;
}

const SECRET_PATTERNS: SecretPattern[] = [
  { label: 'private-key', re: /-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z0-9 ]*PRIVATE KEY-----|$)/g },
  // `$1` keeps the header and scheme so the entry still says what kind of credential was sent.
  { label: 'auth', re: /\b(Authorization:\s*[A-Za-z]+)\s+[^\s"',;]+/gi, replace: '$1 [REDACTED:auth]' },
  // Case-sensitive and long enough not to eat prose like "bearer of bad news".
  { label: 'auth', re: /\bBearer\s+[A-Za-z0-9._~+/-]{16,}=*/g, replace: 'Bearer [REDACTED:auth]' },
  { label: 'api-key', re: /\bsk-[A-Za-z0-9_-]{16,}/g },
  { label: 'github-token', re: /\b(?:gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,})/g },
  { label: 'aws-key', re: /\b(?:AKIA|ASIA)[0-9A-Z]{16}\b/g },
  { label: 'slack-token', re: /\bxox[abposr]-[A-Za-z0-9-]{10,}/g },
  { label: 'google-api-key', re: /\bAIza[0-9A-Za-z_-]{35}/g },
];

/** Keys whose string values are secrets whatever they look like. */
const SECRET_KEY_RE = /^(?:password|passwd|secret|client[_-]?secret|api[_-]?key|access[_-]?token|refresh[_-]?token|auth[_-]?token|authorization|private[_-]?key)$/i;

export function redactString(text: string): string {
  let out = text;
  for (const { label, re, replace } of SECRET_PATTERNS) out = out.replace(re, replace ?? `[REDACTED:${label}]`);
  return out;
}

/**
 * A JSON-safe copy of `value` with secrets masked. Also makes the value serializable
 * (bigint -> string, Error -> {name, message}, cycles cut) so an audit append never throws on it.
 */
export function redactSecrets<T>(value: T): T {
  return walk(value, new WeakSet()) as T;
}

function walk(value: unknown, seen: WeakSet<object>): unknown {
  if (typeof value === 'string') return redactString(value);
  if (typeof value === 'bigint') return value.toString();
  if (value === null || typeof value !== 'object') return value;
  if (value instanceof Date) return value.toISOString();
  if (seen.has(value)) return '[Circular]';
  seen.add(value);
  try {
    if (Array.isArray(value)) return value.map((item) => walk(item, seen));
    if (value instanceof Error) return { name: value.name, message: redactString(value.message) };
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) {
      out[key] = typeof item === 'string' && SECRET_KEY_RE.test(key) && item.length > 0 ? '[REDACTED]' : walk(item, seen);
    }
    return out;
  } finally {
    // Only ancestors count as cycles; the same object twice in siblings is fine.
    seen.delete(value);
  }
}
