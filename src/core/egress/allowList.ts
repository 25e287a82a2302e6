import { isIP } from 'node:net';

/**
 * The egress allow-list of the team policy (`network.allow`), as the proxy applies it.
 * Matching is by name: `host` is a DNS name, `*.example.com` (any name below example.com,
 * not example.com itself), or an IP literal. Names are compared lowercased, without a
 * trailing dot; IP literals in their canonical form (WHATWG URL host parsing, so `127.1`,
 * `0x7f.0.0.1` and `[::0:1]` all mean what a connect would reach).
 */

/** Ports a rule without `ports` allows: HTTPS and plain HTTP. */
export const DEFAULT_PORTS: readonly number[] = [443, 80];

export interface AllowRule {
  host: string;
  ports?: number[] | undefined;
}

/** A rule, checked and normalized once when the proxy starts. */
export interface CompiledRule {
  /** e.g. `network.allow[0]`: names the rule in audit entries and refusals. */
  id: string;
  /** The rule as written in the policy. */
  host: string;
  kind: 'name' | 'wildcard' | 'ip';
  /** Normalized: lowercased name, the suffix after `*.` (with its dot), or a canonical IP. */
  pattern: string;
  ports: readonly number[];
}

export interface Target {
  /** Normalized host: lowercased name without trailing dot, or a canonical IP (IPv6 without brackets). */
  host: string;
  port: number;
  isIp: boolean;
}

export type TargetParse = { ok: true; target: Target } | { ok: false; reason: string };

export type MatchResult = { allowed: true; rule: CompiledRule } | { allowed: false; reason: string };

/** Compiles the policy's rules; a malformed rule is reported (and allows nothing). */
export function compileRules(rules: readonly AllowRule[]): { rules: CompiledRule[]; problems: string[] } {
  const compiled: CompiledRule[] = [];
  const problems: string[] = [];
  rules.forEach((rule, index) => {
    const id = `network.allow[${index}]`;
    const ports = rule.ports && rule.ports.length > 0 ? [...rule.ports] : [...DEFAULT_PORTS];
    const raw = rule.host.trim();
    if (raw.startsWith('*.')) {
      const suffix = normalizeName(raw.slice(2));
      if (!suffix.ok) problems.push(`${id}: "${rule.host}" is not a valid wildcard (${suffix.reason}); write it like *.example.com`);
      else compiled.push({ id, host: rule.host, kind: 'wildcard', pattern: `.${suffix.name}`, ports });
      return;
    }
    const parsed = normalizeHost(raw);
    if (!parsed.ok) {
      problems.push(
        `${id}: "${rule.host}" is not a host name or IP address (${parsed.reason}); write a name such as api.example.com, *.example.com or an address (ports go in "ports")`,
      );
      return;
    }
    compiled.push({ id, host: rule.host, kind: parsed.isIp ? 'ip' : 'name', pattern: parsed.host, ports });
  });
  return { rules: compiled, problems };
}

/** The first rule allowing this target, or why none does. */
export function matchTarget(rules: readonly CompiledRule[], target: Target): MatchResult {
  let hostMatched: CompiledRule | undefined;
  for (const rule of rules) {
    if (!hostMatches(rule, target)) continue;
    if (rule.ports.includes(target.port)) return { allowed: true, rule };
    hostMatched ??= rule;
  }
  if (hostMatched) {
    return {
      allowed: false,
      reason: `port ${target.port} of ${target.host} is not allowed (${hostMatched.id} allows ports ${hostMatched.ports.join(', ')})`,
    };
  }
  return { allowed: false, reason: `${target.host} is not in the policy's network allow-list` };
}

function hostMatches(rule: CompiledRule, target: Target): boolean {
  switch (rule.kind) {
    case 'ip':
      return target.isIp && target.host === rule.pattern;
    case 'name':
      return !target.isIp && target.host === rule.pattern;
    case 'wildcard':
      return !target.isIp && target.host.endsWith(rule.pattern) && target.host.length > rule.pattern.length;
  }
}

/**
 * Parses a CONNECT authority (`host:port`, `[v6]:port`). The port is required: a CONNECT
 * without one is malformed, and guessing it would be a decision the policy did not make.
 */
