import * as path from 'node:path';
import * as vscode from 'vscode';
import type { ReviewMode } from '../core/proposals/turns';
import { workspaceModeOr, type WorkspaceMode } from '../core/sandbox/types';

/** Typed reads of Warden's settings; the only place that knows their keys. */
export interface WardenSettings {
  /** Command line that starts an ACP agent inside the sandbox; empty means the built-in demo agent. */
  agentCommand: string;
  /** OpenTelemetry OTLP/HTTP logs URL for audit exports; undefined when not configured. */
  auditOtlp: { endpoint: string; headers: Record<string, string> } | undefined;
  /** Names of environment variables whose values are masked in the audit log, and extra regexes. */
  auditRedact: { envVars: string[]; patterns: string[] };
  /** How long a proposal waits for a reviewer before Warden rejects it (milliseconds, at least 10 s). */
  decisionTimeoutMs: number;
  /** Host environment variables that may enter the sandbox; undefined means Warden's default list. */
  environmentAllowList: string[] | undefined;
  /** How the agent sees the workspace: a private copy whose changes become proposals (default), or read-only. */
  workspaceMode: WorkspaceMode;
  /** `warden.review.mode` as set ('turn' or 'action'), or undefined: then the team policy decides (effectiveReviewMode). */
  reviewMode: ReviewMode | undefined;
}

export function readSettings(scope?: vscode.ConfigurationScope): WardenSettings {
  const config = vscode.workspace.getConfiguration('warden', scope);
  const agentCommand = config.get<unknown>('agent.command');
  const endpoint = config.get<unknown>('audit.otlp.endpoint');
  const rawHeaders = config.get<unknown>('audit.otlp.headers');
  const headers: Record<string, string> = {};
  if (rawHeaders && typeof rawHeaders === 'object')
    for (const [k, v] of Object.entries(rawHeaders)) if (typeof v === 'string') headers[k] = v;
  const strings = (value: unknown): string[] =>
    Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string' && v.trim() !== '') : [];
  return {
    auditRedact: {
      envVars: strings(config.get<unknown>('audit.redact.envVars')),
      patterns: strings(config.get<unknown>('audit.redact.patterns')),
    },
    agentCommand: typeof agentCommand === 'string' ? agentCommand : '',
    decisionTimeoutMs: decisionTimeoutMs(config.get<unknown>('review.decisionTimeoutSeconds')),
    environmentAllowList: Array.isArray(config.get<unknown>('sandbox.environmentAllowList'))
      ? strings(config.get<unknown>('sandbox.environmentAllowList'))
      : undefined,
    workspaceMode: workspaceModeOr(config.get<unknown>('sandbox.workspaceMode')),
    reviewMode: reviewModeSetting(config.get<unknown>('review.mode')),
    auditOtlp: typeof endpoint === 'string' && /^https?:\/\//.test(endpoint.trim()) ? { endpoint: endpoint.trim(), headers } : undefined,
  };
}

function reviewModeSetting(value: unknown): ReviewMode | undefined {
  return value === 'turn' || value === 'action' ? value : undefined;
}

/** A missing or nonsensical value falls back to 30 minutes; anything below 10 s is raised to 10 s. */
function decisionTimeoutMs(seconds: unknown): number {
  if (typeof seconds !== 'number' || !Number.isFinite(seconds)) return 30 * 60 * 1000;
  return Math.max(10, seconds) * 1000;
}

/**
 * `warden.sandbox.dockerHost` (machine scope): an engine URL or a Docker context name; and
 * `warden.sandbox.copiesFolder` (machine scope): where copies live. Undefined when empty.
 */
export function readSandboxSettings(): { dockerHost: string | undefined; copiesFolder: string | undefined } {
  const config = vscode.workspace.getConfiguration('warden.sandbox');
  const text = (key: string): string | undefined => {
    const value = config.get<unknown>(key);
    return typeof value === 'string' && value.trim() ? value.trim() : undefined;
  };
  const copiesFolder = text('copiesFolder');
  return { dockerHost: text('dockerHost'), copiesFolder: copiesFolder && path.isAbsolute(copiesFolder) ? copiesFolder : undefined };
}

/**
 * The copies folder reaches the core the way the CLI gives it, through WARDEN_COPIES_DIR
 * (read by copiesRoot at each start); an empty setting leaves the variable as it was.
 */
export function applyCopiesFolder(folder: string | undefined): void {
  if (folder) process.env.WARDEN_COPIES_DIR = folder;
}

/** The policy settings: `warden.policy.userRules` (tighten only) and `warden.policy.managedPolicyPath` (machine scope). */
export interface PolicySettings {
  userRules: Record<string, unknown> | undefined;
  managedPolicyPath: string | undefined;
}

export function readPolicySettings(scope?: vscode.ConfigurationScope): PolicySettings {
  const config = vscode.workspace.getConfiguration('warden.policy', scope);
  const userRules = config.get<unknown>('userRules');
  const managed = config.get<unknown>('managedPolicyPath');
  return {
    userRules: userRules && typeof userRules === 'object' && !Array.isArray(userRules) ? (userRules as Record<string, unknown>) : undefined,
    managedPolicyPath: typeof managed === 'string' && managed.trim() ? managed.trim() : undefined,
  };
}
