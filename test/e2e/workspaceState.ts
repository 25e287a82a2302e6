import { cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { repoRoot } from './harness';

/** What e2e tests read back from the opened workspace folder: the audit log and prepared fixtures. */

/** Polls a condition until it holds or the deadline passes (the UI acts asynchronously). */
export async function eventually<T>(what: string, probe: () => T | undefined | Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

export type AuditEntry = { type: string; sessionId: string; time: string; actor: { kind: string }; data: Record<string, unknown> };

/**
 * The segment files of every chain: the legacy ones at the top and one folder per session under
 * sessions/. Listed level by level, as Warden does: a recursive listing would also walk a
 * writer's lock folder, which can vanish mid-walk (ENOENT).
 */
export function auditSegmentFiles(folder: string): string[] {
  const dir = path.join(folder, '.warden', 'audit');
  const segments = (chainDir: string): string[] =>
    existsSync(chainDir)
      ? readdirSync(chainDir)
          .filter((name) => /^audit-\d{6,}\.jsonl$/.test(name))
          .sort()
          .map((name) => path.join(chainDir, name))
      : [];
  const sessions = path.join(dir, 'sessions');
  const chains = existsSync(sessions) ? readdirSync(sessions).sort() : [];
  return [...segments(dir), ...chains.flatMap((chain) => segments(path.join(sessions, chain)))];
}

/** Every entry of the workspace's audit log, oldest first. */
export function auditEntries(folder: string): AuditEntry[] {
  return auditSegmentFiles(folder)
    .flatMap((file) => readFileSync(file, 'utf8').split('\n').filter(Boolean))
    .map((line) => JSON.parse(line) as AuditEntry)
    .sort((a, b) => a.time.localeCompare(b.time));
}

/** The demo workspace with a greet.js long enough that the demo agent's header and footer ("document greet.js") are two hunks. */
export function twoHunkWorkspace(name = 'greeter'): { folder: string; dispose(): void } {
  const temp = mkdtempSync(path.join(os.tmpdir(), 'warden-e2e-src-'));
  const folder = path.join(temp, name);
  cpSync(path.join(repoRoot, 'test', 'fixtures', 'workspaces', 'demo'), folder, { recursive: true });
  const greetPath = path.join(folder, 'src', 'greet.js');
  const helpers = Array.from({ length: 8 }, (_, i) => `const GREETING_${i + 1} = 'Hello';`).join('\n');
  writeFileSync(greetPath, readFileSync(greetPath, 'utf8').replace('module.exports', `${helpers}\n\nmodule.exports`));
  return { folder, dispose: () => rmSync(temp, { recursive: true, force: true }) };
}