export function parseAuthority(authority: string): TargetParse {
  const text = authority.trim();
  let hostPart: string;
  let portPart: string;
  if (text.startsWith('[')) {
    const close = text.indexOf(']');
    if (close < 0) return { ok: false, reason: `"${authority}" has an unclosed [` };
    hostPart = text.slice(1, close);
    const rest = text.slice(close + 1);
    if (!rest.startsWith(':')) return { ok: false, reason: `"${authority}" has no :port after the address` };
    portPart = rest.slice(1);
    if (isIP(hostPart) !== 6) return { ok: false, reason: `"${hostPart}" in brackets is not an IPv6 address` };
  } else {
    const colon = text.lastIndexOf(':');
    if (colon < 0) return { ok: false, reason: `"${authority}" has no :port` };
    hostPart = text.slice(0, colon);
    portPart = text.slice(colon + 1);
    if (hostPart.includes(':')) return { ok: false, reason: `"${authority}": an IPv6 address must be written in brackets, [addr]:port` };
  }
  const port = parsePort(portPart);
  if (port === undefined) return { ok: false, reason: `"${portPart}" is not a port (1-65535)` };
  const host = normalizeHost(hostPart);
  if (!host.ok) return { ok: false, reason: host.reason };
  return { ok: true, target: { host: host.host, port, isIp: host.isIp } };
}

/** The target of an absolute-form request (`GET http://host:port/path`); only http: is proxied this way. */
export function parseAbsoluteUrl(requestTarget: string): TargetParse & { path?: string } {
  let url: URL;
  try {
    url = new URL(requestTarget);
  } catch {
    return {
      ok: false,
      reason: `"${truncate(requestTarget)}" is not an absolute URL; send requests through the proxy as CONNECT host:port or GET http://host/...`,
    };
  }
  if (url.protocol !== 'http:')
    return { ok: false, reason: `only http: URLs are proxied as plain requests (got ${url.protocol}); HTTPS goes through CONNECT` };
  if (url.username || url.password) return { ok: false, reason: 'credentials in the URL are not forwarded' };
  const port = url.port === '' ? 80 : Number(url.port);
  const host = normalizeHost(url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname);
  if (!host.ok) return { ok: false, reason: host.reason };
  return { ok: true, target: { host: host.host, port, isIp: host.isIp }, path: `${url.pathname}${url.search}` };
}

function parsePort(text: string): number | undefined {
  if (!/^\d{1,5}$/.test(text)) return undefined;
  const port = Number(text);
  return port >= 1 && port <= 65535 ? port : undefined;
}

type HostParse = { ok: true; host: string; isIp: boolean } | { ok: false; reason: string };

/** A host as a connect would see it: canonical IP, or a lowercased name without trailing dot. */
export function normalizeHost(raw: string): HostParse {
  const text = raw.startsWith('[') && raw.endsWith(']') ? raw.slice(1, -1) : raw;
  if (text.length === 0) return { ok: false, reason: 'the host is empty' };
  if (isIP(text) === 6) {
    const canonical = new URL(`http://[${text}]/`).hostname.slice(1, -1);
    return { ok: true, host: canonical, isIp: true };
  }
  // Only what a name or an IPv4 address can hold: no userinfo, path, port or escapes for the URL parser to reinterpret.
  if (!/^[A-Za-z0-9._-]+$/.test(text)) return { ok: false, reason: `"${text}" is not a host name` };
  // WHATWG host parsing turns every IPv4 spelling (127.1, 0x7f.1, 2130706433) into dotted form.
  let parsed: string;
  try {
    parsed = new URL(`http://${text}/`).hostname;
  } catch {
    return { ok: false, reason: `"${text}" is not a host name` };
  }
  if (isIP(parsed) === 4) return { ok: true, host: parsed, isIp: true };
  const name = normalizeName(text);
  return name.ok ? { ok: true, host: name.name, isIp: false } : name;
}

function normalizeName(raw: string): { ok: true; name: string } | { ok: false; reason: string } {
  const name = raw.toLowerCase().replace(/\.$/, '');
  if (name.length === 0 || name.length > 253) return { ok: false, reason: 'a name must have 1 to 253 characters' };
  const labels = name.split('.');
  for (const label of labels) {
    if (!/^[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?$/.test(label)) return { ok: false, reason: `"${raw}" has an invalid label "${label}"` };
  }
  return { ok: true, name };
}

function truncate(text: string): string {
  return text.length > 80 ? `${text.slice(0, 80)}…` : text;
}
